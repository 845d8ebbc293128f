"""The webhook endpoints over HTTP (app + lifespan + real database, both kinds)."""

import base64
import json
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from conftest import make_settings
from market.devtools import simulate as sim
from market.reconcile.ingest.signatures import generic_signature, payos_signature
from market.web.app import create_app
from market.web.routes.webhooks import _KNOWN_NAMES, header_dict

SECRETS = {
    "payos_checksum_key": "payos-key",
    "sepay_webhook_secret": "sepay-secret",
    "casso_secret": "casso-secret",
    "generic_webhook_secret": "generic-secret",
    "vietqr_username": "vietqr",
    "vietqr_password": "pw",
}
PROBLEM = "application/problem+json"


@pytest.fixture
def hooks(database_url):
    # The ingest layer alone: statuses as ingest writes them, before any matcher moves them on.
    with TestClient(app=create_app(make_settings(database_url, run_matcher=False, **SECRETS))) as client:
        yield client


def _rows(engine, where="1=1"):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT * FROM notification_journal WHERE {where} ORDER BY id")).mappings().all()


def _transfers(count=4, seed=11):
    return sim.plan(list(sim.PROVIDERS), count, 0.0, seed)


def _post(client, transfer, settings=None):
    path, body, headers = sim.render(transfer, settings or make_settings("sqlite:///x.db", **SECRETS))
    return client.post(path, content=body, headers=headers)


def test_each_provider_is_acknowledged_and_journalled_once(hooks, engine):
    transfers = _transfers()
    for transfer in transfers:
        for _ in range(2):  # the provider retries: the second delivery adds nothing
            response = _post(hooks, transfer)
            assert response.status_code == 200, response.text
    assert _post(hooks, transfers[0]).json() == {"success": True}
    rows = _rows(engine)
    assert sorted((r["provider"], r["provider_txn_id"]) for r in rows) == sorted(map(sim.provider_key, transfers))
    by_provider = {r["provider"]: r for r in rows}
    sepay = by_provider["sepay"]
    sent = next(t for t in transfers if t.provider == "sepay")
    assert (sepay["amount"], sepay["memo"], sepay["status"]) == (sent.amount, sent.memo, "pending")
    assert json.loads(bytes(sepay["raw_body"]))["id"] == int(sent.txn_id)
    headers = sepay["raw_headers"] if isinstance(sepay["raw_headers"], dict) else json.loads(sepay["raw_headers"])
    assert "x-sepay-signature" in headers
    assert "authorization" not in headers


def test_generic_answer_names_the_journal_row(hooks):
    transfer = next(t for t in _transfers() if t.provider == "generic")
    first, again = _post(hooks, transfer).json(), _post(hooks, transfer).json()
    assert first["created"] is True
    assert again["created"] is False
    assert again["id"] == first["id"]


def test_forged_stale_malformed_and_oversized_are_refused(hooks, engine):
    transfer = next(t for t in _transfers() if t.provider == "generic")
    path, body, headers = sim.render(transfer, make_settings("sqlite:///x.db", **SECRETS))
    forged = hooks.post(path, content=body.replace(b'"in"', b'"out"'), headers=headers)
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith(PROBLEM)
    assert "signature" in forged.json()["detail"].lower()
    _, _, old_headers = sim.render(transfer, make_settings("sqlite:///x.db", **SECRETS), now=time.time() - 600)
    stale = hooks.post(path, content=body, headers=old_headers)
    assert stale.status_code == 401
    junk = b"{not json"
    t = str(int(time.time()))
    signed_junk = {"X-Market-Signature": f"t={t},v1={generic_signature('generic-secret', t, junk)}"}
    malformed = hooks.post(path, content=junk, headers=signed_junk)
    assert malformed.status_code == 400
    assert malformed.json()["detail"]
    # Signed, well formed, but an amount no transfer has (and no BIGINT holds): 400, not a 503
    # from a journal write that would fail on every retry.
    absurd = json.dumps({**json.loads(body), "amount": 10**19}).encode()  # past int64, inside uint64
    signed_absurd = {"X-Market-Signature": f"t={t},v1={generic_signature('generic-secret', t, absurd)}"}
    beyond = hooks.post(path, content=absurd, headers=signed_absurd)
    assert beyond.status_code == 400
    assert "amount" in beyond.json()["detail"]
    huge = b'{"pad": "' + b"x" * 70_000 + b'"}'
    too_big = hooks.post("/webhooks/payos", content=huge)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith(PROBLEM)
    # Without Content-Length (chunked), the limit holds on the bytes actually received.
    assert hooks.post("/webhooks/payos", content=iter([huge[:40_000], huge[40_000:]])).status_code == 413
    assert _rows(engine) == []


def test_chunked_delivery_without_content_length_is_journalled(hooks, engine):
    transfer = next(t for t in _transfers() if t.provider == "generic")
    path, body, headers = sim.render(transfer, make_settings("sqlite:///x.db", **SECRETS))
    response = hooks.post(path, content=iter([body[:50], body[50:]]), headers=headers)
    assert response.status_code == 200, response.text
    assert [r["provider_txn_id"] for r in _rows(engine)] == [transfer.txn_id]


def test_unconfigured_provider_refuses_everything(database_url):
    transfer = next(t for t in _transfers() if t.provider == "payos")
    with TestClient(app=create_app(make_settings(database_url))) as client:
        response = _post(client, transfer)
    assert response.status_code == 503
    assert "not configured" in response.json()["detail"]


def test_outgoing_transfer_is_acknowledged_and_held_for_review(hooks, engine):
    data = {
        "orderCode": 1,
        "amount": -20000,
        "description": "rut tien",
        "accountNumber": "0123",
        "reference": "FT-OUT-1",
        "transactionDateTime": "2025-06-01 09:15:42",
        "code": "00",
        "desc": "ok",
    }
    body = json.dumps({"data": data, "signature": payos_signature("payos-key", data)}).encode()
    assert hooks.post("/webhooks/payos", content=body).status_code == 200
    (row,) = _rows(engine)
    assert (row["status"], row["review_reason"], row["amount"]) == ("review", "outgoing transfer", -20000)


def test_same_credit_through_a_second_provider_is_a_duplicate(hooks, engine):
    base = next(t for t in _transfers() if t.provider == "sepay")
    twin = sim.Transfer(**{**{f: getattr(base, f) for f in base.__struct_fields__}, "provider": "casso"})
    other_account = sim.Transfer(
        **{
            **{f: getattr(base, f) for f in base.__struct_fields__},
            "provider": "generic",
            "account_number": "999000999",
        }
    )
    for transfer in (base, twin, other_account):
        assert _post(hooks, transfer).status_code == 200
    rows = {r["provider"]: r for r in _rows(engine)}
    assert rows["sepay"]["status"] == "pending"
    assert (rows["casso"]["status"], rows["casso"]["duplicate_of"]) == ("duplicate", rows["sepay"]["id"])
    assert rows["generic"]["status"] == "pending"  # same reference, another account: another credit


def test_vietqr_token_and_transaction_sync(hooks, engine):
    basic = "Basic " + base64.b64encode(b"vietqr:pw").decode()
    token = hooks.post("/vietqr/api/token_generate", headers={"Authorization": basic})
    assert token.status_code == 200
    assert token.json()["expires_in"] == 300
    body = {
        "bankaccount": "0362626234",
        "amount": 25000,
        "transtype": "C",
        "content": "PAB3K7QX9",
        "transactionid": "tx-1",
        "transactiontime": 1748744142000,
        "referencenumber": "FT1",
        "orderid": "",
    }
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    answer = hooks.post("/vietqr/bank/api/transaction-sync", json=body, headers=auth)
    assert answer.status_code == 200
    (row,) = _rows(engine)
    assert answer.json()["error"] is False
    assert answer.json()["object"] == {"reftransactionid": str(row["id"])}
    refused = hooks.post("/vietqr/bank/api/transaction-sync", json=body, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.json()["error"] is True
    assert hooks.post("/vietqr/api/token_generate", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_database_down_is_503_so_the_provider_retries():
    settings = make_settings("postgresql://postgres@127.0.0.1:1/test", **SECRETS)
    transfer = next(t for t in _transfers() if t.provider == "sepay")
    with TestClient(app=create_app(settings)) as client:
        response = _post(client, transfer)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "retry" in response.json()["detail"]


def test_webhook_headers_are_read_as_sent_known_names_or_not():
    raw = [
        (b"x-casso-signature", b"t=1,v1=ab"),
        (b"x-made-up", b"\xe9t\xe9"),  # latin-1, as HTTP header bytes are
        (b"content-length", b"5"),
        *[(name, b"v") for name in _KNOWN_NAMES],
    ]
    expected = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    assert header_dict(SimpleNamespace(scope={"headers": raw})) == expected
    assert expected["x-made-up"] == "été"
