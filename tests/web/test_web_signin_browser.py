"""Signing in, out and by a stall's link in a real browser (Debian's Chromium through Playwright)
against a real server process, on SQLite and PostgreSQL.

- A wrong password shows a Vietnamese error; the right one lands on the page that was asked for.
- The session cookie is HttpOnly and changes at sign-in; signing out ends the session.
- A form on another site (no CSRF token) cannot sign the user out, and a ``text/plain`` post to a
  JSON endpoint is refused.
- A stall's link signs a phone in to that stall only; revoking it (``market merchants link --revoke``)
  signs the phone out.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import httpx
import pytest
from web_pages_helpers import add_stall

from browser import ARGS, CHROMIUM, MARKS
from credentials import PASSWORD, add_staff
from server_process import free_port, serve, stop

pytestmark = MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

COOKIE = "market_session"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(engine, database_url):
    add_stall(engine, "A-02", "Trần Thị Hai", n=2)
    add_stall(engine, "A-03", "Lê Văn Ba", n=3)
    add_staff(engine, "lan", "office")
    port = free_port()
    process = serve(database_url, port)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture
def context(browser):
    opened = browser.new_context(locale="vi-VN")
    yield opened
    opened.close()


class _Evil(http.server.BaseHTTPRequestHandler):
    """Another site's page: forms aimed at the market's server."""

    target = ""

    def do_GET(self):
        body = f"""<!doctype html><meta charset="utf-8">
<form id="out" method="post" action="{self.target}/dang-xuat"><button>Nhận quà</button></form>
<form id="plain" method="post" enctype="text/plain" action="{self.target}/api/intents">
<input name='{{"stall": "A-02", "amount": 1000, "x": "' value='"}}'><button>Xem</button></form>"""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def evil_site(server):
    handler = type("Evil", (_Evil,), {"target": server})
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()


def _session(context):
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def _sign_in(page, password):
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_sign_in_lands_on_the_page_asked_for_and_sign_out_ends_the_session(server, context):
    context.add_cookies([{"name": COOKIE, "value": "planted-by-someone", "url": server}])
    page = context.new_page()
    page.goto(f"{server}/quan-ly/sap?q=hai")
    assert page.url == f"{server}/dang-nhap?next=%2Fquan-ly%2Fsap%3Fq%3Dhai"

    _sign_in(page, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")

    _sign_in(page, PASSWORD)
    page.wait_for_url(f"{server}/quan-ly/sap?q=hai")
    expect(page.locator("table.list")).to_contain_text("Trần Thị Hai")
    cookie = _session(context)
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert cookie["value"] != "planted-by-someone"
    assert page.evaluate("document.cookie").find(COOKIE) == -1  # scripts cannot read it

    signed_in = cookie["value"]
    page.goto(f"{server}/dang-nhap")
    _sign_in(page, PASSWORD)
    page.wait_for_url(f"{server}/quan-ly/sap")
    assert _session(context)["value"] != signed_in  # a new id at each sign-in
    gone = httpx.get(f"{server}/quan-ly/sap", cookies={COOKIE: signed_in})
    assert gone.status_code == 303  # the session it replaced is over

    current = _session(context)["value"]
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{server}/dang-nhap")
    assert _session(context) is None
    assert httpx.get(f"{server}/quan-ly/sap", cookies={COOKIE: current}).status_code == 303
    page.goto(f"{server}/quan-ly/sap")
    assert page.url.startswith(f"{server}/dang-nhap?next=")


def test_another_sites_forms_are_refused(server, evil_site, context):
    page = context.new_page()
    page.goto(f"{server}/dang-nhap")
    _sign_in(page, PASSWORD)
    page.wait_for_url(f"{server}/quan-ly/sap")

    evil = context.new_page()
    evil.goto(evil_site)
    with evil.expect_navigation() as sign_out:
        evil.locator("#out button").click()
    assert sign_out.value.status == 403  # no CSRF token
    evil.goto(evil_site)
    with evil.expect_navigation() as plain:
        evil.locator("#plain button").click()
    assert plain.value.status in (401, 415)  # text/plain to a JSON endpoint (the Lax cookie stays home)

    page.goto(f"{server}/quan-ly/sap")
    assert page.url == f"{server}/quan-ly/sap"  # still signed in
    with_cookie = httpx.post(
        f"{server}/api/intents",
        content=b'{"stall": "A-02", "amount": 1000}',
        headers={"Content-Type": "text/plain"},
        cookies={COOKIE: _session(context)["value"]},
    )
    assert with_cookie.status_code == 415


def _market(database_url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(MARKET_DATABASE_URL=database_url, MARKET_PUBLIC_URL="http://example.invalid")
    done = subprocess.run(
        [sys.executable, "-m", "market", *args], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip().splitlines()


def test_a_holders_link_signs_the_phone_in_to_its_stall_until_revoked(server, database_url, browser):
    link = _market(database_url, "merchants", "link", "A-02")[-1].removeprefix("http://example.invalid")
    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = phone.new_page()
    page.goto(server + link)
    assert page.url == f"{server}/sap/A-02/nhan-tien"
    assert _session(phone)["httpOnly"]
    other = page.goto(f"{server}/sap/A-03/nhan-tien")
    assert other.status == 403
    expect(page.locator("h1")).to_have_text("Không có quyền truy cập")
    assert page.goto(f"{server}/quan-ly/sap").status == 403

    _market(database_url, "merchants", "link", "A-02", "--revoke")
    page.goto(f"{server}/sap/A-02/nhan-tien")
    assert page.url.startswith(f"{server}/dang-nhap?next=")
    again = page.goto(server + link)
    assert again.status == 410
    phone.close()
