"""Every route of the app, taken from the app object itself, called anonymously and as every role.

- Every handler declares who may call it (``opt["access"]``); one that does not fails here first.
- Anonymous: 401 problem+json on the API, 303 to the sign-in page on pages; public routes answer.
- A role outside a route's permission: 403. A stall's holder signed in to A-02: 403 on every
  thing of A-03 (stream, stall page, live screen, images, intents), through on A-02's.
- Allowed: the gate lets the request through; what the handler then answers is not checked
  here, except that it is never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import get
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from web_pages_helpers import add_review_item, add_stall

from credentials import bearer, holder_link
from market.access.roles import STALL_SCOPED, AuthMethod, Permission, Role, allowed, holder_principal, staff_principal
from market.reconcile.ledger.intents import IntentIn, create_intent
from market.web.app import create_app
from market.web.auth.middleware import SESSION_COOKIE
from market.web.auth.rules import ACCESS, STALL_FROM, StallFrom, is_public

PROBLEM = "application/problem+json"
OWN, OTHER = "A-02", "A-03"
# What public routes answer is theirs to choose; provider routes check their own signatures.
PUBLIC_PATHS = {
    "/healthz",
    "/",
    "/sap",
    "/dang-nhap",
    "/s/{token:str}",
    "/static/app/{file_path:path}",
    "/static/swagger/{file_path:path}",
}


@dataclass(frozen=True)
class Call:
    """One request to make: the handler's rule, the stall it concerns (if any) and how to send it."""

    method: str
    path: str
    rule: Any
    stall_from: Any
    stall: str | None
    json: Any = None


@dataclass
class Market:
    client: TestClient  # type: ignore[type-arg]
    headers: dict[str | None, dict[str, str]]  # principal name -> request headers
    intents: dict[str, str]  # stall -> an intent code of that stall
    item_id: int


def _principals(stall_ids: dict[str, int]) -> dict[str | None, Any]:
    staff = {
        role.value: staff_principal(user_id=1, username=role.value, full_name="", role=role, via=AuthMethod.TOKEN)
        for role in (Role.ADMIN, Role.OFFICE, Role.COMMUNE, Role.TEAM)
    }
    holder = holder_principal(stall_id=stall_ids[OWN], stall_code=OWN, holder_name=None)
    return {None: None, "holder": holder, **staff}


@pytest.fixture
def market(settings, engine) -> Iterator[Market]:
    add_stall(engine, OWN, "Trần Thị Hai", n=2)
    add_stall(engine, OTHER, "Lê Văn Ba", n=3)
    intents = {}
    with engine.begin() as conn:
        for code in (OWN, OTHER):
            intents[code] = create_intent(conn, IntentIn(stall=code, amount=10_000)).code
    item_id = add_review_item(engine, 5_000, "chuyen tien", "unknown_account", [])
    headers: dict[str | None, dict[str, str]] = {None: {}}
    for role in ("admin", "office", "commune", "team"):
        headers[role] = bearer(settings, role, role)
    link = holder_link(settings, OWN)
    with TestClient(app=create_app(settings)) as client:
        answer = client.get(link, follow_redirects=False)
        assert answer.status_code == 303
        headers["holder"] = {"Cookie": f"{SESSION_COOKIE}={answer.cookies[SESSION_COOKIE]}"}
        client.cookies.clear()
        yield Market(client, headers, intents, item_id)


def _declared_handlers(app) -> Iterator[tuple[HTTPRoute, Any]]:
    for route in app.routes:
        assert isinstance(route, HTTPRoute), route
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's own Allow answer
            yield route, handler


def _calls(app, market: Market) -> Iterator[Call]:
    for route, handler in _declared_handlers(app):
        rule, stall_from = handler.opt.get(ACCESS), handler.opt.get(STALL_FROM)
        params = route.path_parameters
        stalls: list[str | None] = [OWN, OTHER] if ("stall" in params or stall_from == StallFrom.HANDLER) else [None]
        for method in sorted(handler.http_methods - {"HEAD"}):
            for stall in stalls:
                yield Call(method, route.path, rule, stall_from, stall)


def _url(call: Call, market: Market) -> str:
    url = call.path
    fills = {
        "{stall:str}": call.stall or OWN,
        "{ref:str}": market.intents[call.stall or OWN],
        "{item_id:int}": str(market.item_id),
        "{change_id:int}": "1",
        "{token:str}": "not-a-link",
        "{key:str}": "ket_noi",
        "{file_path:path}": "app.css",
        "{path:str}": "swagger",
    }
    for name, value in fills.items():
        url = url.replace(name, value)
    assert "{" not in url, f"a path parameter of {call.path} has no test value: add it to the fills"
    return url


def _send(market: Market, who: str | None, call: Call):
    headers = {**market.headers[who], "If-None-Match": "*"}  # images: a 304 before anything is drawn
    url = _url(call, market)
    if call.method == "GET":
        return market.client.get(url, headers=headers, follow_redirects=False)
    body: dict[str, Any] = {"stall": call.stall, "amount": 10_000} if url == "/api/intents" else {}
    return market.client.request(call.method, url, json=body, headers=headers, follow_redirects=False)


def _through_the_gate(status: int) -> bool:
    """Neither refused by the gate nor broken behind it."""
    return status not in (401, 403) and status < 500


def _expected_allowed(principal, call: Call, stall_ids: dict[str, int]) -> bool:
    permission = Permission(call.rule)
    stall_id = stall_ids[call.stall] if call.stall and permission in STALL_SCOPED else None
    return allowed(principal, permission, stall_id=stall_id)


def test_every_route_declares_who_may_call_it(market):
    undeclared = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route, handler in _declared_handlers(market.client.app)
        if ACCESS not in handler.opt
    ]
    assert undeclared == []


def test_a_route_added_without_a_declaration_is_refused(settings):
    @get("/quan-ly/moi", sync_to_thread=False)
    def new_page() -> str:
        return "secret"

    app = create_app(settings)
    app.register(new_page)
    with TestClient(app=app) as client:
        client.headers.update(bearer(settings))
        answer = client.get("/quan-ly/moi")
    assert answer.status_code == 403


def test_every_route_lets_in_exactly_whom_it_declares(market, engine):
    import sqlalchemy as sa

    with engine.connect() as conn:
        stall_ids = {code: id_ for id_, code in conn.execute(sa.text("SELECT id, code FROM stalls"))}
    principals = _principals(stall_ids)
    seen_paths, sent = set(), 0

    # Revoking A-02's links signs its holder out: that route goes last, and the holder first in each.
    def revoking_own_last(call: Call) -> tuple[bool, bool]:
        return call.path.endswith("/thu-hoi"), call.stall == OWN

    calls = sorted(_calls(market.client.app, market), key=revoking_own_last)
    for call in calls:
        seen_paths.add(call.path)
        if call.rule == "provider":
            assert call.path.startswith(("/webhooks/", "/vietqr/")), call
            continue
        for who, principal in principals.items():
            if call.rule == "public" or is_public(call.rule):
                if call.method != "GET":
                    continue  # the sign-in and sign-out forms: their CSRF check is tested in the browser
                answer = _send(market, who, call)
                assert _through_the_gate(answer.status_code), (who, call, answer.text)
                continue
            stream = call.path == "/api/stream/{stall:str}"
            if stream and principal is not None and _expected_allowed(principal, call, stall_ids):
                continue  # an open stream never ends: its allowed side is tested with a real server
            answer = _send(market, who, call)
            sent += 1
            context = (who, call, answer.status_code, answer.text[:200])
            api = call.path.startswith("/api/")
            if principal is None:
                if api or call.method != "GET":  # a form post cannot be sent on to the sign-in page
                    assert answer.status_code == 401, context
                    assert answer.headers["content-type"].startswith(PROBLEM), context
                else:
                    assert answer.status_code == 303, context
                    assert answer.headers["location"].startswith("/dang-nhap?next="), context
            elif _expected_allowed(principal, call, stall_ids):
                assert _through_the_gate(answer.status_code), context
            else:
                assert answer.status_code == 403, context
                if api:
                    assert answer.headers["content-type"].startswith(PROBLEM), context
                else:
                    assert "Không có quyền truy cập" in answer.text, context
    assert sent > 150  # every route, as every principal
    public = {path for path in seen_paths if path in PUBLIC_PATHS or path.startswith("/schema")}
    assert public >= PUBLIC_PATHS


def test_a_holder_gets_nothing_of_another_stall(market):
    holder = market.headers["holder"]
    other = [
        f"/sap/{OTHER}",
        f"/sap/{OTHER}/nhan-tien",
        f"/api/stream/{OTHER}",
        f"/api/merchants/{OTHER}/qr.png",
        f"/api/merchants/{OTHER}/qr.svg",
        f"/api/merchants/{OTHER}/card.png",
        f"/api/merchants/{OTHER}/card.pdf",
        f"/api/intents/{market.intents[OTHER]}",
        f"/api/intents/{market.intents[OTHER]}/qr.png",
    ]
    for url in other:
        assert market.client.get(url, headers=holder, follow_redirects=False).status_code == 403, url
    created = market.client.post("/api/intents", json={"stall": OTHER, "amount": 1_000}, headers=holder)
    assert created.status_code == 403
    assert market.client.post("/api/intents", json={"stall": "a02", "amount": 1_000}, headers=holder).status_code == 201
    assert market.client.get(f"/sap/{OWN}/nhan-tien", headers=holder).status_code == 200
    assert market.client.get(f"/api/merchants/{OWN}", headers=holder).status_code == 403  # the registry is staff's


def test_the_anonymous_account_change_is_refused(market):
    before = market.client.get(f"/api/merchants/{OWN}", headers=market.headers["admin"]).json()["accounts"]
    stranger = {"accounts": [{"bank": "Vietcombank", "account_number": "0071000123456"}]}
    answer = market.client.patch(f"/api/merchants/{OWN}", json=stranger)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert (
        market.client.patch(f"/api/merchants/{OWN}", json=stranger, headers=market.headers["commune"]).status_code
        == 403
    )
    after = market.client.get(f"/api/merchants/{OWN}", headers=market.headers["admin"]).json()["accounts"]
    assert after == before


def test_national_ids_are_for_admin_and_phones_not_for_the_commune(market):
    url = f"/api/merchants/{OWN}"
    for who, status in (("admin", 200), ("office", 403), ("commune", 403), ("team", 403)):
        answer = market.client.get(url, params={"include": "national_id"}, headers=market.headers[who])
        assert answer.status_code == status, who
    assert market.client.get(url, headers=market.headers["office"]).json()["holder"]["phone"]
    assert market.client.get(url, headers=market.headers["commune"]).json()["holder"]["phone"] is None
    listed = market.client.get("/api/merchants", headers=market.headers["commune"]).json()["items"]
    assert listed
    assert all(item["holder"]["phone"] is None for item in listed)


def test_the_outreach_team_sees_phones_but_no_receiving_accounts(market):
    url = f"/api/merchants/{OWN}"
    assert market.client.get(url, headers=market.headers["office"]).json()["accounts"]
    team = market.client.get(url, headers=market.headers["team"]).json()
    assert team["holder"]["phone"]
    assert team["accounts"] == []
    listed = market.client.get("/api/merchants", headers=market.headers["team"]).json()["items"]
    assert listed
    assert all(item["accounts"] == [] for item in listed)
    history = market.client.get(f"{url}/history", headers=market.headers["team"]).json()["items"]
    assert all(change["new"] is None for change in history if change["field"] == "accounts")


def test_the_home_page_shows_figures_only_to_those_who_may_read_them(market):
    anonymous = market.client.get("/").text
    commune = market.client.get("/", headers=market.headers["commune"]).text
    assert 'class="figures"' not in anonymous
    assert 'class="figures"' in commune


def test_json_endpoints_refuse_other_media_types(market):
    office = market.headers["office"]
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        answer = market.client.post(
            "/api/intents",
            content=b'{"stall": "A-02", "amount": 1000}',
            headers={**office, "Content-Type": content_type},
        )
        assert answer.status_code == 415, content_type
        assert answer.headers["content-type"].startswith(PROBLEM)


def test_pages_carry_the_security_headers(market):
    answer = market.client.get("/dang-nhap")
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_next_must_be_a_local_path(market):
    from market.web.auth.answers import safe_next

    assert safe_next("/quan-ly/sap?q=a") == "/quan-ly/sap?q=a"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""):
        assert safe_next(bad) == "/", bad


def test_an_unknown_host_is_refused(market):
    assert market.client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


# Who may call what, as the issue sets it out (the routes not listed only need a declaration).
RULES = {
    ("PATCH", "/api/merchants/{stall:str}"): Permission.REGISTRY_WRITE,
    ("POST", "/api/merchants"): Permission.REGISTRY_WRITE,
    ("GET", "/api/merchants"): Permission.REGISTRY_READ,
    ("GET", "/api/reconcile/unmatched"): Permission.REVIEW_QUEUE,
    ("POST", "/api/reconcile/unmatched/{item_id:int}/resolve"): Permission.REVIEW_QUEUE,
    ("GET", "/quan-ly/doi-soat"): Permission.REVIEW_QUEUE,
    ("GET", "/api/adoption"): Permission.ADOPTION_READ,
    ("GET", "/api/reports/commune"): Permission.ADOPTION_READ,
    ("PUT", "/api/reports/surveys/{key:str}"): Permission.SURVEY_WRITE,
    ("GET", "/bao-cao"): Permission.ADOPTION_READ,
    ("GET", "/api/reports/visits"): Permission.VISITS_READ,
    ("GET", "/api/cards.pdf"): Permission.REGISTRY_WRITE,
    ("POST", "/api/merchants/{stall:str}/qr-issued"): Permission.REGISTRY_WRITE,
    ("POST", "/api/cards/issued"): Permission.REGISTRY_WRITE,
    ("POST", "/quan-ly/sap/{stall:str}/da-cap-qr"): Permission.REGISTRY_WRITE,
    ("GET", "/api/stream/{stall:str}"): Permission.STALL_STREAM,
    ("GET", "/sap/{stall:str}/nhan-tien"): Permission.STALL_TAKINGS,
    ("GET", "/api/merchants/{stall:str}/card.pdf"): Permission.STALL_CARD,
    ("POST", "/api/intents"): Permission.STALL_INTENTS,
    ("GET", "/api/intents/{ref:str}"): Permission.STALL_INTENTS,
    ("GET", "/api/audit"): Permission.AUDIT_READ,
    ("GET", "/api/account-changes"): Permission.ACCOUNTS_APPROVE,
    ("POST", "/api/account-changes/{change_id:int}/approve"): Permission.ACCOUNTS_APPROVE,
    ("POST", "/api/account-changes/{change_id:int}/reject"): Permission.ACCOUNTS_APPROVE,
    ("GET", "/quan-ly/tai-khoan-cho-duyet"): Permission.ACCOUNTS_APPROVE,
}


def test_the_routes_need_what_the_issue_says(market):
    declared = {
        (method, route.path): handler.opt.get(ACCESS)
        for route, handler in _declared_handlers(market.client.app)
        for method in handler.http_methods
    }
    assert {key: declared.get(key) for key in RULES} == RULES
    public = {path for (method, path), rule in declared.items() if method == "GET" and rule == "public"}
    assert public >= PUBLIC_PATHS
    provider = {path for (_, path), rule in declared.items() if rule == "provider"}
    assert provider == {path for (_, path) in declared if path.startswith(("/webhooks/", "/vietqr/"))}


def test_the_history_tells_the_commune_a_phone_changed_but_not_the_number(market):
    office, commune = market.headers["office"], market.headers["commune"]
    market.client.patch(f"/api/merchants/{OWN}", json={"holder": {"phone": "0987654321"}}, headers=office)
    url = f"/api/merchants/{OWN}/history"
    (seen,) = [c for c in market.client.get(url, headers=office).json()["items"] if c["field"] == "holder.phone"]
    assert seen["new"] == "0987654321"
    (hidden,) = [c for c in market.client.get(url, headers=commune).json()["items"] if c["field"] == "holder.phone"]
    assert (hidden["old"], hidden["new"], hidden["actor"]) == (None, None, "office")


def test_an_open_stream_ends_once_its_session_is_gone(settings, monkeypatch):
    import anyio

    from market.web.routes import stream

    monkeypatch.setattr(stream, "KEEPALIVE_SECONDS", 0.0)
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.0)
    verdicts = iter([True, False])

    async def still_allowed():
        return next(verdicts)

    async def read_all():
        from market.db import create_async_engine_for

        async_engine = create_async_engine_for(settings)
        try:
            return [m async for m in stream._events(async_engine, 1, 0, still_allowed)]
        finally:
            await async_engine.dispose()

    messages = anyio.run(read_all)
    assert [m.event for m in messages] == [None, "ping"]  # opened, one ping while allowed, then the end
