"""``GET /api/stream/{stall}`` from a real server process, on SQLite and PostgreSQL: a receipt written
to the ledger reaches the stall's open stream as one ``payment`` event, and a reconnecting client
resumes where it stopped (``Last-Event-ID`` / ``?since=``)."""

import datetime as dt
import json
import time

import httpx
import pytest
from web_pages_helpers import add_receipt, add_stall, sse_events

from credentials import bearer
from server_process import free_port, serve, stop

pytestmark = pytest.mark.slow

# Events arrive within a poll (1 s); the read timeout bounds a test that would otherwise hang.
READ = httpx.Timeout(10.0)


@pytest.fixture
def server(engine, database_url):
    add_stall(engine, "A-12", "Nguyễn Thị Đào", n=1)
    add_stall(engine, "B-03", "Trần Văn Bình", n=2)
    port = free_port()
    process = serve(database_url, port)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture
def auth(engine):
    """The stream is the stall's and the office's: the tests call it as the office."""
    return bearer(engine, "office", "office")


def _next(events, kind):
    """The next block of type ``kind`` (``payment``, or ``open`` for the block that opens the stream)."""
    for block in events:
        if kind == "open" and "retry" in block:
            return block
        if block.get("event") == kind:
            return block
    raise AssertionError("the stream ended")


def test_a_receipt_written_to_the_ledger_arrives_once_as_a_payment_event(server, engine, auth):
    add_receipt(engine, "A-12", 20_000)  # before connecting: not "from now"
    with httpx.stream("GET", f"{server}/api/stream/a12", timeout=READ, headers=auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.iter_lines())
        assert _next(events, "open")["retry"] == "3000"
        add_receipt(engine, "B-03", 7_000)  # another stall's payment
        at = dt.datetime(2026, 11, 28, 7, 5, 9, tzinfo=dt.UTC)
        receipt = add_receipt(engine, "A-12", 50_000, payer="LE THI HOA", memo="A12 ca loc", at=at)
        started = time.monotonic()
        event = _next(events, "payment")
        assert time.monotonic() - started < 5
        assert event["id"] == str(receipt)
        assert json.loads(event["data"]) == {
            "receipt_id": receipt,
            "amount": 50_000,
            "occurred_at": "2026-11-28T07:05:09Z",
            "payer": "LE THI HOA",
            "memo": "A12 ca loc",
            "kind": "sale",
        }
        second = add_receipt(engine, "A-12", 15_000, payer=None)
        event = _next(events, "payment")
        assert event["id"] == str(second), "the first payment was sent again"
        assert json.loads(event["data"])["payer"] is None


def test_a_client_resumes_after_the_last_event_it_received(server, engine, auth):
    first = add_receipt(engine, "A-12", 10_000)
    missed = add_receipt(engine, "A-12", 30_000)
    add_receipt(engine, "B-03", 99_000)
    for how in ({"headers": {**auth, "Last-Event-ID": str(first)}}, {"params": {"since": first}, "headers": auth}):
        with httpx.stream("GET", f"{server}/api/stream/A-12", timeout=READ, **how) as response:
            event = _next(sse_events(response.iter_lines()), "payment")
            assert event["id"] == str(missed)
            assert json.loads(event["data"])["amount"] == 30_000


def test_an_unknown_stall_is_a_problem_not_a_stream(server, auth):
    response = httpx.get(f"{server}/api/stream/Z-99", timeout=READ, headers=auth)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Z-99" in response.json()["detail"]
