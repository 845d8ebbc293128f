"""Alembic environment: runs the package's migrations on the configured database (sync driver)."""

from __future__ import annotations

import importlib

from alembic import context

from market.config import load_settings
from market.db import Base, create_sync_engine_for

# Every package that owns tables keeps them in ``<package>.models``; importing them fills the metadata
# that autogenerate compares against.
_MODEL_MODULES = (
    "market.merchants.models",
    "market.payments.models",
    "market.reconcile.ingest.models",
    "market.reconcile.ledger.models",
    "market.adoption.models",
    "market.access.models",
)
for _name in _MODEL_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a package without tables yet
        if not (_name == exc.name or _name.startswith(f"{exc.name}.")):
            raise

target_metadata = Base.metadata


def run_migrations() -> None:
    settings = context.config.attributes.get("market_settings") or load_settings()
    engine = create_sync_engine_for(settings)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `market db upgrade`")
run_migrations()
