"""The server-rendered pages on SQLite and PostgreSQL: Vietnamese by default, English on request,
friendly HTML errors, diacritics-free search, and what each page shows its user."""

import datetime as dt
import re

import pytest
from web_pages_helpers import VIETNAM, add_receipt, add_review_item, add_stall, add_stall_day

from credentials import bearer

NBSP = "\u00a0"
HTML = "text/html"
PAGES = ["/", "/sap/A-12", "/sap/A-12/nhan-tien", "/quan-ly/sap", "/quan-ly/sap/A-12", "/quan-ly/doi-soat", "/bao-cao"]


@pytest.fixture
def market(engine):
    add_stall(engine, "A-12", "Nguyễn Thị Đào", n=1, category="dry_goods")
    add_stall(engine, "B-03", "Trần Văn Bình", n=2, category="fresh_food")
    return engine


def _html(response, status=200):
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(HTML)
    return response.text


def _lang(text):
    return re.search(r'<html lang="(\w+)"', text).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_vietnamese_by_default_and_english_on_request(client, market, path):
    vietnamese = _html(client.get(path))
    assert _lang(vietnamese) == "vi"
    assert ">English<" in vietnamese  # the way to the other language
    english = _html(client.get(path, params={"lang": "en"}))
    assert _lang(english) == "en"
    assert ">Tiếng Việt<" in english
    assert english != vietnamese


def test_the_language_choice_sticks_until_changed(client, market):
    first = client.get("/", params={"lang": "en"})
    assert "lang=en" in first.headers["set-cookie"]
    assert _lang(_html(client.get("/quan-ly/sap"))) == "en"
    assert "Stalls" in client.get("/quan-ly/sap").text
    back = client.get("/quan-ly/sap", params={"lang": "vi"})
    assert _lang(_html(back)) == "vi"
    assert _lang(_html(client.get("/bao-cao"))) == "vi"


@pytest.mark.parametrize("path", ["/sap/Z-99", "/sap/Z-99/nhan-tien", "/quan-ly/sap/Z-99", "/sap/not-a-code"])
def test_an_unknown_stall_is_a_friendly_html_404(client, market, path):
    text = _html(client.get(path), 404)
    assert "Không tìm thấy" in text
    assert 'name="ma"' in text  # a way to type the right code
    english = _html(client.get(path, params={"lang": "en"}), 404)
    assert "There is no stall" in english


def test_the_api_keeps_problem_json_for_an_unknown_stall(client, market):
    response = client.get("/api/merchants/Z-99")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    stream = client.get("/api/stream/Z-99")
    assert stream.status_code == 404
    assert stream.headers["content-type"].startswith("application/problem+json")


def test_the_home_form_opens_the_stall_page_whatever_the_spelling(client, market):
    response = client.get("/sap", params={"ma": " a 12 "}, follow_redirects=False)
    assert response.status_code in (301, 302, 303, 307)
    assert response.headers["location"] == "/sap/A-12"
    followed = client.get("/sap", params={"ma": "sạp a12"})
    assert "Nguyễn Thị Đào" in followed.text
    assert "/sap/A-12/nhan-tien" in followed.text
    unknown = client.get("/sap", params={"ma": "xin chào/1"})
    assert unknown.status_code == 404
    assert "Không tìm thấy" in unknown.text


def test_the_stall_page_shows_the_account_the_qr_and_the_card(client, market):
    text = _html(client.get("/sap/a12"))
    assert "6015294400001" in text
    assert "NGUYEN THI DAO" in text
    assert "Agribank" in text
    for link in ("/api/merchants/A-12/qr.svg", "/api/merchants/A-12/card.png", "/api/merchants/A-12/card.pdf"):
        assert link in text
    assert 'href="/sap/A-12/nhan-tien"' in text


def test_a_stall_without_an_account_is_told_whom_to_ask(client, engine):
    from market.merchants import service
    from market.merchants.schemas import HolderIn, StallIn

    with engine.begin() as conn:
        service.create_stall(conn, StallIn(code="C-01", holder=HolderIn(full_name="Lê Văn Cường")), "test")
    text = _html(client.get("/sap/C-01"))
    assert "chưa có tài khoản" in text
    assert "card.png" not in text


def test_the_live_screen_starts_with_todays_payments_in_vietnamese_money(client, market):
    yesterday = dt.datetime.now(VIETNAM) - dt.timedelta(days=1)
    add_receipt(market, "A-12", 99_000, at=yesterday.astimezone(dt.UTC))
    add_receipt(market, "A-12", 50_000, payer="LE THI HOA")
    newest = add_receipt(market, "A-12", 1_234_567, payer=None)
    add_receipt(market, "B-03", 7_000)  # another stall's
    text = _html(client.get("/sap/A-12/nhan-tien"))
    assert f"+1.234.567{NBSP}₫" in text
    assert f"+50.000{NBSP}₫" in text
    assert "99.000" not in text
    assert "7.000" not in text
    assert "2 khoản" in text
    assert f"1.284.567{NBSP}₫" in text
    assert "LE THI HOA" in text
    assert f'"since": {newest}' in text  # the stream resumes after what the page already shows
    assert "Đang kết nối" in text
    assert "Bật âm thanh" in text


def test_search_ignores_diacritics_and_filters_narrow_the_list(client, market):
    text = _html(client.get("/quan-ly/sap", params={"q": "nguyen"}))
    assert "Nguyễn Thị Đào" in text
    assert "Trần Văn Bình" not in text
    assert "1 sạp" in text
    by_category = _html(client.get("/quan-ly/sap", params={"category": "fresh_food"}))
    assert "Trần Văn Bình" in by_category
    assert "Nguyễn Thị Đào" not in by_category
    by_zone = _html(client.get("/quan-ly/sap", params={"zone": "A"}))
    assert "Nguyễn Thị Đào" in by_zone
    assert "Trần Văn Bình" not in by_zone
    assert "/api/cards.pdf?zone=A" in by_zone
    nothing = _html(client.get("/quan-ly/sap", params={"q": "không ai"}))
    assert "Không có sạp nào khớp" in nothing


def test_a_bad_filter_is_explained_on_an_html_page(client, market):
    text = _html(client.get("/quan-ly/sap", params={"status": "bogus"}), 422)
    assert "Thông tin chưa đúng" in text
    assert "status" in text


def test_the_list_pages_by_fifty(client, engine):
    for n in range(1, 56):
        add_stall(engine, f"D-{n:02d}", f"Phạm Văn {n}", n=n)
    first = _html(client.get("/quan-ly/sap"))
    assert "55 sạp" in first
    assert "Trang 1/2" in first
    assert "D-50" in first
    assert "D-51" not in first
    second = _html(client.get("/quan-ly/sap", params={"page_number": 2}))
    assert "D-51" in second
    assert "D-55" in second
    assert "D-50" not in second
    assert "Trang 2/2" in second


def test_the_office_stall_page_shows_payments_history_and_card_links(client, market, settings):
    add_receipt(market, "A-12", 35_000, payer="VO VAN TAM", memo="A12 rau muong")
    client.patch(
        "/api/merchants/A-12", json={"holder": {"phone": "0987654321"}}, headers=bearer(settings, "bql", "office")
    )
    text = _html(client.get("/quan-ly/sap/a-12"))
    assert f"35.000{NBSP}₫" in text
    assert "VO VAN TAM" in text
    assert "A12 rau muong" in text
    assert "0987654321" in text
    assert "bql" in text
    assert "/api/merchants/A-12/card.pdf" in text
    assert "/sap/A-12/nhan-tien" in text
    assert re.search(r"\d\d:\d\d \d\d/\d\d/\d{4}", text)  # 24-hour time, dd/mm/yyyy


def test_the_review_queue_lists_unmatched_payments_with_suggestions(client, market):
    item = add_review_item(
        market, 120_000, "CK sap A12 ca", "unknown_account", [{"stall": "A-12", "score": 60, "why": "code_owner"}]
    )
    text = _html(client.get("/quan-ly/doi-soat"))
    assert f"120.000{NBSP}₫" in text
    assert "CK sap A12 ca" in text
    assert "Tiền vào tài khoản không thuộc sạp nào" in text
    assert "Money into" not in text
    assert 'href="/quan-ly/sap/A-12"' in text
    assert 'value="stall|A-12"' in text
    assert f'action="/api/reconcile/unmatched/{item}/resolve"' in text
    english = _html(client.get("/quan-ly/doi-soat", params={"lang": "en"}))
    assert "Money into no stall" in english


def test_the_report_shows_numerator_over_denominator_beside_every_rate(client, market):
    add_stall_day(market, "A-12", dt.datetime.now(VIETNAM).date(), 1, 10_000)
    text = _html(client.get("/bao-cao"))
    rates = re.findall(r'<td class="num">(\d+)/(\d+)</td>\s*<td class="num">([\d.,]+)\s%</td>', text)
    assert rates, "no figure found"
    for numerator, denominator, rate in rates:
        expected = f"{int(numerator) * 100 / int(denominator):.2f}".replace(".", ",")
        assert rate == expected
    assert "Theo khu" in text
    assert "Theo ngành hàng" in text
    assert re.search(r'1/1 <span class="muted">\(100,00\s%\)</span>', text)  # zone A: its 1 stall transacting
    assert "/api/reports/commune" in text
    assert "/api/reports/visits?format=pdf" in text


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_outside_and_their_assets_are_cacheable(client, market, path):
    text = _html(client.get(path))
    links = re.findall(r'(?:src|href|action)="([^"]*)"', text)
    assert links
    outside = [link for link in links if not link.startswith(("/", "#", "data:"))]
    assert outside == []
    for asset in re.findall(r'(?:src|href)="(/static/app/[^"]+)"', text):
        assert "?v=" in asset  # versioned, so a year of caching is safe
        response = client.get(asset)
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["cache-control"]
