"""The audit log records who did what, and never a password, token, link, cookie or national ID."""

import logging

import pytest
from access_helpers import POLICY, T0, add_stalls

from market.access import audit, links, signin, tokens, users
from market.access.audit import AuditAction


def test_record_refuses_detail_keys_that_name_a_secret(engine):
    with engine.begin() as conn:
        for key in ("password", "new_password", "token", "national_id", "password_hash", "Cookie"):
            with pytest.raises(ValueError, match="secret"):
                audit.record(conn, AuditAction.SIGN_IN, actor="a", subject="b", detail={key: "x"})
        audit.record(conn, AuditAction.SIGN_IN, actor="a" * 100, subject="b", detail={"address": "1.2.3.4"}, now=T0)
        events = audit.list_events(conn, action=AuditAction.SIGN_IN)
    assert [(e.actor, e.subject, e.detail, e.at) for e in events] == [("a" * 64, "b", {"address": "1.2.3.4"}, T0)]


def test_a_whole_day_of_access_leaves_no_secret_in_the_log_or_the_audit(engine, caplog):
    stall_codes = add_stalls(engine)
    caplog.set_level(logging.DEBUG)
    secrets = ["mật khẩu của chị Lan", "mật khẩu mới của chị Lan", "sai sai sai sai"]
    with engine.begin() as conn:
        national_ids = [v for v in conn.exec_driver_sql("SELECT national_id FROM merchants").scalars() if v]
        users.add_user(conn, "lan", role="office", password=secrets[0], actor="cli:root")
        users.add_user(conn, "hai", role="team", password="mật khẩu của anh Hai", actor="cli:root")
        secrets.append("mật khẩu của anh Hai")
        users.set_role(conn, "hai", "commune", actor="cli:root")
        ok = signin.sign_in(conn, "lan", secrets[0], address="10.0.0.5", policy=POLICY, now=T0)
        bad = signin.sign_in(conn, "lan", secrets[2], address="10.0.0.5", policy=POLICY, now=T0)
        users.set_password(conn, "lan", secrets[1], actor="cli:root")
        info, token = tokens.create_token(conn, "lan", name="kế toán", actor="cli:root")
        tokens.revoke_token(conn, info.id, actor="cli:root")
        _, link = links.create_link(conn, stall_codes[0], actor="cli:root")
        _, phone = signin.sign_in_by_link(conn, link, address="10.0.0.6", policy=POLICY, now=T0)
        links.revoke_links(conn, stall_codes[0], actor="cli:root")
        users.disable_user(conn, "hai", actor="cli:root")
        events = audit.list_events(conn)
    assert bad.outcome == "wrong"
    secrets += [ok.cookie, token, token[4:], link, phone, *national_ids]
    assert national_ids  # the demo registry has national IDs: the check is not vacuous
    actions = [e.action for e in reversed(events)]
    assert actions == [
        "user_added",
        "user_added",
        "user_role_changed",
        "sign_in",
        "sign_in_failed",
        "password_changed",
        "token_created",
        "token_revoked",
        "link_created",
        "link_sign_in",
        "link_revoked",
        "user_disabled",
    ]
    failed = next(e for e in events if e.action == "sign_in_failed")
    assert (failed.actor, failed.subject, failed.detail) == ("anonymous", "lan", {"address": "10.0.0.5"})
    written = "\n".join(f"{e.actor} {e.action} {e.subject} {e.detail}" for e in events)
    assert "sign-in failed for 'lan'" in caplog.text
    for secret in secrets:
        assert secret not in written
        assert secret not in caplog.text
