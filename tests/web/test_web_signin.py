"""The sign-in and sign-out forms over HTTP (both databases): errors in Vietnamese, the throttle's
429, the cookie's attributes, ``next`` kept local, CSRF tokens required, sign-out audited."""

import re

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from conftest import make_settings
from credentials import PASSWORD, add_staff
from market.web.app import create_app
from market.web.routes import signin


@pytest.fixture
def browser_client(settings, engine, monkeypatch):
    """A client with no credentials, like a browser's first visit; the throttle's waits skipped."""

    async def no_wait(seconds):
        return None

    monkeypatch.setattr(signin, "_hold", no_wait)
    add_staff(engine, "lan", "office")
    with TestClient(app=create_app(settings)) as client:
        yield client


def _token(client, url="/dang-nhap"):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(url).text).group(1)


def _sign_in(client, password, **extra):
    form = {"username": "lan", "password": password, "csrf": _token(client), **extra}
    return client.post("/dang-nhap", data=form, follow_redirects=False)


def test_a_wrong_password_is_answered_in_vietnamese(browser_client, engine):
    answer = _sign_in(browser_client, "wrong password")
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in answer.text
    assert "market_session" not in answer.cookies
    with engine.connect() as conn:
        actions = list(conn.execute(sa.text("SELECT action FROM audit_events WHERE action LIKE 'sign_in%'")).scalars())
    assert actions == ["sign_in_failed"]  # recorded once, by the domain


def test_the_right_password_sets_a_hardened_cookie_and_goes_on_to_next(browser_client):
    answer = _sign_in(browser_client, PASSWORD, next="/bao-cao?period=2026-11")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/bao-cao?period=2026-11"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("market_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "Secure" not in cookie


def test_next_never_leads_off_the_site(browser_client):
    answer = _sign_in(browser_client, PASSWORD, next="//evil.example/phish")
    assert answer.headers["location"] == "/quan-ly/sap"  # the office's home


def test_the_cookie_is_secure_behind_https(database_url, engine):
    add_staff(engine, "lan", "office")
    app = create_app(make_settings(database_url, public_url="https://cho.example.vn", allowed_hosts="testserver.local"))
    with TestClient(app=app, base_url="https://testserver.local") as client:
        answer = _sign_in(client, PASSWORD)
    assert "Secure" in next(h for h in answer.headers.get_list("set-cookie") if h.startswith("market_session="))


def test_a_form_without_its_csrf_token_is_refused(browser_client):
    browser_client.get("/dang-nhap")
    answer = browser_client.post("/dang-nhap", data={"username": "lan", "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 403
    assert "Không có quyền truy cập" in answer.text


def test_too_many_wrong_passwords_are_refused_with_retry_after(browser_client):
    statuses = [_sign_in(browser_client, f"wrong {n}").status_code for n in range(10)]
    assert statuses == [401] * 10
    refused = _sign_in(browser_client, PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Sai quá nhiều lần" in refused.text


def test_sign_out_ends_the_session_and_is_audited(browser_client, engine):
    _sign_in(browser_client, PASSWORD)
    assert browser_client.get("/quan-ly/sap", follow_redirects=False).status_code == 200
    csrf = _token(browser_client, "/quan-ly/sap")
    assert browser_client.post("/dang-xuat", data={}, follow_redirects=False).status_code == 403
    answer = browser_client.post("/dang-xuat", data={"csrf": csrf}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dang-nhap")
    assert browser_client.get("/quan-ly/sap", follow_redirects=False).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM web_sessions")).scalar_one() == 0
        assert "sign_out" in set(conn.execute(sa.text("SELECT action FROM audit_events")).scalars())


def test_an_unknown_link_is_a_vietnamese_page(browser_client):
    answer = browser_client.get("/s/not-a-real-link")
    assert answer.status_code == 410
    assert "Đường dẫn không còn hiệu lực" in answer.text


def test_the_office_makes_and_revokes_a_holders_link_from_the_stall_page(browser_client, engine):
    from web_pages_helpers import add_stall

    add_stall(engine, "A-02", "Trần Thị Hai", n=2)
    _sign_in(browser_client, PASSWORD)
    csrf = _token(browser_client, "/quan-ly/sap/A-02")
    made = browser_client.post("/quan-ly/sap/A-02/lien-ket", data={"csrf": csrf})
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    link = re.search(r'<code class="link">http://testserver.local(/s/[^<]+)</code>', made.text).group(1)
    assert 'src="data:image/svg+xml;base64,' in made.text

    with TestClient(app=browser_client.app) as phone:
        assert phone.get(link, follow_redirects=False).headers["location"] == "/sap/A-02/nhan-tien"
        assert phone.get("/sap/A-02/nhan-tien", follow_redirects=False).status_code == 200
        revoked = browser_client.post("/quan-ly/sap/A-02/lien-ket/thu-hoi", data={"csrf": csrf})
        assert "Đã thu hồi 1 đường dẫn" in revoked.text
        assert phone.get("/sap/A-02/nhan-tien", follow_redirects=False).status_code == 303
    with engine.connect() as conn:
        actions = set(conn.execute(sa.text("SELECT action FROM audit_events")).scalars())
    assert {"link_created", "link_sign_in", "link_revoked"} <= actions


def test_the_admin_reads_the_audit_log_and_no_one_else_does(browser_client, settings, engine):
    from credentials import bearer

    _sign_in(browser_client, "wrong password")
    _sign_in(browser_client, PASSWORD)
    admin = bearer(settings, "head", "admin")
    answer = browser_client.get("/api/audit", headers=admin, params={"action": "sign_in_failed"})
    assert answer.status_code == 200
    events = answer.json()
    assert [(e["action"], e["subject"]) for e in events] == [("sign_in_failed", "lan")]
    everything = browser_client.get("/api/audit", headers=admin).json()
    assert {"sign_in", "sign_in_failed"} <= {e["action"] for e in everything}
    assert PASSWORD not in str(everything)
    office = bearer(settings, "mai", "office")
    assert browser_client.get("/api/audit", headers=office).status_code == 403
    assert browser_client.get("/api/audit").status_code == 403  # lan, signed in above, is office
    browser_client.cookies.clear()
    assert browser_client.get("/api/audit").status_code == 401
    bad = browser_client.get("/api/audit", headers=admin, params={"limit": 0})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
