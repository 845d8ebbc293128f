"""Demo sign-ins: staff users of each role (two of the office) with known passwords, and a stall holder's link.

The passwords are printed by ``market demo`` and are only for the throwaway demo database.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from market.access import links, users
from market.access.roles import Role
from market.config import Settings
from market.db import create_sync_engine_for
from market.merchants.models import Stall

__all__ = ["DEMO_USERS", "DemoSignIns", "populate"]

# (username, role, full name, password)
DEMO_USERS = (
    ("admin", Role.ADMIN, "Trần Văn Quản (Ban quản lý)", "demo-admin-2026"),
    ("office", Role.OFFICE, "Lê Thị Văn (Văn phòng chợ)", "demo-office-2026"),
    # A second office user: an account change one of them requests, the other approves.
    ("office2", Role.OFFICE, "Võ Văn Hai (Văn phòng chợ)", "demo-office2-2026"),
    ("commune", Role.COMMUNE, "Nguyễn Văn Xã (UBND xã)", "demo-commune-2026"),
    ("team", Role.TEAM, "Phạm Thị Tổ (Tổ công nghệ số)", "demo-team-2026"),
)
_ACTOR = "demo"


@dataclass(frozen=True)
class DemoSignIns:
    """What ``market demo`` prints: each user's (username, role, password), and the holder's link path."""

    accounts: list[tuple[str, str, str]]
    stall_code: str
    link_path: str


def populate(settings: Settings) -> DemoSignIns:
    """Add the demo users and a link for the registry's first stall (run after the registry is seeded)."""
    engine = create_sync_engine_for(settings)
    try:
        with engine.begin() as conn:
            for username, role, full_name, password in DEMO_USERS:
                users.add_user(conn, username, role=role.value, password=password, full_name=full_name, actor=_ACTOR)
            first = conn.execute(sa.select(Stall.code).order_by(Stall.code).limit(1)).scalar_one()
            info, token = links.create_link(conn, first, actor=_ACTOR)
    finally:
        engine.dispose()
    accounts = [(username, role.value, password) for username, role, _, password in DEMO_USERS]
    return DemoSignIns(accounts, info.stall_code, links.link_path(token))
