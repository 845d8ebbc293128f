"""Adapters: each provider's request becomes one canonical Notification, or a rejection that says why."""

import base64
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from conftest import make_settings
from market.reconcile.ingest.adapters import (
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    StaleRequestError,
    casso,
    generic,
    payos,
    sepay,
    vietqr_vn,
)
from market.reconcile.ingest.adapters.base import MAX_DONG, parse_bank_time, whole_dong
from market.reconcile.ingest.journal.rows import _sqlite_time
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ingest.signatures import (
    casso_form,
    casso_signature,
    generic_signature,
    payos_signature,
    sepay_signature,
)

NOW = dt.datetime(2025, 6, 1, 2, 20, tzinfo=dt.UTC)
SETTINGS = make_settings(
    "sqlite:///unused.db",
    payos_checksum_key="payos-key",
    sepay_webhook_secret="sepay-secret",
    sepay_api_key="sepay-api-key",
    casso_secret="casso-secret",
    generic_webhook_secret="generic-secret",
    vietqr_username="vietqr",
    vietqr_password="pass word",
)
UNCONFIGURED = make_settings("sqlite:///unused.db")


def _payos_body(**changes):
    data = {
        "orderCode": 240817,
        "amount": 25000,
        "description": "PAB3K7QX9 chuyen tien",
        "accountNumber": "0123456789",
        "reference": "FT25123456789012",
        "transactionDateTime": "2025-06-01 09:15:42",
        "currency": "VND",
        "paymentLinkId": "8a1f0c7e6d5b4a39a2b1c0d9e8f7a6b5",
        "code": "00",
        "desc": "success",
        "counterAccountBankId": "970422",
        "counterAccountBankName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "9876543210",
        "virtualAccountName": "",
        "virtualAccountNumber": "",
        **changes,
    }
    envelope = {"code": "00", "desc": "success", "success": True, "data": data}
    envelope["signature"] = payos_signature("payos-key", data)
    return json.dumps(envelope, ensure_ascii=False).encode()


def test_payos_notification_is_canonical():
    accepted = payos.parse(_payos_body(), {}, SETTINGS, NOW)
    n = accepted.notification
    assert n is not None
    assert (n.provider, n.provider_txn_id, n.bank_reference, n.order_code) == (
        "payos",
        "FT25123456789012",
        "FT25123456789012",
        "240817",
    )
    assert (n.amount, n.direction, n.account_number, n.counterparty_name) == (25000, "in", "0123456789", "NGUYEN VAN A")
    # 09:15:42 in Vietnam is 02:15:42 UTC.
    assert n.transferred_at == dt.datetime(2025, 6, 1, 2, 15, 42, tzinfo=dt.UTC)
    assert n.received_at == NOW
    assert accepted.review_reason is None


def test_payos_test_event_is_answered_not_stored():
    body = _payos_body(orderCode=123, description="VQRIO123", reference="TF230204212323")
    assert payos.parse(body, {}, SETTINGS, NOW).notification is None


def test_payos_failed_status_goes_to_review():
    accepted = payos.parse(_payos_body(code="01", desc="failed"), {}, SETTINGS, NOW)
    assert accepted.notification is not None
    assert "01" in (accepted.review_reason or "")


def test_payos_refusals_say_why():
    with pytest.raises(NotConfiguredError, match="MARKET_PAYOS_CHECKSUM_KEY"):
        payos.parse(_payos_body(), {}, UNCONFIGURED, NOW)
    with pytest.raises(ForgedRequestError):
        payos.parse(_payos_body().replace(b"25000", b"26000"), {}, SETTINGS, NOW)
    with pytest.raises(MalformedRequestError, match="JSON"):
        payos.parse(b"{not json", {}, SETTINGS, NOW)
    with pytest.raises(MalformedRequestError, match="data"):
        payos.parse(b'{"data": [], "signature": "x"}', {}, SETTINGS, NOW)


SEPAY_EVENT = {
    "id": 92704,
    "gateway": "Vietcombank",
    "transactionDate": "2025-06-01 09:15:42",
    "accountNumber": "0123499999",
    "code": None,
    "content": "PAB3K7QX9 chuyen tien",
    "transferType": "in",
    "transferAmount": 50000,
    "accumulated": 19077000,
    "subAccount": None,
    "referenceCode": "MBVCB.3278907687",
    "description": "BankAPINotify PAB3K7QX9 chuyen tien",
}


def _sepay(event=SEPAY_EVENT, ts=None):
    body = json.dumps(event).encode()
    ts = str(int(NOW.timestamp())) if ts is None else ts
    return body, {"x-sepay-timestamp": ts, "x-sepay-signature": sepay_signature("sepay-secret", ts, body)}


def test_sepay_hmac_notification():
    body, headers = _sepay()
    accepted = sepay.parse(body, headers, SETTINGS, NOW)
    n = accepted.notification
    assert n is not None
    assert (n.provider_txn_id, n.amount, n.bank_reference, n.bank_bin) == ("92704", 50000, "MBVCB.3278907687", "970436")
    assert n.memo == "PAB3K7QX9 chuyen tien"
    assert accepted.auth == "hmac-sha256"


def test_sepay_outgoing_is_accepted_for_review():
    body, headers = _sepay({**SEPAY_EVENT, "transferType": "out"})
    accepted = sepay.parse(body, headers, SETTINGS, NOW)
    assert accepted.notification is not None
    assert accepted.notification.amount == -50000
    assert accepted.review_reason == "outgoing transfer"


def test_sepay_stale_timestamp_is_refused_even_when_signed():
    body, headers = _sepay(ts=str(int(NOW.timestamp()) - 301))
    with pytest.raises(StaleRequestError):
        sepay.parse(body, headers, SETTINGS, NOW)
    body, headers = _sepay(ts=str(int(NOW.timestamp()) - 299))
    assert sepay.parse(body, headers, SETTINGS, NOW).notification is not None


def test_sepay_api_key_mode():
    body = json.dumps(SEPAY_EVENT).encode()
    accepted = sepay.parse(body, {"authorization": "Apikey sepay-api-key"}, SETTINGS, NOW)
    assert accepted.auth == "apikey"
    with pytest.raises(ForgedRequestError):
        sepay.parse(body, {"authorization": "Apikey sepay-api-kez"}, SETTINGS, NOW)
    with pytest.raises(ForgedRequestError, match="must carry"):
        sepay.parse(body, {}, SETTINGS, NOW)


def test_amounts_beyond_any_transfer_are_malformed():
    assert whole_dong({"amount": MAX_DONG}, "amount") == MAX_DONG
    assert whole_dong({"amount": -MAX_DONG}, "amount") == -MAX_DONG
    for too_much in (MAX_DONG + 1, -(10**20), str(10**19), float(10**16)):
        with pytest.raises(MalformedRequestError, match="beyond any transfer"):
            whole_dong({"amount": too_much}, "amount")
    body, headers = _sepay({**SEPAY_EVENT, "transferAmount": 10**16})
    with pytest.raises(MalformedRequestError, match="transferAmount"):
        sepay.parse(body, headers, SETTINGS, NOW)


def test_sepay_wrong_shape_is_malformed():
    body, headers = _sepay({**SEPAY_EVENT, "transferAmount": 12.5})
    with pytest.raises(MalformedRequestError, match="whole number"):
        sepay.parse(body, headers, SETTINGS, NOW)
    # Midnight of year 1 in Vietnam is still year 0 in UTC: refused (400), not a crash (500).
    body, headers = _sepay({**SEPAY_EVENT, "transactionDate": "0001-01-01 00:00:00"})
    with pytest.raises(MalformedRequestError, match="transactionDate is out of range"):
        sepay.parse(body, headers, SETTINGS, NOW)


def _casso(data, t=None):
    envelope = {"error": 0, "data": data}
    t = str(int(NOW.timestamp() * 1000)) if t is None else t
    signature = casso_signature("casso-secret", t, casso_form(envelope, "unicode"))  # the JavaScript form
    return json.dumps(envelope, ensure_ascii=False).encode(), {"x-casso-signature": f"t={t},v1={signature}"}


CASSO_DATA = {
    "id": 1234567,
    "reference": "FT25123456789012",
    "description": "PAB3K7QX9 chuyển tiền/CK",
    "amount": -50000,
    "transactionDateTime": "2025-06-01 09:15:42",
    "accountNumber": "88888888",
    "bankName": "VPBank",
    "bankAbbreviation": "VPB",
    "counterAccountName": "NGUYỄN VĂN A",
}


def test_casso_negative_amount_is_outgoing_and_form_is_recorded():
    body, headers = _casso(CASSO_DATA)
    accepted = casso.parse(body, headers, SETTINGS, NOW)
    n = accepted.notification
    assert n is not None
    assert (n.amount, n.direction, n.bank_bin) == (-50000, "out", "970432")
    assert accepted.review_reason == "outgoing transfer"
    assert accepted.auth == "hmac-sha512:unicode"


def test_casso_test_call_and_refusals():
    body, headers = _casso({**CASSO_DATA, "id": 0, "reference": "MA_GIAO_DICH_THU_NGHIEM"})
    assert casso.parse(body, headers, SETTINGS, NOW).notification is None
    body, headers = _casso(CASSO_DATA, t=str(int(NOW.timestamp() * 1000) - 301_000))
    with pytest.raises(StaleRequestError):
        casso.parse(body, headers, SETTINGS, NOW)
    with pytest.raises(ForgedRequestError):
        casso.parse(body, {"x-casso-signature": "sha256=abc"}, SETTINGS, NOW)
    with pytest.raises(NotConfiguredError):
        casso.parse(body, headers, UNCONFIGURED, NOW)


def test_generic_format():
    body = json.dumps(
        {
            "id": "VCB-1",
            "amount": 50000,
            "direction": "in",
            "memo": "PAB3K7QX9",
            "transferred_at": "2025-06-01T09:15:42+07:00",
            "account_number": "0123456789",
            "bank_reference": "FT1",
            "future_field": 1,
        }
    ).encode()
    t = str(int(NOW.timestamp()))
    headers = {"x-market-signature": f"t={t},v1={generic_signature('generic-secret', t, body)}"}
    n = generic.parse(body, headers, SETTINGS, NOW).notification
    assert n is not None
    assert (n.provider_txn_id, n.amount, n.transferred_at.hour) == ("VCB-1", 50000, 2)
    bad = body.replace(b'"in"', b'"sideways"')
    headers = {"x-market-signature": f"t={t},v1={generic_signature('generic-secret', t, bad)}"}
    with pytest.raises(MalformedRequestError, match="direction"):
        generic.parse(bad, headers, SETTINGS, NOW)
    too_early = body.replace(b"2025-06-01T09:15:42+07:00", b"0001-01-01T00:00:00+07:00")
    headers = {"x-market-signature": f"t={t},v1={generic_signature('generic-secret', t, too_early)}"}
    with pytest.raises(MalformedRequestError, match="transferred_at is out of range"):
        generic.parse(too_early, headers, SETTINGS, NOW)


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_vietqr_token_then_lower_case_sync():
    token = vietqr_vn.issue_token(_basic("vietqr", "pass word"), SETTINGS, NOW)
    assert (token.token_type, token.expires_in) == ("Bearer", 300)
    body = json.dumps(
        {
            "bankaccount": "0362626234",
            "amount": 100000.0,
            "transtype": "C",
            "content": "QR VQR712a7d45ea PAB3K7QX9 Ma giao dich Trace756759",
            "transactionid": "0a4cc317-3af3-4055-bc83-7296adb624bf",
            "transactiontime": 1748744142000,
            "referencenumber": "FT26008507756020",
            "orderId": "",
        }
    ).encode()
    headers = {"authorization": f"Bearer {token.access_token}"}
    n = vietqr_vn.parse(body, headers, SETTINGS, NOW).notification
    assert n is not None
    assert (n.amount, n.provider_txn_id, n.order_code) == (100000, "0a4cc317-3af3-4055-bc83-7296adb624bf", None)
    assert n.transferred_at == dt.datetime(2025, 6, 1, 2, 15, 42, tzinfo=dt.UTC)
    later = NOW + dt.timedelta(seconds=301)
    with pytest.raises(ForgedRequestError, match="expired"):
        vietqr_vn.parse(body, headers, SETTINGS, later)


def test_vietqr_wrong_credentials():
    with pytest.raises(ForgedRequestError):
        vietqr_vn.issue_token(_basic("vietqr", "wrong"), SETTINGS, NOW)
    with pytest.raises(ForgedRequestError):
        vietqr_vn.issue_token("Bearer x", SETTINGS, NOW)
    with pytest.raises(NotConfiguredError):
        vietqr_vn.issue_token(_basic("vietqr", "pass word"), UNCONFIGURED, NOW)


def test_journal_writes_sqlite_values_exactly_as_sqlalchemy_would():
    # The writer encodes SQLite rows itself for speed; others compare and read them through SQLAlchemy,
    # so the text must be the same byte for byte (SQLite compares times as text).
    dialect = sqlite.dialect()
    column = JournalEntry.__table__.c.received_at
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    vietnam = dt.timezone(dt.timedelta(hours=7))
    for moment in (
        dt.datetime(2025, 6, 1, 9, 15, 42, tzinfo=vietnam),
        dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2025, 6, 1, 9, 15, 42, tzinfo=dt.UTC),  # no fraction: still six zeros
        dt.datetime(2025, 6, 1, 0, 0, 0, 1000, tzinfo=dt.UTC),  # milliseconds only
        dt.datetime(1, 1, 1, 0, 0, 0, 5, tzinfo=dt.UTC),  # year 1: four digits
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime.now(dt.UTC),
    ):
        assert _sqlite_time(moment) == process(moment), moment
    with pytest.raises(ValueError, match="naive"):
        _sqlite_time(dt.datetime(2025, 6, 1, 9, 15, 42))  # noqa: DTZ001 - the naive time is the point


@given(st.datetimes(timezones=st.just(dt.UTC)))
def test_journal_time_text_is_sqlalchemys_for_any_utc_time(moment: dt.datetime) -> None:
    dialect = sqlite.dialect()
    process = JournalEntry.__table__.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert _sqlite_time(moment) == process(moment)


def _bank_time_by_the_rule(text: str) -> dt.datetime | None:
    """The documented rule, written plainly: a time without a zone is Vietnam's, one with a zone is kept."""
    try:
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


_TIME_TEXT = st.one_of(
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")),  # what providers send
    st.datetimes().map(lambda moment: moment.isoformat(timespec="seconds")),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat(timespec="minutes")),
    st.datetimes(timezones=st.timezones()).map(str),
    st.text(alphabet="0123456789-:T +Z.", min_size=17, max_size=21),
)


@given(_TIME_TEXT)
def test_bank_time_is_vietnam_time_unless_a_zone_is_given(text: str) -> None:
    # parse_bank_time takes "YYYY-MM-DD HH:MM:SS" by a shortcut; it must say what the rule says.
    expected = _bank_time_by_the_rule(text)
    if expected is None:
        with pytest.raises(MalformedRequestError, match="transactionDate"):
            parse_bank_time(text, "transactionDate")
    else:
        parsed = parse_bank_time(text, "transactionDate")
        assert parsed == expected
        assert parsed.tzinfo is dt.UTC


def test_bank_time_examples() -> None:
    assert parse_bank_time("2025-06-01 09:15:42", "t") == dt.datetime(2025, 6, 1, 2, 15, 42, tzinfo=dt.UTC)
    assert parse_bank_time("2025-06-01 03:00:00", "t") == dt.datetime(2025, 5, 31, 20, 0, tzinfo=dt.UTC)
    assert parse_bank_time("2025-06-01T09:15:42+00:00", "t") == dt.datetime(2025, 6, 1, 9, 15, 42, tzinfo=dt.UTC)
    with pytest.raises(MalformedRequestError, match="out of range"):
        parse_bank_time("0001-01-01 03:00:00", "t")
    with pytest.raises(MalformedRequestError, match="like 2025-06-01"):
        parse_bank_time("2025-06-01 25:00:00", "t")
