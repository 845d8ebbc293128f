"""Helpers of the access tests."""

import datetime as dt

import sqlalchemy as sa

from market.access.sessions import SessionPolicy
from market.db import utcnow
from market.devtools.seed_registry import build_stalls
from market.merchants.store import insert_stalls

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
POLICY = SessionPolicy(idle=dt.timedelta(minutes=60), max_age=dt.timedelta(days=7), link_age=dt.timedelta(days=180))

ACCESS_TABLES = ("users", "web_sessions", "api_tokens", "stall_links", "sign_in_throttle", "audit_events")


def stored_text(conn) -> str:
    """Every value of every access table, as one string, to look for secrets in."""
    rows = [row for table in ACCESS_TABLES for row in conn.execute(sa.text(f"SELECT * FROM {table}"))]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def add_stalls(engine, count: int = 3) -> list[str]:
    """Register the demo registry's first ``count`` stalls; their codes."""
    stalls = build_stalls()[:count]
    with engine.begin() as conn:
        insert_stalls(conn, stalls, "test", utcnow())
    return [s.code for s in stalls]
