"""The ``sa.Table`` handles of the access tables, for the Core statements every access module writes."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from market.access.models import ApiToken, AuditEvent, SignInThrottle, StallLink, User, WebSession
from market.merchants.store import merchants as merchants_table
from market.merchants.store import stalls as stalls_table

__all__ = [
    "audit_events_table",
    "links_table",
    "merchants_table",
    "sessions_table",
    "stalls_table",
    "throttle_table",
    "tokens_table",
    "users_table",
]

users_table = cast(sa.Table, User.__table__)
sessions_table = cast(sa.Table, WebSession.__table__)
links_table = cast(sa.Table, StallLink.__table__)
tokens_table = cast(sa.Table, ApiToken.__table__)
throttle_table = cast(sa.Table, SignInThrottle.__table__)
audit_events_table = cast(sa.Table, AuditEvent.__table__)
