"""Intents and the review queue over HTTP, with the matcher running inside the app (both databases)."""

import time

import pytest
from litestar.testing import TestClient
from reconcile_helpers import ACCOUNT, SECRET, journal, note, register, signed_generic

from conftest import make_settings
from credentials import bearer
from market.reconcile.ledger.driver import Driver
from market.web.app import create_app


@pytest.fixture
def app_client(database_url, engine):
    register(engine)
    with TestClient(app=create_app(make_settings(database_url, generic_webhook_secret=SECRET))) as client:
        client.headers.update(bearer(engine))
        yield client


def poll(read, done, seconds=1.0):
    """Call ``read`` until ``done(value)`` or the deadline; the last value either way."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_a_signed_webhook_payment_shows_on_its_intent_within_a_second(app_client):
    created = app_client.post("/api/intents", json={"stall": "a1", "amount": 45_000, "note": "Cá lóc 1kg"})
    assert created.status_code == 201, created.text
    intent = created.json()
    code = intent["code"]
    assert intent["state"] == "open"
    assert intent["content"].startswith(code)
    assert len(intent["content"]) <= 25
    assert f"08{len(intent['content']):02d}{intent['content']}" in intent["payload"]
    assert intent["image_url"] == f"/api/intents/{code}/qr.png"

    memo = f"MBVCB.4530998360.029552.{code} ca loc.CT tu 0351000646393 NGUYEN THE HUNG toi {ACCOUNT['A-01']}"
    body, headers = signed_generic("vcb-000123", 45_000, memo, ACCOUNT["A-01"], counterparty_name="NGUYEN THE HUNG")
    sent = time.monotonic()
    assert app_client.post("/webhooks/generic", content=body, headers=headers).status_code == 200
    seen = poll(lambda: app_client.get(f"/api/intents/{code.lower()}").json(), lambda v: v["state"] == "paid")
    assert time.monotonic() - sent < 1.5
    assert seen["state"] == "paid"
    assert seen["paid"] == 45_000
    assert seen["remaining"] == 0
    (payment,) = seen["payments"]
    assert (payment["amount"], payment["kind"], payment["rule"], payment["payer_name"]) == (
        45_000,
        "paid",
        "code",
        "NGUYEN THE HUNG",
    )
    image = app_client.get(intent["image_url"])
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_intent_requests_are_checked(app_client):
    assert app_client.post("/api/intents", json={"stall": "Z-99", "amount": 1000}).status_code == 404
    bad = app_client.post("/api/intents", json={"stall": "A-01", "amount": 0, "expires_in": 5})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"amount", "expires_in"}
    assert app_client.get("/api/intents/PCGH5KMN7").status_code == 404


def test_review_queue_lists_suggestions_and_a_decision_is_applied_and_kept(app_client, engine):
    code = app_client.post("/api/intents", json={"stall": "A-02", "amount": 30_000}).json()["code"]
    # Two different neighbouring symbols swapped: one edit away (equal ones would leave the code intact).
    i = next(i for i in range(1, len(code) - 1) if code[i] != code[i + 1])
    typo = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    body, headers = signed_generic("x-1", 30_000, f"CT DEN:9704 {typo}", "0999999999", counterparty_account="55501")
    app_client.post("/webhooks/generic", content=body, headers=headers)
    page = poll(lambda: app_client.get("/api/reconcile/unmatched").json(), lambda v: v["total"] == 1, seconds=15)
    assert page["total"] == 1, "the matcher did not queue the payment for review in time"
    (item,) = page["items"]
    assert item["reason"] == "unknown_account"
    assert "Unknown" in item["reason_text"] or "no stall" in item["reason_text"]
    best = item["suggestions"][0]
    assert (best["stall"], best["intent"], best["why"]) == ("A-02", code, "one_edit_amount")

    bad = app_client.post(f"/api/reconcile/unmatched/{item['id']}/resolve", json={"action": "intent", "why": ""})
    assert bad.status_code == 422
    answer = app_client.post(
        f"/api/reconcile/unmatched/{item['id']}/resolve",
        json={"action": "intent", "intent": code, "why": "khách gõ nhầm mã"},
        headers=bearer(engine, "ban-quan-ly", "office"),
    )
    assert answer.status_code == 200, answer.text
    resolution = answer.json()["resolution"]
    assert (resolution["by"], resolution["applied"], resolution["outcome"]) == ("ban-quan-ly", True, "matched")
    assert app_client.get(f"/api/intents/{code}").json()["state"] == "paid"
    assert app_client.get("/api/reconcile/unmatched").json()["total"] == 0
    again = app_client.post(f"/api/reconcile/unmatched/{item['id']}/resolve", json={"action": "not_ours", "why": "x"})
    assert again.status_code == 409

    # Automation never overrides it: a later run, and a replay, leave the decision as it is.
    driver = Driver(engine)
    try:
        driver.run()
        driver.replay()
    finally:
        driver.close()
    (kept,) = app_client.get("/api/reconcile/unmatched?state=resolved").json()["items"]
    assert kept["resolution"]["action"] == "intent"
    assert kept["resolution"]["applied"]
    seen = app_client.get(f"/api/intents/{code}").json()
    assert seen["state"] == "paid"
    assert [(p["kind"], p["rule"]) for p in seen["payments"]] == [("paid", "manual")]


def test_payer_history_ranks_a_regular_customers_stall(app_client, engine):
    journal(
        engine,
        note("h1", 20_000, "rau", stall="B-07", payer="7777"),
        note("h2", 25_000, "rau", stall="B-07", payer="7777"),
        note("odd", 22_000, "rau", stall=None, account="0999999999", payer="7777"),
    )
    page = poll(lambda: app_client.get("/api/reconcile/unmatched").json(), lambda v: v["total"] == 1, seconds=15)
    (suggestion,) = page["items"][0]["suggestions"]
    assert (suggestion["stall"], suggestion["why"]) == ("B-07", "payer_history")
    assert suggestion["why_text"].endswith("(2)")
