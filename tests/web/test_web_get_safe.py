"""No GET request changes the database (issue 20): every GET route of the app, taken from the app
object itself, is called anonymously and as every role, and every table is compared before and
after, on SQLite and PostgreSQL.

Left out of the comparison, because a GET may legitimately touch them: ``web_sessions`` (a signed-in
request refreshes ``last_seen_at``), ``audit_events`` (sign-in events) and ``api_tokens.last_used_at``
(a bearer token's last use); every other column of ``api_tokens`` is compared.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from test_web_access import Call, Market, _calls, _principals, _url, market  # noqa: F401 (the fixture)

from market.access.roles import Permission, allowed

_SKIPPED_TABLES = {"web_sessions", "audit_events"}
_SKIPPED_COLUMNS = {"api_tokens": {"last_used_at"}}


def _snapshot(engine) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows (in a stable order)."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    seen = {}
    with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            if name in _SKIPPED_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in _SKIPPED_COLUMNS.get(name, set())]
            rows = sorted(repr(tuple(row)) for row in conn.execute(sa.select(*columns)))
            seen[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return seen


def _an_open_stream(principal, call: Call, stall_ids: dict[str, int]) -> bool:
    """An allowed live stream never ends on its own: its reads are tested with a real server."""
    if call.path != "/api/stream/{stall:str}" or principal is None:
        return False
    stall_id = stall_ids[call.stall] if call.stall else None
    return allowed(principal, Permission(call.rule), stall_id=stall_id)


def _get(world: Market, who: str | None, call: Call) -> int:
    # No If-None-Match: the images are drawn in full, down to whatever a download used to record.
    answer = world.client.get(_url(call, world), headers=world.headers[who], follow_redirects=False)
    return answer.status_code


def test_no_get_request_changes_any_row(market, engine):  # noqa: F811 (the fixture imported above)
    with engine.connect() as conn:
        stall_ids = {code: id_ for id_, code in conn.execute(sa.text("SELECT id, code FROM stalls"))}
    principals = _principals(stall_ids)
    gets = [call for call in _calls(market.client.app, market) if call.method == "GET"]
    before = _snapshot(engine)
    sent, changed = 0, []
    for call in gets:
        for who, principal in principals.items():
            if _an_open_stream(principal, call, stall_ids):
                continue
            status = _get(market, who, call)
            assert status < 500, (who, call, status)
            sent += 1
            after = _snapshot(engine)
            if after != before:
                changed.append((who, call.path, call.stall, sorted(k for k in after if after[k] != before.get(k))))
                before = after
    assert changed == []
    assert sent > 150  # every GET route, as every principal
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM stalls WHERE qr_issued_on IS NOT NULL")).scalar() == 0
