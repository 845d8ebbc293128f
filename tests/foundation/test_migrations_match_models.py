"""The migrations build exactly the schema the models describe, on both databases."""

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from market.db import Base

# Every package's tables, imported here so that the comparison does not depend on what other tests imported.
MODEL_MODULES = (
    "market.merchants.models",
    "market.reconcile.ingest.models",
    "market.reconcile.ledger.models",
    "market.adoption.models",
    "market.access.models",
)


@pytest.fixture(autouse=True, scope="module")
def _all_models():
    for name in MODEL_MODULES:
        importlib.import_module(name)


def test_no_drift_between_models_and_migrations(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
