"""The registry over HTTP, on SQLite and PostgreSQL: /api/merchants and its stall, history and errors."""

import pytest
import sqlalchemy as sa

from conftest import make_settings
from credentials import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def settings(database_url):
    # The registry's rules once a change applies; a change of accounts waiting for a second
    # person is tested in test_account_changes_http.py.
    return make_settings(database_url, account_change_approval="off")


def _stall(code="a12", name="Nguyễn Thị Đào", phone="0912 345 678", **extra):
    body = {
        "code": code,
        "category": "Hàng khô",
        "area_m2": 4.5,
        "holder": {"full_name": name, "phone": phone, "national_id": "089185123456"},
        "accounts": [{"bank": "Agribank", "account_number": "6015294428003"}],
    }
    body.update(extra)
    return body


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


def test_register_normalises_and_any_spelling_finds_the_stall(client):
    created = client.post("/api/merchants", json=_stall())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == "A-12"
    assert body["zone"] == "A"
    assert body["category"] == "dry_goods"
    assert body["category_label"] == "Hàng khô"
    assert body["holder"]["phone"] == "0912345678"
    (account,) = body["accounts"]
    assert account["bank_bin"] == "970405"
    assert account["holder_name"] == "NGUYEN THI DAO"  # as the bank shows it
    assert account["is_default"] is True
    assert body["onboarding"]["has_bank_account"] is True
    for spelling in ("A-12", "a12", "A 12"):
        assert client.get(f"/api/merchants/{spelling}").json()["code"] == "A-12"


def test_national_id_only_when_asked_for(client):
    client.post("/api/merchants", json=_stall())
    assert "national_id" not in client.get("/api/merchants/A-12").json()["holder"]
    assert "national_id" not in client.get("/api/merchants").json()["items"][0]["holder"]
    asked = client.get("/api/merchants/A-12", params={"include": "national_id"}).json()
    assert asked["holder"]["national_id"] == "089185123456"
    _problem(client.get("/api/merchants", params={"include": "everything"}), 422)


def test_duplicate_stall_code_is_409_whatever_the_spelling(client):
    assert client.post("/api/merchants", json=_stall()).status_code == 201
    body = _problem(client.post("/api/merchants", json=_stall(code="A 12", phone=None, accounts=[])), 409)
    assert "A-12" in body["detail"]


def test_account_of_another_stall_is_409(client):
    client.post("/api/merchants", json=_stall())
    body = _problem(client.post("/api/merchants", json=_stall(code="B-1", phone=None)), 409)
    assert "6015294428003" in body["detail"]
    assert client.get("/api/merchants/B-01").status_code == 404


def test_every_bad_field_is_named_in_one_422(client):
    body = _stall(code="12", phone="123", category="vàng bạc")
    body["accounts"] = [{"bank": "970999", "account_number": "1234 5678"}]
    problem = _problem(client.post("/api/merchants", json=body), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"code", "holder.phone", "category", "accounts[0].bank", "accounts[0].account_number"}
    assert client.get("/api/merchants").json()["total"] == 0


def test_unknown_stall_is_404(client):
    _problem(client.get("/api/merchants/Z-99"), 404)
    _problem(client.get("/api/merchants/not a code"), 404)
    _problem(client.patch("/api/merchants/Z-99", json={"zone": "Z"}), 404)
    _problem(client.get("/api/merchants/Z-99/history"), 404)


def test_exactly_one_default_account(client, engine):
    two_defaults = _stall(
        accounts=[
            {"bank": "Agribank", "account_number": "111", "is_default": True},
            {"bank": "MoMo", "account_number": "0912345678", "is_default": True},
        ]
    )
    problem = _problem(client.post("/api/merchants", json=two_defaults), 422)
    assert [e["field"] for e in problem["errors"]] == ["accounts"]
    # None marked: the first one is the card's account.
    body = _stall(accounts=[{"bank": "VCB", "account_number": "111"}, {"bank": "MoMo", "account_number": "0912345678"}])
    accounts = client.post("/api/merchants", json=body).json()["accounts"]
    assert [(a["bank_short_name"], a["is_default"], a["kind"]) for a in accounts] == [
        ("Vietcombank", True, "bank_account"),
        ("MoMo", False, "e_wallet"),
    ]
    # Switching the default keeps exactly one, listed first.
    switched = [
        {"bank": "VCB", "account_number": "111"},
        {"bank": "MoMo", "account_number": "0912345678", "is_default": True},
    ]
    accounts = client.patch("/api/merchants/A-12", json={"accounts": switched}).json()["accounts"]
    assert [(a["bank_short_name"], a["is_default"]) for a in accounts] == [("MoMo", True), ("Vietcombank", False)]
    # The database itself refuses a second default.
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE stall_accounts SET is_default = true"))


def test_patch_records_history_newest_first_and_a_noop_records_nothing(client, settings):
    client.post("/api/merchants", json=_stall(), headers=bearer(settings, "chi.lan", "office"))
    changed = client.patch(
        "/api/merchants/a12",
        json={
            "row": "Dãy 2",
            "holder": {"national_id": "089185999999"},
            "onboarding": {"qr_issued_on": "08/10/2024", "qr_displayed": True},
        },
        headers=bearer(settings, "anh.tuan", "office"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["onboarding"]["state"] == "qr_displayed"
    assert client.patch("/api/merchants/A-12", json={"row": "Dãy 2"}).status_code == 200  # same value
    history = client.get("/api/merchants/a12/history").json()
    assert history["stall"] == "A-12"
    entries = [(e["actor"], e["field"], e["old"], e["new"]) for e in history["items"]]
    assert entries == [
        ("anh.tuan", "row", None, "Dãy 2"),
        ("anh.tuan", "holder.national_id", "***", "***"),  # sensitive: that it changed, not what to
        ("anh.tuan", "onboarding.qr_issued_on", None, "2024-10-08"),
        ("anh.tuan", "onboarding.qr_displayed", "không", "có"),
        ("chi.lan", "created", None, "A-12"),
    ]
    assert history["total"] == 5


def test_patch_that_breaks_a_rule_is_422_and_changes_nothing(client):
    client.post("/api/merchants", json=_stall())
    problem = _problem(client.patch("/api/merchants/A-12", json={"status": "closed", "holder": {"phone": "12"}}), 422)
    assert {e["field"] for e in problem["errors"]} == {"status", "holder.phone"}
    assert client.get("/api/merchants/A-12/history").json()["total"] == 1


def _register_market(client):
    people = [
        ("A-1", "Nguyễn Thị Đào", "0912000001", "fresh_food", True),
        ("A-2", "Trần Văn Hùng", "0912000002", "fresh_food", False),
        ("B-1", "Lê Thị Nguyệt", "0912000003", "dry_goods", True),
        ("B-2", "Huỳnh Ngọc Lan", "0983 000 004", "dry_goods", False),
        ("C-1", "Đặng Minh Nguyên", "0912000005", "clothing", True),
    ]
    for index, (code, name, phone, category, qr) in enumerate(people):
        body = _stall(code=code, name=name, phone=phone, category=category)
        body["accounts"] = [{"bank": "BIDV", "account_number": f"3100000{index}"}]
        body["onboarding"] = (
            {"qr_issued_on": "2024-05-01", "qr_displayed": True} if qr else {"no_cashless_reason": "Nhỏ lẻ"}
        )
        assert client.post("/api/merchants", json=body).status_code == 201


def _codes(client, **params):
    page = client.get("/api/merchants", params=params)
    assert page.status_code == 200, page.text
    return [item["code"] for item in page.json()["items"]]


def test_search_ignores_diacritics_and_finds_codes_and_phones(client):
    _register_market(client)
    assert _codes(client, q="nguyen") == ["A-01", "C-01"]  # Nguyễn, Nguyên
    assert _codes(client, q="NGUYET") == ["B-01"]
    assert _codes(client, q="đào") == ["A-01"]
    assert _codes(client, q="0983 000") == ["B-02"]
    assert _codes(client, q="b2") == ["B-02"]
    assert _codes(client, q="100%") == []


def test_filters_and_pagination(client):
    _register_market(client)
    assert _codes(client, zone="a") == ["A-01", "A-02"]
    assert _codes(client, category="Hàng khô") == ["B-01", "B-02"]
    assert _codes(client, onboarding="qr_displayed") == ["A-01", "B-01", "C-01"]
    assert _codes(client, onboarding="account_only", category="dry_goods") == ["B-02"]
    assert _codes(client, status="paused") == []
    page = client.get("/api/merchants", params={"limit": 2, "offset": 2}).json()
    assert [i["code"] for i in page["items"]] == ["B-01", "B-02"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    problem = _problem(client.get("/api/merchants", params={"category": "gold", "limit": 0}), 422)
    assert {e["field"] for e in problem["errors"]} == {"category", "limit"}
