"""The pages in a real browser (Debian's Chromium through Playwright) against a real server process,
on SQLite and PostgreSQL: the live screen connects, shows a payment written to the ledger exactly
once and speaks it in Vietnamese, survives a server crash without losing a payment; the registry
search ignores diacritics; the review queue's form reaches the JSON API.

Headless Chromium has no audio, so ``speechSynthesis.speak`` is replaced before the page loads by a
recorder of what would have been said, and in which language.
"""

import re
import time

import pytest
import sqlalchemy as sa
from web_pages_helpers import add_receipt, add_review_item, add_stall

from browser import ARGS, CHROMIUM, MARKS
from credentials import holder_link, staff_session
from server_process import free_port, serve, stop

pytestmark = MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PHONE = {"width": 360, "height": 740}
RECORD_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (utterance) {
    window.__spoken.push({text: utterance.text, lang: utterance.lang});
  };
}
"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Server:
    def __init__(self, database_url):
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = serve(database_url, self.port)

    def crash_and_restart(self, while_down):
        stop(self.process, kill=True)
        while_down()
        self.process = serve(self.database_url, self.port)


@pytest.fixture
def server(engine, database_url):
    add_stall(engine, "A-12", "Nguyễn Thị Đào", n=1)
    add_stall(engine, "B-03", "Trần Văn Bình", n=2)
    add_stall(engine, "C-07", "Nguyễn Văn An", n=3)
    running = Server(database_url)
    yield running
    stop(running.process)


@pytest.fixture
def phone(browser, server, engine):
    """A stall holder's phone, signed in to A-12 by the stall's link."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    context.add_init_script(RECORD_SPEECH)
    page = context.new_page()
    page.goto(server.url + holder_link(engine, "A-12"))
    yield page
    context.close()


def office_page(browser, server, engine):
    """A page of a browser signed in as the market office."""
    context = browser.new_context()
    context.add_cookies([{"name": "market_session", "value": staff_session(engine), "url": server.url}])
    return context.new_page()


def _amount(text):
    # The page writes a no-break space before ₫ (CLDR vi-VN).
    return re.compile(r"^\s*" + re.escape(text).replace(r"\ ", r"\s") + r"\s*$")


def test_the_live_screen_shows_and_speaks_each_payment_exactly_once(server, engine, phone):
    phone.goto(f"{server.url}/sap/A-12/nhan-tien")
    expect(phone.locator("#state")).to_have_text("Đã kết nối", timeout=10_000)
    phone.get_by_role("button", name="Bật âm thanh").click()
    add_receipt(engine, "B-03", 7_000)  # another stall's
    receipt = add_receipt(engine, "A-12", 50_000, payer="LE THI HOA")
    expect(phone.locator("#latest .amount")).to_have_text(_amount("+50.000 ₫"), timeout=5_000)
    expect(phone.locator("#latest .payer")).to_have_text("LE THI HOA")
    time.sleep(3)  # three more polls: nothing may come twice
    expect(phone.locator("#payments li")).to_have_count(1)
    expect(phone.locator(f'#payments li[data-id="{receipt}"]')).to_have_count(1)
    expect(phone.locator("#total")).to_have_text(_amount("50.000 ₫"))
    spoken = phone.evaluate("window.__spoken")
    assert {"text": "Đã nhận năm mươi nghìn đồng", "lang": "vi-VN"} in spoken
    assert not any("bảy nghìn" in s["text"] for s in spoken)


def test_a_payment_made_while_the_server_was_down_appears_once_it_is_back(server, engine, phone):
    phone.goto(f"{server.url}/sap/A-12/nhan-tien")
    expect(phone.locator("#state")).to_have_text("Đã kết nối", timeout=10_000)
    first = add_receipt(engine, "A-12", 20_000)
    expect(phone.locator(f'#payments li[data-id="{first}"]')).to_have_count(1, timeout=5_000)
    missed = {}

    def pay_while_down():
        expect(phone.locator("#state")).to_have_text(re.compile("Mất kết nối"), timeout=10_000)
        missed["id"] = add_receipt(engine, "A-12", 70_000, payer="TRAN VAN BINH")

    server.crash_and_restart(pay_while_down)
    expect(phone.locator(f'#payments li[data-id="{missed["id"]}"]')).to_have_count(1, timeout=15_000)
    expect(phone.locator("#state")).to_have_text("Đã kết nối")
    expect(phone.locator("#latest .amount")).to_have_text(_amount("+70.000 ₫"))
    time.sleep(2)
    expect(phone.locator("#payments li")).to_have_count(2)


def test_amounts_are_read_the_way_vietnamese_say_them(server, phone):
    phone.goto(f"{server.url}/sap/A-12/nhan-tien")
    cases = {
        1_000: "một nghìn",
        10_000: "mười nghìn",
        15_000: "mười lăm nghìn",
        21_000: "hai mươi mốt nghìn",
        24_500: "hai mươi tư nghìn năm trăm",
        50_000: "năm mươi nghìn",
        105_000: "một trăm lẻ năm nghìn",
        1_000_500: "một triệu năm trăm",
        1_005_000: "một triệu không trăm lẻ năm nghìn",
        1_234_567: "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy",
        2_000_000_000: "hai tỷ",
    }
    read = phone.evaluate("(amounts) => amounts.map((n) => window.marketLive.readVietnamese(n))", list(cases))
    assert dict(zip(cases, read, strict=True)) == cases


def test_the_registry_search_finds_nguyen_without_its_diacritics(server, engine, browser):
    page = office_page(browser, server, engine)
    page.goto(f"{server.url}/quan-ly/sap")
    page.get_by_label("Tìm (mã sạp, tên, số điện thoại)").fill("nguyen")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Nguyễn Thị Đào")
    expect(rows.nth(1)).to_contain_text("Nguyễn Văn An")
    expect(page.locator("table.list")).not_to_contain_text("Trần Văn Bình")
    page.close()


def test_a_review_decision_goes_through_the_json_api(server, engine, browser):
    item = add_review_item(
        engine, 120_000, "CK A12", "unknown_account", [{"stall": "A-12", "score": 60, "why": "code_owner"}]
    )
    page = office_page(browser, server, engine)
    page.goto(f"{server.url}/quan-ly/doi-soat")
    form = page.locator(f"#item-{item} form")
    form.get_by_label("Lý do quyết định (bắt buộc)").fill("khách gọi điện xác nhận")
    form.get_by_role("button", name="Lưu quyết định").click()
    expect(form.locator("output")).to_have_text("Đã xử lý", timeout=10_000)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT resolution, resolution_note FROM review_items WHERE id = :id"), {"id": item})
        assert tuple(row.one()) == ("stall", "khách gọi điện xác nhận")
    page.close()
