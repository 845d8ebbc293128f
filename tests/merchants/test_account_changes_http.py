"""Account changes over HTTP, on SQLite and PostgreSQL: PATCH answers 202 and the QR image keeps paying
the old account until a second person approves; /api/account-changes and the office's page."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from litestar.testing import TestClient
from PIL import Image

from conftest import make_settings
from credentials import bearer
from market.payments import VietQRRequest, build_vietqr

PROBLEM = "application/problem+json"
OLD = "6015294400001"
NEW = "6015294499999"
PAGE = "/quan-ly/tai-khoan-cho-duyet"


def _as(client, user):
    """Calling as the office user ``user`` (an API token of theirs)."""
    return bearer(client.app.state.settings, user, "office")


def _payload(number):
    return build_vietqr(VietQRRequest(bin="970405", account=number))


def _qr(client, code="A-12"):
    """What a phone reads from the stall's QR image."""
    response = client.get(f"/api/merchants/{code}/qr.png")
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


def _register(client):
    body = {
        "code": "A-12",
        "holder": {"full_name": "Nguyễn Thị Đào"},
        "accounts": [{"bank": "Agribank", "account_number": OLD}],
    }
    assert client.post("/api/merchants", json=body, headers=_as(client, "lan")).status_code == 201


def _change_accounts(client, number=NEW, user="lan", **extra):
    body = {"accounts": [{"bank": "Agribank", "account_number": number}], **extra}
    return client.patch("/api/merchants/A-12", json=body, headers=_as(client, user))


def test_patch_of_accounts_is_202_and_the_qr_stays_the_old_one_until_a_second_person_approves(client):
    _register(client)
    answered = _change_accounts(client, row="Dãy 3")
    assert answered.status_code == 202, answered.text
    body = answered.json()
    change = body["pending_change"]
    assert (change["state"], change["stall"], change["requested_by"]) == ("pending", "A-12", "lan")
    assert [a["account_number"] for a in change["old_accounts"]] == [OLD]
    assert [a["account_number"] for a in change["new_accounts"]] == [NEW]
    assert body["stall"]["row"] == "Dãy 3"  # the other fields applied
    assert [a["account_number"] for a in body["stall"]["accounts"]] == [OLD]
    assert _qr(client) == [_payload(OLD)]
    assert client.get("/api/merchants/A-12").json()["onboarding"]["card_reprint_needed"] is False

    own = _problem(client.post(f"/api/account-changes/{change['id']}/approve", headers=_as(client, "lan")), 409)
    assert "the same person cannot approve their own change" in own["detail"]
    assert _qr(client) == [_payload(OLD)]

    approved = client.post(f"/api/account-changes/{change['id']}/approve", headers=_as(client, "tuan"))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", "tuan")
    assert _qr(client) == [_payload(NEW)]
    stall = client.get("/api/merchants/A-12").json()
    assert [a["account_number"] for a in stall["accounts"]] == [NEW]
    assert stall["onboarding"]["card_reprint_needed"] is True
    (entry, *_) = client.get("/api/merchants/A-12/history").json()["items"]
    assert (entry["field"], entry["actor"]) == ("accounts", "tuan")
    assert "approved by tuan" in entry["note"]
    # A card issued again shows the new account: the reprint flag goes.
    assert client.get("/api/merchants/A-12/card.png").status_code == 200
    # A download records nothing (issue 20); the office's POST says the card was handed out.
    assert client.get("/api/merchants/A-12").json()["onboarding"]["card_reprint_needed"] is True
    assert client.post("/api/merchants/A-12/qr-issued").status_code == 200
    assert client.get("/api/merchants/A-12").json()["onboarding"]["card_reprint_needed"] is False
    _problem(client.post(f"/api/account-changes/{change['id']}/approve", headers=_as(client, "hoa")), 409)


def test_patch_without_a_change_of_accounts_is_200_as_before(client):
    _register(client)
    same = _change_accounts(client, number=OLD, row="Dãy 1")
    assert same.status_code == 200, same.text
    assert same.json()["row"] == "Dãy 1"
    assert client.get("/api/account-changes", params={"state": "all"}).json()["total"] == 0


def test_list_read_reject_and_errors(client):
    _register(client)
    first = _change_accounts(client).json()["pending_change"]
    second = _change_accounts(client, number="6015294477777").json()["pending_change"]
    listed = client.get("/api/account-changes").json()
    assert [c["id"] for c in listed["items"]] == [second["id"]]
    everything = client.get("/api/account-changes", params={"state": "all", "stall": "a12"}).json()
    assert [(c["id"], c["state"]) for c in everything["items"]] == [
        (second["id"], "pending"),
        (first["id"], "superseded"),
    ]
    assert client.get(f"/api/account-changes/{first['id']}").json()["state"] == "superseded"
    _problem(client.post(f"/api/account-changes/{first['id']}/approve", headers=_as(client, "tuan")), 409)
    _problem(client.get("/api/account-changes/4242"), 404)
    _problem(client.post("/api/account-changes/4242/approve", headers=_as(client, "tuan")), 404)
    _problem(client.get("/api/account-changes", params={"state": "maybe"}), 422)

    rejected = client.post(
        f"/api/account-changes/{second['id']}/reject", json={"reason": "Chưa xác nhận"}, headers=_as(client, "tuan")
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "Chưa xác nhận")
    _problem(client.post(f"/api/account-changes/{second['id']}/reject", json={"reason": "x"}), 409)
    assert _qr(client) == [_payload(OLD)]


def test_the_office_page_shows_old_and_new_and_approves_by_form(client):
    _register(client)
    change = _change_accounts(client).json()["pending_change"]
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "Đổi tài khoản chờ duyệt" in html
    assert html.index(OLD) < html.index(NEW)  # old, then new, side by side
    assert f'action="{PAGE}/{change["id"]}/duyet"' in html
    assert f'action="{PAGE}/{change["id"]}/tu-choi"' in html

    own = client.post(f"{PAGE}/{change['id']}/duyet", headers=_as(client, "lan"), follow_redirects=False)
    assert own.status_code == 409
    assert "Người đề nghị không thể tự duyệt" in own.text
    done = client.post(f"{PAGE}/{change['id']}/duyet", headers=_as(client, "tuan"), follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?done={change['id']}&outcome=approved"
    after = client.get(done.headers["location"]).text
    assert f"Đã duyệt đề nghị #{change['id']}" in after
    assert "Không có đề nghị nào chờ duyệt." in after
    assert _qr(client) == [_payload(NEW)]
    english = client.get(PAGE, params={"lang": "en", "done": change["id"], "outcome": "approved"}).text
    assert "Account changes awaiting approval" in english
    assert f"Change #{change['id']} approved" in english


def test_the_page_rejects_with_a_reason(client):
    _register(client)
    change = _change_accounts(client).json()["pending_change"]
    url = f"{PAGE}/{change['id']}/tu-choi"
    assert client.post(url, data={"reason": ""}, headers=_as(client, "tuan"), follow_redirects=False).status_code == 422
    done = client.post(url, data={"reason": "Sai số tài khoản"}, headers=_as(client, "tuan"), follow_redirects=False)
    assert done.status_code == 303
    assert client.get(f"/api/account-changes/{change['id']}").json()["reason"] == "Sai số tài khoản"


@pytest.fixture
def client_without_approval(database_url):
    from market.web.app import create_app

    settings = make_settings(database_url, account_change_approval="off")
    with TestClient(app=create_app(settings)) as test_client:
        test_client.headers.update(bearer(settings))
        yield test_client


def test_with_approval_off_patch_applies_at_once_and_the_history_says_so(client_without_approval):
    client = client_without_approval
    _register(client)
    answered = _change_accounts(client)
    assert answered.status_code == 200, answered.text
    assert [a["account_number"] for a in answered.json()["accounts"]] == [NEW]
    assert answered.json()["onboarding"]["card_reprint_needed"] is True
    assert _qr(client) == [_payload(NEW)]
    (entry, *_) = client.get("/api/merchants/A-12/history").json()["items"]
    assert entry["field"] == "accounts"
    assert "MARKET_ACCOUNT_CHANGE_APPROVAL=off" in entry["note"]
