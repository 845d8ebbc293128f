"""The stall's QR, card and print sheet over HTTP, on SQLite and PostgreSQL: each image scans back
to the stall's default account, repeats are 304s; a download records nothing, the office's POST
records "QR issued" once."""

from __future__ import annotations

import io

import pytest
from cards_helpers import (
    AGRIBANK,
    account_number,
    add_stall,
    degrade,
    pdf_pages,
    qr_issued_entries,
    rasterise_svg,
    scan,
    static_payload,
    today_in_vietnam,
)
from PIL import Image

from conftest import make_settings
from credentials import bearer
from market.merchants.schemas import AccountIn
from market.payments import VietQRRequest, build_vietqr, parse_vietqr

PROBLEM = "application/problem+json"
ROUTES = ["qr.png", "qr.svg", "card.png", "card.pdf"]


@pytest.fixture
def settings(database_url):
    # A new account changes the card at once here; the QR staying the old one until a second
    # person approves is tested in tests/merchants/test_account_changes_http.py.
    return make_settings(database_url, account_change_approval="off")


def _read_back(route: str, body: bytes) -> list[str]:
    """The QR texts in an image the route answered, read as a phone would."""
    if route == "qr.svg":
        return scan(rasterise_svg(body.decode(), px_per_unit=8))
    if route == "card.pdf":
        (page,) = pdf_pages(body, dpi=200)
        return scan(page)
    return scan(Image.open(io.BytesIO(body)))


@pytest.fixture
def stall_a12(engine):
    """A-12 with two accounts; the card's is the second one, marked default."""
    with engine.begin() as conn:
        add_stall(
            conn,
            "a12",
            accounts=[
                AccountIn(bank="Vietcombank", account_number="0071000123456"),
                AccountIn(bank="Agribank", account_number=account_number(12), is_default=True),
            ],
        )
    return static_payload(account_number(12))


@pytest.mark.parametrize(
    ("route", "media_type", "filename"),
    [
        ("qr.png", "image/png", "qr-A-12.png"),
        ("qr.svg", "image/svg+xml", "qr-A-12.svg"),
        ("card.png", "image/png", "the-A-12.png"),
        ("card.pdf", "application/pdf", "the-A-12.pdf"),
    ],
)
def test_each_image_scans_back_to_the_default_accounts_static_payload(client, stall_a12, route, media_type, filename):
    response = client.get(f"/api/merchants/a12/{route}")  # any spelling of the code
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-disposition"] == f'inline; filename="{filename}"'
    assert response.headers["cache-control"].startswith("private, max-age=")
    assert _read_back(route, response.content) == [stall_a12]
    parsed = parse_vietqr(stall_a12)
    assert (parsed.bin, parsed.is_dynamic, parsed.amount) == (AGRIBANK, False, None)


def test_card_as_a_phone_camera_sees_it_still_scans(client, stall_a12):
    card = Image.open(io.BytesIO(client.get("/api/merchants/A-12/card.png").content))
    assert scan(degrade(card, scale=0.4)) == [stall_a12]


def test_fixed_amount_and_content_make_a_one_payment_qr(client, stall_a12):
    params = {"amount": 50000, "content": "Tiền hàng"}
    expected = build_vietqr(VietQRRequest(bin=AGRIBANK, account=account_number(12), amount=50000, content="Tiền hàng"))
    for route in ROUTES:
        response = client.get(f"/api/merchants/A-12/{route}", params=params)
        assert response.status_code == 200, response.text
        assert _read_back(route, response.content) == [expected]
    assert parse_vietqr(expected).is_dynamic
    assert client.get("/api/merchants/A-12/card.png", params=params).headers["content-disposition"] == (
        'inline; filename="the-A-12-50000.png"'
    )


@pytest.mark.parametrize("route", ROUTES)
def test_same_image_is_a_304_without_a_body(client, stall_a12, route):
    first = client.get(f"/api/merchants/A-12/{route}")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert client.get(f"/api/merchants/a-12/{route}").headers["etag"] == etag
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = client.get(f"/api/merchants/A-12/{route}", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    stale = client.get(f"/api/merchants/A-12/{route}", headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_etag_follows_what_is_drawn(client, stall_a12):
    etags = {route: client.get(f"/api/merchants/A-12/{route}").headers["etag"] for route in ROUTES}
    assert len(set(etags.values())) == 4
    # Another holder name changes the card, not the QR.
    client.patch("/api/merchants/A-12", json={"holder": {"full_name": "Trần Văn Đức"}})
    assert client.get("/api/merchants/A-12/qr.png").headers["etag"] == etags["qr.png"]
    renamed = client.get("/api/merchants/A-12/card.png", headers={"If-None-Match": etags["card.png"]})
    assert renamed.status_code == 200
    assert renamed.headers["etag"] != etags["card.png"]
    # Another default account changes everything, and the new card scans to the new account.
    client.patch("/api/merchants/A-12", json={"accounts": [{"bank": "Agribank", "account_number": account_number(99)}]})
    for route in ROUTES:
        response = client.get(f"/api/merchants/A-12/{route}", headers={"If-None-Match": etags[route]})
        assert response.status_code == 200
        assert _read_back(route, response.content) == [static_payload(account_number(99))]


def test_the_office_records_qr_issued_once_with_history(client, engine, stall_a12):
    # Issue 20: a download used to record "QR issued"; now only the office's POST does.
    for route in ROUTES:
        assert client.get(f"/api/merchants/A-12/{route}", headers=bearer(engine, "lan", "office")).status_code == 200
    stall = client.get("/api/merchants/A-12").json()
    assert stall["onboarding"]["qr_issued_on"] is None  # a download is not a card handed out

    first = client.post("/api/merchants/A-12/qr-issued", headers=bearer(engine, "lan", "office"))
    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": ["A-12"]}
    stall = client.get("/api/merchants/A-12").json()
    assert stall["onboarding"]["qr_issued_on"] == today_in_vietnam().isoformat()
    assert stall["onboarding"]["state"] == "qr_issued"

    again = client.post("/api/merchants/a12/qr-issued", headers=bearer(engine, "tam", "office"))
    assert again.json() == {"recorded": []}
    listed = client.post("/api/cards/issued", json={"stalls": ["A-12"]}, headers=bearer(engine, "tam", "office"))
    assert listed.json() == {"recorded": []}
    with engine.connect() as conn:
        (entry,) = qr_issued_entries(conn, "A-12")
    assert (entry.actor, entry.old, entry.new) == ("lan", None, today_in_vietnam().isoformat())


def test_an_earlier_issue_date_is_kept(client, engine):
    with engine.begin() as conn:
        add_stall(conn, "B-03", qr_issued_on="2024-10-08")
    assert client.get("/api/merchants/B-03/card.pdf").status_code == 200
    assert client.post("/api/merchants/B-03/qr-issued").json() == {"recorded": []}
    assert client.get("/api/merchants/B-03").json()["onboarding"]["qr_issued_on"] == "2024-10-08"
    with engine.connect() as conn:
        assert qr_issued_entries(conn, "B-03") == []


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


@pytest.mark.parametrize("route", ROUTES)
def test_stall_without_account_or_that_has_left_gets_a_clear_problem(client, engine, route):
    with engine.begin() as conn:
        add_stall(conn, "C-07", accounts=[])
        add_stall(conn, "C-08", n=8, status="left")
    detail = _problem(client.get(f"/api/merchants/c7/{route}"), 409)["detail"]
    assert "C-07" in detail
    assert "chưa có tài khoản mặc định" in detail
    detail = _problem(client.get(f"/api/merchants/C-08/{route}"), 409)["detail"]
    assert "C-08" in detail
    assert "ngưng kinh doanh" in detail
    assert client.get("/api/merchants/C-08").json()["onboarding"]["qr_issued_on"] is None


@pytest.mark.parametrize("route", ROUTES)
def test_unknown_stall_is_404(client, route):
    assert "Z-99" in _problem(client.get(f"/api/merchants/Z-99/{route}"), 404)["detail"]
    _problem(client.get(f"/api/merchants/not a code/{route}"), 404)


def test_bad_fixed_amount_or_content_is_named(client, stall_a12):
    problem = _problem(client.get("/api/merchants/A-12/card.png", params={"amount": 0}), 422)
    assert problem["errors"][0]["field"] == "amount"
    long_content = {"content": "Tiền hàng tháng mười hai năm"}  # 28 characters
    problem = _problem(client.get("/api/merchants/A-12/qr.png", params=long_content), 422)
    assert problem["errors"][0]["field"] == "content"
    _problem(client.get("/api/merchants/A-12/qr.svg", params={"amount": "năm chục"}), 400)
    assert client.get("/api/merchants/A-12").json()["onboarding"]["qr_issued_on"] is None


def test_print_sheet_of_a_zone_in_walking_order(client, engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1, row="Dãy 10")
        add_stall(conn, "A-02", n=2, row="Dãy 2")
        add_stall(conn, "A-03", n=3, row="Dãy 2")
        add_stall(conn, "A-04", n=4, row=None)
        add_stall(conn, "A-05", n=5, row="Dãy 1", status="paused")
        add_stall(conn, "A-06", n=6, row="Dãy 1", status="left")
        add_stall(conn, "A-07", accounts=[])
        add_stall(conn, "B-01", n=21)
    response = client.get("/api/cards.pdf", params={"zone": "a"}, headers=bearer(engine, "office", "office"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="the-vietqr-A.pdf"'
    assert response.headers["x-skipped-stalls"] == "A-07"
    pages = pdf_pages(response.content, dpi=150)
    assert len(pages) == 2
    walking = [5, 2, 3, 1, 4]  # Dãy 1, Dãy 2 (A-02, A-03), Dãy 10, then the stall without a row
    assert [code for page in pages for code in scan(page)] == [static_payload(account_number(n)) for n in walking]
    items = client.get("/api/merchants").json()["items"]
    assert all(item["onboarding"]["qr_issued_on"] is None for item in items)  # printing records nothing
    # Issue 20: the sheet used to record its stalls; the office now posts them once handed out.
    printed = [f"A-0{n}" for n in walking]
    recorded = client.post("/api/cards/issued", json={"stalls": printed}, headers=bearer(engine, "office", "office"))
    assert recorded.json() == {"recorded": ["A-01", "A-02", "A-03", "A-04", "A-05"]}
    issued = {item["code"]: item["onboarding"]["qr_issued_on"] for item in client.get("/api/merchants").json()["items"]}
    today = today_in_vietnam().isoformat()
    assert issued == {
        "A-01": today, "A-02": today, "A-03": today, "A-04": today, "A-05": today,
        "A-06": None, "A-07": None, "B-01": None,
    }  # fmt: skip


def test_print_sheet_of_listed_stalls_refuses_one_that_has_left(client, engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
        add_stall(conn, "B-01", n=2, status="left")
    sheet = client.get("/api/cards.pdf", params={"stall": ["b1", "a 1"]})
    assert "B-01" in _problem(sheet, 409)["detail"]
    assert client.get("/api/merchants/A-01").json()["onboarding"]["qr_issued_on"] is None
    _problem(client.get("/api/cards.pdf", params={"stall": ["A-01", "Z-09"]}), 404)
    _problem(client.get("/api/cards.pdf", params={"zone": "Q"}), 404)
    (page,) = pdf_pages(client.get("/api/cards.pdf", params={"stall": "A-01"}).content, dpi=150)
    assert scan(page) == [static_payload(account_number(1))]


def test_recording_issued_cards_is_all_or_nothing_and_for_the_office(client, engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
    _problem(client.post("/api/cards/issued", json={"stalls": ["A-01", "Z-09"]}), 404)
    _problem(client.post("/api/merchants/Z-09/qr-issued"), 404)
    assert client.get("/api/merchants/A-01").json()["onboarding"]["qr_issued_on"] is None
    refused = client.post("/api/merchants/A-01/qr-issued", headers=bearer(engine, "xa", "commune"))
    _problem(refused, 403)
    assert client.get("/api/merchants/A-01").json()["onboarding"]["qr_issued_on"] is None


def test_the_office_stall_page_marks_the_card_issued(client, engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
    page = client.get("/quan-ly/sap/A-01")
    assert 'action="/quan-ly/sap/A-01/da-cap-qr"' in page.text
    answer = client.post("/quan-ly/sap/a1/da-cap-qr", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/quan-ly/sap/A-01")
    assert client.get("/api/merchants/A-01").json()["onboarding"]["qr_issued_on"] == today_in_vietnam().isoformat()
    assert client.post("/quan-ly/sap/Z-09/da-cap-qr", follow_redirects=False).status_code == 404
