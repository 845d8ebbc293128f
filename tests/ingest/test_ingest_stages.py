"""The benchmark's stage endpoints (benchmarks/webhook_stages.py) still do what their figures claim.

``instructions_webhooks.py --stages`` subtracts these endpoints' instructions from each other: the
figures mean something only while each stage runs the production code it names, and the
journal is written by the real webhook alone.
"""

import concurrent.futures
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from conftest import make_settings
from market.devtools import simulate as sim

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import webhook_stages  # found through the line above

SECRET = "stage-secret"


@pytest.fixture
def stages(database_url):
    settings = make_settings(database_url, run_matcher=False, generic_webhook_secret=SECRET)
    with TestClient(app=webhook_stages.stages_app(settings)) as client:
        yield client


def _journal_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM notification_journal")).scalar_one()


def _delivery(seed):
    transfer = sim.plan(["generic"], 1, 0.0, seed)[0]
    return sim.render(transfer, make_settings("sqlite:///x.db", generic_webhook_secret=SECRET))


def test_each_stage_answers_and_only_the_webhook_journals(stages, engine):
    _, body, headers = _delivery(1)
    for path in ("/webhooks/_noop", "/webhooks/_read", "/webhooks/_verify_generic", "/webhooks/_suspend"):
        response = stages.post(path, content=body, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.json() == {"success": True}
    assert _journal_rows(engine) == 0

    assert stages.post("/webhooks/generic", content=body, headers=headers).status_code == 200
    assert _journal_rows(engine) == 1


def test_the_verify_stage_runs_the_adapter(stages):
    _, body, headers = _delivery(2)
    forged = body.replace(b'"amount": ', b'"amount": 1')
    response = stages.post("/webhooks/_verify_generic", content=forged, headers=headers)
    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]


@pytest.mark.timeout(60)  # a waiter never released hangs its request
def test_many_waiters_of_the_empty_group_commit_are_all_released(stages):
    # Concurrent requests join one batch; each must be answered, none left waiting.
    _, body, headers = _delivery(3)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: stages.post("/webhooks/_suspend", content=body, headers=headers).status_code, range(32))
        )
    assert answers == [200] * 32
