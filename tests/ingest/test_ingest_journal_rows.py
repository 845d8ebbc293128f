"""The journal's SQLite rows built in C (``_speedups.journal_rows``) are the Python rows, value for value.

On SQLite the group-commit writer hands each batch's rows to one multi-row INSERT; with the C
kernels built, ``journal_rows`` builds those parameters. The other journal tests write through it;
this file holds it to the Python row builder (``DialectSql.row``, itself pinned to what SQLAlchemy stores
by test_ingest_adapters.py) on random deliveries: any text, times in any zone, headers that need
escaping. Without a build the tests skip, unless ``MARKET_TEST_REQUIRE_SPEEDUPS=1`` (CI).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from itertools import chain

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from market.reconcile.ingest.journal import Incoming
from market.reconcile.ingest.journal.rows import DialectSql, _sqlite_time, json_text, sqlite_parameters
from market.reconcile.notification import Notification
from market.reconcile.speedups import speedups
from market.reconcile.statuses import STATUS_PENDING, STATUS_REVIEW

if speedups is None:
    if os.environ.get("MARKET_TEST_REQUIRE_SPEEDUPS") == "1":
        pytest.fail("the C kernels are not built: run `make install` (needs a C compiler)", pytrace=False)
    pytest.skip("the C kernels are not built (no C compiler at install time)", allow_module_level=True)
kernels = speedups
SQL = DialectSql(sqlite.dialect())

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
OPTIONAL = st.none() | TEXT
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=-3, minutes=-30))])
# Naive bounds (hypothesis asks for them), a day inside the range so that any zone can reach UTC.
TIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=ZONES,
)
# Header names and values as the webhooks keep them: mostly plain ASCII, sometimes what JSON escapes.
HEADER_TEXT = st.text(alphabet=st.sampled_from([*"aZ0=, ", '"', "\\", "\x00", "\x1f", "\x7f", "é", "😀"]))


@st.composite
def deliveries(draw: st.DrawFn) -> Incoming:
    amount = draw(st.integers(min_value=1, max_value=10**12))
    direction = draw(st.sampled_from(["in", "out"]))
    notification = Notification(
        provider=draw(st.sampled_from(["payos", "sepay", "casso", "vietqr", "generic"])),
        provider_txn_id=draw(TEXT),
        amount=amount if direction == "in" else -amount,
        direction=direction,
        memo=draw(TEXT),
        transferred_at=draw(TIMES),
        received_at=draw(TIMES),
        bank_reference=draw(OPTIONAL),
        account_number=draw(OPTIONAL),
        bank_bin=draw(OPTIONAL),
        virtual_account=draw(OPTIONAL),
        order_code=draw(OPTIONAL),
        counterparty_name=draw(OPTIONAL),
        counterparty_account=draw(OPTIONAL),
        counterparty_bank=draw(OPTIONAL),
    )
    return Incoming(
        notification=notification,
        raw_body=draw(st.binary(max_size=64)),
        raw_headers=draw(st.dictionaries(HEADER_TEXT, HEADER_TEXT, max_size=4)),
        auth=draw(st.sampled_from(["hmac-sha256", "apikey", "hmac-sha512"])),
        review_reason=draw(st.none() | st.just("") | TEXT),
    )


def python_rows(first_id: int, items: list[Incoming]) -> list[object]:
    return list(chain.from_iterable(map(SQL.row, range(first_id, first_id + len(items)), items)))


def c_rows(first_id: int, items: list[Incoming]) -> list[object]:
    return kernels.journal_rows(first_id, items, STATUS_PENDING, STATUS_REVIEW, _sqlite_time, json_text)


@settings(max_examples=1500, deadline=None)
@given(first_id=st.integers(min_value=1, max_value=2**62), items=st.lists(deliveries(), max_size=5))
def test_c_rows_are_the_python_rows(first_id: int, items: list[Incoming]) -> None:
    built = c_rows(first_id, items)
    expected = python_rows(first_id, items)
    assert built == expected
    # Same values and same types: SQLite stores a str as TEXT and bytes as a BLOB.
    assert [type(value) for value in built] == [type(value) for value in expected]


def _credit(transferred_at: dt.datetime, received_at: dt.datetime, headers: dict[str, str]) -> Incoming:
    notification = Notification(
        provider="generic",
        provider_txn_id="VCB-1",
        amount=50_000,
        direction="in",
        memo="PAB3K7QX9 chuyen tien",
        transferred_at=transferred_at,
        received_at=received_at,
    )
    return Incoming(notification=notification, raw_body=b"{}", raw_headers=headers, auth="hmac-sha256")


def test_the_writer_builds_its_parameters_in_c() -> None:
    moment = dt.datetime(2025, 6, 1, 2, 15, 42, tzinfo=dt.UTC)
    headers = {"x-market-signature": "t=1,v1=ab", "content-type": "application/json"}
    item = _credit(moment, moment + dt.timedelta(seconds=1, microseconds=250), headers)
    row = sqlite_parameters(SQL, 41, [item])
    assert row == python_rows(41, [item])
    assert row[0] == 41
    assert row[8:10] == ["2025-06-01 02:15:42.000000", "2025-06-01 02:15:43.000250"]
    assert json.loads(row[-1]) == item.raw_headers
    assert row[-1] == '{"x-market-signature":"t=1,v1=ab","content-type":"application/json"}'


def test_a_naive_time_is_refused_as_in_python() -> None:
    naive = dt.datetime(2025, 6, 1, 9, 15, 42)  # noqa: DTZ001 - the naive time is the point
    item = _credit(naive, dt.datetime.now(dt.UTC), {})
    with pytest.raises(ValueError, match="naive datetime"):
        c_rows(1, [item])
    with pytest.raises(ValueError, match="naive datetime"):
        python_rows(1, [item])


def test_a_wrong_item_is_a_clear_error_not_a_crash() -> None:
    with pytest.raises(AttributeError, match="notification"):
        c_rows(1, [object()])
    with pytest.raises(TypeError, match="not iterable"):
        c_rows(1, 5)  # type: ignore[arg-type]


def test_a_fallback_that_empties_the_callers_list_cannot_pull_items_from_under_it() -> None:
    # The fallbacks are Python code: whatever they do to the caller's list, the rows come from the
    # items it held when the call began (a borrowed item freed under C would crash the process).
    zone = dt.timezone(dt.timedelta(hours=7))
    items = [_credit(dt.datetime(2025, 6, 1, 9, 15, 42, tzinfo=zone), dt.datetime.now(dt.UTC), {}) for _ in range(3)]
    expected = python_rows(1, items)

    def emptying_time(value: dt.datetime) -> str:
        items.clear()
        return _sqlite_time(value)

    rows = kernels.journal_rows(1, items, STATUS_PENDING, STATUS_REVIEW, emptying_time, json_text)
    assert rows == expected
