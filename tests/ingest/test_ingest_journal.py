"""The journal writer on both databases: one batch stores each notification once and marks a credit's
second copy; a delivery waits while another transaction holds the journal, and is told to retry if
that lasts too long; stopping writes what is already waiting."""

import asyncio
import datetime as dt
import threading

import msgspec
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import make_settings
from market.db import create_sync_engine_for, migrate
from market.devtools import simulate as sim
from market.errors import UnavailableError
from market.reconcile.ingest.adapters import Accepted, ForgedRequestError, StaleRequestError, generic
from market.reconcile.ingest.journal import Incoming, JournalWriter, Stored, write_batch
from market.reconcile.ingest.journal import sqlite as journal_sqlite
from market.reconcile.ingest.journal import writer as journal_writer
from market.reconcile.ingest.journal.batch import _run_blocking, write_steps
from market.reconcile.ingest.journal.rows import sql_for
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.notification import Notification

NOW = dt.datetime(2025, 6, 1, 2, 15, 42, 123456, tzinfo=dt.UTC)


def _delivery(provider, txn, reference, account="0123456789"):
    notification = Notification(
        provider=provider,
        provider_txn_id=txn,
        amount=50_000,
        direction="in",
        memo="PAB3K7QX9 chuyen tien",
        transferred_at=NOW,
        received_at=NOW,
        bank_reference=reference,
        account_number=account,
    )
    return Incoming(notification=notification, raw_body=b"{}", raw_headers={"user-agent": "t"}, auth="hmac-sha256")


def _journal(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, provider, provider_txn_id, status, duplicate_of FROM notification_journal")
        ).all()
    return {(provider, txn): (row_id, status, duplicate_of) for row_id, provider, txn, status, duplicate_of in rows}


def test_a_batch_stores_each_notification_once_and_marks_second_copies(engine):
    with engine.begin() as conn:
        (earlier,) = write_batch(conn, [_delivery("sepay", "1", "FT-A")])
    batch = [
        _delivery("sepay", "1", "FT-A"),  # SePay retries the earlier delivery
        _delivery("sepay", "2", "FT-B"),  # a new credit...
        _delivery("sepay", "2", "FT-B"),  # ...and its retry, in the same batch
        _delivery("casso", "9", "FT-A"),  # the earlier credit again, through Casso
        _delivery("payos", "FT-B", "FT-B"),  # this batch's new credit again, through payOS
        _delivery("generic", "g", "FT-B", account="999"),  # same reference, another account: another credit
    ]
    with engine.begin() as conn:
        stored = write_batch(conn, batch)
    new = stored[1]
    assert stored[0] == Stored(id=earlier.id, created=False)
    assert new.created
    assert stored[2] == Stored(id=new.id, created=False)
    assert stored[3].created
    assert stored[3].duplicate_of == earlier.id
    assert stored[4].duplicate_of == new.id
    assert stored[5].created
    assert stored[5].duplicate_of is None
    journal = _journal(engine)
    assert len(journal) == 5
    assert journal[("sepay", "1")] == (earlier.id, "pending", None)
    assert journal[("sepay", "2")] == (new.id, "pending", None)
    assert journal[("casso", "9")] == (stored[3].id, "duplicate", earlier.id)
    assert journal[("payos", "FT-B")] == (stored[4].id, "duplicate", new.id)
    assert journal[("generic", "g")][1:] == ("pending", None)
    # The times read back through the model's column type as they went in (the writer encodes them itself).
    column = JournalEntry.__table__.c
    with engine.connect() as conn:
        times = conn.execute(sa.select(column.transferred_at, column.received_at).where(column.id == new.id)).one()
    assert tuple(times) == (NOW, NOW)


_DELIVERIES = st.lists(
    st.tuples(
        st.sampled_from(["sepay", "casso", "generic"]),
        st.sampled_from("123"),
        st.sampled_from(["FT-A", "FT-B", "FT-C", None]),
        st.sampled_from(["111", "222"]),
    ),
    max_size=8,
)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(_DELIVERIES, min_size=1, max_size=3))
def test_batches_agree_with_the_rules_of_the_journal(batches):
    # The rules, written plainly: a key is stored once, by its first delivery; a stored credit whose
    # (account, reference) an earlier stored credit already had is a duplicate of that one.
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    JournalEntry.metadata.create_all(engine)
    first_id: dict[tuple[str, str], int] = {}
    credit_of: dict[tuple[str, str], int] = {}
    for batch in batches:
        with engine.begin() as conn:
            stored = write_batch(conn, [_delivery(p, t, r, account=a) for p, t, r, a in batch])
        for (provider, txn, reference, account), result in zip(batch, stored, strict=True):
            key = (provider, txn)
            if key in first_id:
                assert (result.id, result.created) == (first_id[key], False)
                continue
            assert result.created
            first_id[key] = result.id
            if reference is not None:
                earliest = credit_of.setdefault((account, reference), result.id)
                assert result.duplicate_of == (earliest if earliest != result.id else None)
            else:
                assert result.duplicate_of is None
    journal = _journal(engine)
    assert {key: row[0] for key, row in journal.items()} == first_id
    assert all((row[1] == "duplicate") == (row[2] is not None) for row in journal.values())


def _lock_journal(conn):
    """Hold the journal the way another writer would, until ``conn`` rolls back."""
    if conn.dialect.name == "sqlite":
        conn.execution_options(sqlite_immediate=True).begin()  # SQLite's one write lock
    else:
        conn.begin()
        conn.exec_driver_sql("LOCK TABLE notification_journal IN EXCLUSIVE MODE")


def test_a_delivery_waits_while_another_transaction_holds_the_journal(settings, engine):
    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings), wait_seconds=5)
        await writer.start()
        try:
            with engine.connect() as other:
                _lock_journal(other)
                waiting = asyncio.create_task(writer.append(_delivery("sepay", "1", "FT-A")))
                await asyncio.sleep(0.3)
                assert not waiting.done()
                other.rollback()
            return await asyncio.wait_for(waiting, 5)
        finally:
            await writer.stop()

    stored = asyncio.run(scenario())
    assert stored.created
    assert _journal(engine)[("sepay", "1")][0] == stored.id


def test_a_delivery_held_up_too_long_is_told_to_retry(settings, engine):
    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings), wait_seconds=0.4)
        await writer.start()
        try:
            with engine.connect() as other:
                _lock_journal(other)
                with pytest.raises(UnavailableError, match="retry"):
                    await asyncio.wait_for(writer.append(_delivery("sepay", "1", "FT-A")), 5)
                other.rollback()
            # The journal is free again: the provider's retry goes through.
            return await asyncio.wait_for(writer.append(_delivery("sepay", "1", "FT-A")), 5)
        finally:
            await writer.stop()

    assert asyncio.run(scenario()).id == _journal(engine)[("sepay", "1")][0]


def _test_event(body, headers, settings, received_at):
    return Accepted(notification=None, auth="hmac-sha256")


def _buggy_adapter(body, headers, settings, received_at):
    raise KeyError("amount")


def _exhausted_adapter(body, headers, settings, received_at):
    raise StopIteration  # a future cannot hold one: it must not stall the batch


def _signed_generic(settings, count, seed):
    """``count`` signed generic deliveries: (body, headers as the server hands them over)."""
    requests = [sim.render(t, settings) for t in sim.plan(["generic"], count, 0.0, seed=seed)]
    return [(body, {k.lower(): v for k, v in headers.items()}) for _, body, headers in requests]


def _forged(delivery):
    body, headers = delivery
    return body.replace(b'"amount": ', b'"amount": 1'), headers


def _txn(delivery):
    return msgspec.json.decode(delivery[0])["id"]


def test_deliveries_are_verified_in_the_batch_and_each_gets_its_own_answer(database_url, engine):
    settings = make_settings(database_url, generic_webhook_secret="batch-secret")
    first, second, third, other, late = _signed_generic(settings, 5, seed=5)

    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings))
        await writer.start()
        try:
            now = dt.datetime.now(dt.UTC)
            futures = [
                writer.submit_delivery(generic.parse, *first, settings, now),
                writer.submit_delivery(generic.parse, *_forged(other), settings, now),
                writer.submit_delivery(generic.parse, *second, settings, now),
                writer.submit_delivery(_test_event, b"{}", {}, settings, now),
                writer.submit_delivery(_buggy_adapter, b"{}", {}, settings, now),
                writer.submit_delivery(generic.parse, *late, settings, now + dt.timedelta(minutes=6)),
                writer.submit_delivery(_exhausted_adapter, b"{}", {}, settings, now),
                writer.submit_delivery(generic.parse, *third, settings, now),
            ]
            assert not any(f.done() for f in futures)  # verified when the batch is taken, not before
            return await asyncio.gather(*futures, return_exceptions=True)
        finally:
            await writer.stop()

    one, refused, two, test_event, bug, stale, exhausted, three = asyncio.run(scenario())
    assert isinstance(refused, ForgedRequestError)
    assert refused.__traceback__ is None  # nothing of the batch kept alive through it
    assert test_event is None
    assert isinstance(bug, KeyError)  # the adapter's own error, as if it had run in the request
    assert isinstance(stale, StaleRequestError)
    assert isinstance(exhausted, RuntimeError)
    assert "StopIteration" in str(exhausted)
    journal = _journal(engine)
    # Each stored delivery got its own row, in the order of arrival, and nothing else was stored.
    assert [s.created for s in (one, two, three)] == [True, True, True]
    assert one.id < two.id < three.id
    assert {key: row[0] for key, row in journal.items()} == {
        ("generic", _txn(first)): one.id,
        ("generic", _txn(second)): two.id,
        ("generic", _txn(third)): three.id,
    }
    with engine.connect() as conn:
        body, headers = conn.execute(
            sa.text("SELECT raw_body, raw_headers FROM notification_journal WHERE id = :id"), {"id": two.id}
        ).one()
    assert bytes(body) == second[0]
    kept = headers if isinstance(headers, dict) else msgspec.json.decode(headers)
    assert kept == {"content-type": "application/json", "x-market-signature": second[1]["x-market-signature"]}


def test_refusals_and_test_events_are_answered_while_the_journal_is_held(database_url, engine):
    settings = make_settings(database_url, generic_webhook_secret="batch-secret")
    waiting, forged, later = _signed_generic(settings, 3, seed=6)

    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings), max_batch=2, wait_seconds=10)
        await writer.start()
        try:
            now = dt.datetime.now(dt.UTC)
            with engine.connect() as other:
                _lock_journal(other)
                held = writer.submit_delivery(generic.parse, *waiting, settings, now)
                await asyncio.sleep(0.2)  # its batch is now waiting for the journal
                answered = [
                    writer.submit_delivery(generic.parse, *later, settings, now),  # fills the batch (max 2)
                    writer.submit_delivery(generic.parse, *_forged(forged), settings, now),
                    writer.submit_delivery(_test_event, b"{}", {}, settings, now),
                ]
                refusal = await asyncio.wait_for(asyncio.gather(*answered[1:], return_exceptions=True), 2)
                assert not held.done()
                assert not answered[0].done()
                other.rollback()
            return refusal, await asyncio.wait_for(asyncio.gather(held, answered[0]), 5)
        finally:
            await writer.stop()

    (refused, test_event), stored = asyncio.run(scenario())
    assert isinstance(refused, ForgedRequestError)
    assert test_event is None
    assert all(s.created for s in stored)
    assert set(_journal(engine)) == {("generic", _txn(waiting)), ("generic", _txn(later))}


def test_a_flood_of_forged_deliveries_is_verified_a_batch_at_a_time(database_url, engine):
    settings = make_settings(database_url, generic_webhook_secret="batch-secret")
    *forged, good = _signed_generic(settings, 6, seed=7)

    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings), max_batch=2)
        await writer.start()
        try:
            now = dt.datetime.now(dt.UTC)
            futures = [writer.submit_delivery(generic.parse, *_forged(d), settings, now) for d in forged]
            futures.append(writer.submit_delivery(generic.parse, *good, settings, now))
            answered = []
            for _ in range(3):  # one flush per loop iteration, each verifying at most max_batch
                await asyncio.sleep(0)
                answered.append(sum(f.done() for f in futures))
            return answered, await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 5)
        finally:
            await writer.stop()

    answered, outcomes = asyncio.run(scenario())
    # The third flush verifies the last forged one and the good one (written there on SQLite,
    # sent to PostgreSQL).
    assert answered[:2] == [2, 4]
    assert answered[2] >= 5
    assert all(isinstance(o, ForgedRequestError) for o in outcomes[:5])
    assert outcomes[5].created
    assert set(_journal(engine)) == {("generic", _txn(good))}


def test_stopping_writes_what_is_waiting_and_refuses_the_rest(settings, engine):
    async def scenario():
        writer = JournalWriter(create_sync_engine_for(settings))
        await writer.start()
        waiting = [asyncio.create_task(writer.append(_delivery("sepay", str(n), f"FT{n}"))) for n in range(50)]
        await asyncio.sleep(0)  # every request has handed over its row
        await writer.stop()
        with pytest.raises(UnavailableError, match="stopping"):
            await writer.append(_delivery("sepay", "late", "FT-LATE"))
        return await asyncio.gather(*waiting)

    stored = asyncio.run(scenario())
    assert all(s.created for s in stored)
    assert sorted(txn for _, txn in _journal(engine)) == sorted(str(n) for n in range(50))


def test_sqlite_wal_is_checkpointed_in_the_background_and_stays_small(tmp_path, monkeypatch):
    # The event loop no longer checkpoints (it stalled for the disk); a thread does, often enough
    # that the WAL file is reused instead of growing with everything ever ingested.
    monkeypatch.setattr(journal_sqlite, "_CHECKPOINT_ROWS", 100)
    path = tmp_path / "market.db"
    settings = make_settings(f"sqlite:///{path}")
    migrate(settings)
    engine = create_sync_engine_for(settings)
    big = b"x" * 2000  # ~1 page per row: 3,000 rows would make a 12 MB WAL without checkpoints

    async def scenario():
        writer = JournalWriter(engine)
        await writer.start()
        try:
            for start in range(0, 3000, 100):
                batch = [_delivery("generic", str(n), f"FT{n}") for n in range(start, start + 100)]
                await asyncio.gather(
                    *(writer.append(Incoming(**{**msgspec.structs.asdict(i), "raw_body": big})) for i in batch)
                )
                await asyncio.sleep(0.02)  # the checkpoint thread's turn (it also runs while SQLite writes)
            assert any(t.name == "journal-checkpoint" for t in threading.enumerate())
            # Measured while the writer runs: the last connection to close deletes the WAL.
            return path.with_name(path.name + "-wal").stat().st_size
        finally:
            await writer.stop()

    wal_bytes = asyncio.run(scenario())
    try:
        assert len(_journal(engine)) == 3000
        assert wal_bytes < 3_000_000
        assert not any(t.name == "journal-checkpoint" for t in threading.enumerate())  # stopped with the writer
    finally:
        engine.dispose()


@pytest.fixture
def postgres_engine(postgres_database):
    """A blocking engine on an empty PostgreSQL journal, for the tests of PostgreSQL's own writer."""
    engine = create_sync_engine_for(make_settings(postgres_database))
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE notification_journal RESTART IDENTITY CASCADE")
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_connection_lost_while_idle_is_replaced_without_a_503(postgres_engine):
    # PostgreSQL restarted (or a proxy dropped the idle connection) between two deliveries: the
    # writer's next transaction fails to send, and it retries once on a fresh connection.
    engine = postgres_engine

    async def scenario():
        writer = JournalWriter(engine)
        await writer.start()
        try:
            first = await writer.append(_delivery("sepay", "1", "FT1"))
            with engine.begin() as conn:  # cut every other connection to this database
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            second = await writer.append(_delivery("sepay", "2", "FT2"))
            return first, second
        finally:
            await writer.stop()

    first, second = asyncio.run(scenario())
    assert first.created
    assert second.created
    assert set(_journal(engine)) == {("sepay", "1"), ("sepay", "2")}


@pytest.mark.postgres
def test_postgresql_transactions_in_flight_together_each_commit_their_own_rows(postgres_engine, monkeypatch):
    # Two batches written at once must not share a connection: the second would become a
    # savepoint inside the first and be acknowledged on the first one's fate.
    monkeypatch.setattr(journal_writer, "_POSTGRESQL_IN_FLIGHT", 2)
    engine = postgres_engine

    async def scenario(holder):
        writer = JournalWriter(engine)
        await writer.start()
        try:
            first = asyncio.gather(*(writer.append(_delivery("sepay", f"a{n}", f"FTA{n}")) for n in range(30)))
            await asyncio.sleep(0.3)  # the first batch's INSERT now waits for the holder's uncommitted a0
            second = asyncio.gather(*(writer.append(_delivery("casso", f"b{n}", f"FTB{n}")) for n in range(30)))
            await asyncio.sleep(0.3)  # the second batch is in flight beside it
            holder.rollback()
            return [*(await first), *(await second)]
        finally:
            await writer.stop()

    with engine.connect() as holder:
        holder.begin()
        write_batch(holder, [_delivery("sepay", "a0", "FTA0")])  # the same key, not committed
        stored = asyncio.run(scenario(holder))
    assert all(s.created for s in stored)
    journal_rows = _journal(engine)
    assert len(journal_rows) == 60
    assert sorted(s.id for s in stored) == sorted(row_id for row_id, _, _ in journal_rows.values())


@pytest.mark.postgres
def test_postgresql_workers_storing_two_copies_of_a_credit_at_once_keep_one_original(postgres_engine):
    # Two worker processes, each with its own transaction: the second copy's INSERT waits for the
    # first copy's commit (the unique index of bank credits), then stores itself as its duplicate.
    engine = postgres_engine
    outcome: list[Stored] = []
    with engine.connect() as first_worker:
        first_worker.begin()
        (original,) = write_batch(first_worker, [_delivery("sepay", "1", "FT-A")])

        def second_worker():
            with engine.begin() as conn:
                outcome.extend(write_batch(conn, [_delivery("casso", "9", "FT-A")]))

        thread = threading.Thread(target=second_worker)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second copy did not wait for the first one's transaction"
        first_worker.commit()
    thread.join(10)
    (copy,) = outcome
    assert copy.created
    assert copy.duplicate_of == original.id
    assert _journal(engine) == {
        ("sepay", "1"): (original.id, "pending", None),
        ("casso", "9"): (copy.id, "duplicate", original.id),
    }


@pytest.mark.postgres
def test_postgresql_workers_storing_the_same_credits_in_opposite_orders_all_get_their_rows(postgres_engine):
    # Two workers' batches hold the same 1,000 credits, one through SePay in one order, the other
    # through Casso in the reverse order: each waits for the other's index entries, and PostgreSQL
    # ends one statement to break the deadlock. That batch is written again: no delivery gets a
    # 503, each credit keeps one original, and every request is answered with its own row.
    engine = postgres_engine

    async def scenario():
        first, second = JournalWriter(engine), JournalWriter(engine)
        await first.start()
        await second.start()
        try:
            sepay = [_delivery("sepay", f"s{n}", f"FT{n}") for n in range(1000)]
            casso = [_delivery("casso", f"c{n}", f"FT{n}") for n in reversed(range(1000))]
            return await asyncio.gather(
                *(first.append(item) for item in sepay),
                *(second.append(item) for item in casso),
                return_exceptions=True,
            )
        finally:
            await first.stop()
            await second.stop()

    outcomes = asyncio.run(scenario())
    assert [type(outcome) for outcome in outcomes] == [Stored] * 2000
    journalled = _journal(engine)
    keys = [*(("sepay", f"s{n}") for n in range(1000)), *(("casso", f"c{n}") for n in reversed(range(1000)))]
    assert [outcome.id for outcome in outcomes] == [journalled[key][0] for key in keys]
    statuses = [status for _, status, _ in journalled.values()]
    assert (statuses.count("pending"), statuses.count("duplicate")) == (1000, 1000)


@pytest.mark.postgres
def test_postgresql_a_copy_another_worker_stores_first_is_answered_as_stored(postgres_engine):
    # A provider's retry of a second copy reaches two workers: the second finds the key free when
    # it looks, the first stores the copy, then the second's insert of it finds the key taken.
    engine = postgres_engine
    with engine.begin() as conn:
        (original,) = write_batch(conn, [_delivery("sepay", "1", "FT-A")])
    sql = sql_for(engine.dialect)
    with engine.connect() as late:
        driver = late.connection.driver_connection
        cursor = driver.cursor()

        def run(query):  # each statement committed on its own, as the writer's autocommit
            answer = _run_blocking(cursor, query)
            driver.commit()
            return answer

        steps = write_steps(sql, [_delivery("casso", "9", "FT-A")])
        query = next(steps)
        while query[0] != sql.insert_copy:  # the INSERT skipped it, its key is not journalled yet
            query = steps.send(run(query))
        with engine.begin() as conn:
            (first,) = write_batch(conn, [_delivery("casso", "9", "FT-A")])
        answered = None
        while answered is None:
            try:
                query = steps.send(run(query))
            except StopIteration as done:
                answered = done.value
    assert first.created
    assert first.duplicate_of == original.id
    assert answered == [Stored(id=first.id, created=False, duplicate_of=original.id)]
    assert len(_journal(engine)) == 2
