"""A real server process on 127.0.0.1: exactly-once under concurrent load, and durability across SIGKILL."""

import asyncio
import os
import random
import signal

import msgspec
import pytest
import sqlalchemy as sa

from conftest import make_settings
from market.devtools import simulate as sim
from server_process import free_port, serve, stop

pytestmark = pytest.mark.slow

SECRETS = {
    "MARKET_PAYOS_CHECKSUM_KEY": "payos-key",
    "MARKET_SEPAY_WEBHOOK_SECRET": "sepay-secret",
    "MARKET_CASSO_SECRET": "casso-secret",
    "MARKET_GENERIC_WEBHOOK_SECRET": "generic-secret",
}
SENDER = make_settings("sqlite:///unused.db", **{k.removeprefix("MARKET_").lower(): v for k, v in SECRETS.items()})


def _journal_keys(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT provider, provider_txn_id FROM notification_journal")).all()
    return [(provider, txn) for provider, txn in rows]


def test_ten_thousand_deliveries_with_retries_are_journalled_exactly_once(database_url, engine):
    deliveries = sim.plan(list(sim.PROVIDERS), 10_000, 0.3, seed=20261128)
    unique = {sim.provider_key(t) for t in deliveries}
    assert len(unique) == 7000
    port = free_port()
    server = serve(database_url, port, **SECRETS)
    try:
        report = asyncio.run(sim.send(f"http://127.0.0.1:{port}", deliveries, SENDER, concurrency=16, max_seconds=240))
    finally:
        stop(server)
    assert (report.sent, report.acknowledged, report.rejected, report.transport_errors) == (10_000, 10_000, {}, 0)
    keys = _journal_keys(engine)
    assert len(keys) == len(unique)
    assert set(keys) == unique


def test_every_acknowledged_delivery_survives_sigkill_and_resending_adds_nothing(database_url, engine):
    deliveries = sim.plan(list(sim.PROVIDERS), 2500, 0.2, seed=7)
    unique = {sim.provider_key(t) for t in deliveries}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(database_url, port, **SECRETS)

    async def send_and_kill():
        sending = asyncio.create_task(sim.send(url, deliveries, SENDER, concurrency=16, max_seconds=120))
        # Kill mid-stream: once the journal holds some rows, well before the run can finish.
        while len(await asyncio.to_thread(_journal_keys, engine)) < 300:  # noqa: ASYNC110 - polls another process
            await asyncio.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        return await sending

    try:
        report = asyncio.run(send_and_kill())
    finally:
        stop(server)
    server.wait()
    acknowledged = {sim.provider_key(o.transfer) for o in report.outcomes if 200 <= o.status < 300}
    assert 300 <= len(acknowledged) < len(unique), "the kill did not land mid-stream"
    assert report.transport_errors > 0
    assert acknowledged <= set(_journal_keys(engine)), "an acknowledged notification was lost"

    server = serve(database_url, port, **SECRETS)
    try:
        resent = asyncio.run(sim.send(url, deliveries, SENDER, concurrency=16, max_seconds=120))
        assert resent.acknowledged == len(deliveries)
        keys = _journal_keys(engine)
        assert len(keys) == len(unique)
        again = asyncio.run(sim.send(url, deliveries, SENDER, concurrency=16, max_seconds=120))
        assert again.acknowledged == len(deliveries)
    finally:
        stop(server)
    assert sorted(_journal_keys(engine)) == sorted(keys)


def test_the_same_credits_through_three_providers_at_once_keep_one_original_each(database_url, engine):
    # Each bank credit arrives through SePay, Casso and the generic format, all at once: the
    # journal stores every delivery, exactly one copy of each credit as the original (its first),
    # the others as its duplicates; sending everything again adds nothing.
    credits = sim.plan(["sepay"], 400, 0.0, seed=20261129)
    deliveries = [msgspec.structs.replace(t, provider=p) for t in credits for p in ("sepay", "casso", "generic")]
    random.Random(5).shuffle(deliveries)
    port = free_port()
    server = serve(database_url, port, **SECRETS)
    try:
        url = f"http://127.0.0.1:{port}"
        report = asyncio.run(sim.send(url, deliveries, SENDER, concurrency=32, max_seconds=240))
        again = asyncio.run(sim.send(url, deliveries, SENDER, concurrency=32, max_seconds=240))
    finally:
        stop(server)
    assert (report.acknowledged, again.acknowledged) == (len(deliveries), len(deliveries))
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, account_number, bank_reference, status, duplicate_of FROM notification_journal")
        ).all()
    assert len(rows) == len(deliveries)
    by_credit: dict[tuple[str, str], list[tuple[int, str, int | None]]] = {}
    for row_id, account, reference, status, first in rows:
        by_credit.setdefault((account, reference), []).append((row_id, status, first))
    assert set(by_credit) == {(t.account_number, t.bank_reference) for t in credits}
    for copies in by_credit.values():
        original, *others = sorted(copies)
        assert original[1] != "duplicate"
        assert original[2] is None
        assert [(status, first) for _, status, first in others] == [("duplicate", original[0])] * 2
