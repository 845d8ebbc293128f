"""``market demo`` makes one user of each role and a holder's link, and says once how to sign in with each."""

import re

from access_helpers import POLICY, T0
from click.testing import CliRunner

from market.access import signin
from market.access.roles import STAFF_ROLES, Role
from market.cli import main
from market.config import load_settings
from market.db import create_sync_engine_for


def test_demo_prints_a_working_sign_in_for_every_role(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MARKET_DATABASE_URL", "sqlite:///unused.db")  # the demo sets its own; restored after
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/dang-nhap" in result.output
    accounts = re.findall(r"^  (\w+)\s+user (\w+)\s+password (\S+)$", result.output, flags=re.M)
    assert {role for role, _, _ in accounts} == {r.value for r in STAFF_ROLES}  # every role, office twice
    link = re.search(r"holder\s+stall (\S+): open http://127\.0\.0\.1:8765/s/(\S+)$", result.output, flags=re.M)
    assert link
    engine = create_sync_engine_for(load_settings({}, database_url=f"sqlite:///{tmp_path / 'market.db'}"))
    try:
        with engine.begin() as conn:
            for role, username, password in accounts:
                signed = signin.sign_in(conn, username, password, address="", policy=POLICY, now=T0)
                assert signed.principal is not None
                assert signed.principal.role == role
            principal, _ = signin.sign_in_by_link(conn, link.group(2), address="", policy=POLICY, now=T0)
    finally:
        engine.dispose()
    assert principal.role is Role.HOLDER
    assert principal.stall_code == link.group(1)
