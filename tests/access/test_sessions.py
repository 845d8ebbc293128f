"""Database sessions: only a digest stored, a new id at sign-in, idle and absolute expiry on an injected clock."""

import datetime as dt

import sqlalchemy as sa
from access_helpers import POLICY, T0, stored_text

from market.access import sessions, users
from market.access.roles import AuthMethod, Role
from market.access.secret_values import digest
from market.access.sessions import SessionPolicy

MINUTE = dt.timedelta(minutes=1)


def _user(conn, name="lan", role="office"):
    return users.add_user(conn, name, role=role, password="mật khẩu dài đủ", full_name="Lê Thị Lan", actor="test")


def test_a_session_is_stored_as_a_digest_and_names_its_user(engine):
    with engine.begin() as conn:
        user = _user(conn)
        cookie = sessions.start_user_session(conn, user.id, POLICY, now=T0)
        principal = sessions.resolve_session(conn, cookie, POLICY, now=T0 + MINUTE)
        text = stored_text(conn)
        ids = conn.execute(sa.text("SELECT id FROM web_sessions")).scalars().all()
    assert len(cookie) >= 43
    assert cookie not in text
    assert ids == [digest(cookie)]
    assert principal is not None
    assert (principal.actor, principal.role, principal.via, principal.user_id) == (
        "lan",
        Role.OFFICE,
        AuthMethod.PASSWORD,
        user.id,
    )


def test_signing_in_replaces_the_session_the_browser_came_with(engine):
    with engine.begin() as conn:
        user = _user(conn)
        planted = sessions.start_user_session(conn, user.id, POLICY, now=T0)
        fresh = sessions.start_user_session(conn, user.id, POLICY, now=T0, replacing=planted)
        assert fresh != planted
        assert sessions.resolve_session(conn, planted, POLICY, now=T0) is None
        assert sessions.resolve_session(conn, fresh, POLICY, now=T0) is not None
        # A cookie the server never issued is simply ignored.
        other = sessions.start_user_session(conn, user.id, POLICY, now=T0, replacing="made-up-value")
        assert sessions.resolve_session(conn, other, POLICY, now=T0) is not None


def test_idle_expiry_moves_with_each_request(engine):
    with engine.begin() as conn:
        cookie = sessions.start_user_session(conn, _user(conn).id, POLICY, now=T0)
        at = T0
        for _ in range(5):  # a request every 50 minutes keeps it alive past the first hour
            at += 50 * MINUTE
            assert sessions.resolve_session(conn, cookie, POLICY, now=at) is not None
        assert sessions.resolve_session(conn, cookie, POLICY, now=at + 61 * MINUTE) is None
        # Expired sessions are deleted, not just refused.
        assert conn.execute(sa.text("SELECT count(*) FROM web_sessions")).scalar_one() == 0


def test_absolute_expiry_ends_even_a_busy_session(engine):
    policy = SessionPolicy(idle=dt.timedelta(hours=1), max_age=dt.timedelta(hours=3), link_age=dt.timedelta(days=1))
    with engine.begin() as conn:
        cookie = sessions.start_user_session(conn, _user(conn).id, policy, now=T0)
        at = T0
        while at < T0 + dt.timedelta(hours=3) - 30 * MINUTE:
            at += 30 * MINUTE
            assert sessions.resolve_session(conn, cookie, policy, now=at) is not None
        assert sessions.resolve_session(conn, cookie, policy, now=T0 + dt.timedelta(hours=3)) is None


def test_disabling_a_user_or_changing_their_password_or_role_ends_their_sessions(engine):
    with engine.begin() as conn:
        _user(conn)
        uid = users.find_user(conn, "lan").id
        for change in (
            lambda: users.set_password(conn, "lan", "một mật khẩu mới", actor="test"),
            lambda: users.set_role(conn, "lan", "team", actor="test"),
            lambda: users.disable_user(conn, "LAN", actor="test"),
        ):
            cookie = sessions.start_user_session(conn, uid, POLICY, now=T0)
            change()
            assert sessions.resolve_session(conn, cookie, POLICY, now=T0) is None
        # Even a session row left behind opens nothing for a disabled user.
        cookie = sessions.start_user_session(conn, uid, POLICY, now=T0)
        assert sessions.resolve_session(conn, cookie, POLICY, now=T0) is None


def test_sign_out_and_purge(engine):
    with engine.begin() as conn:
        uid = _user(conn).id
        gone = sessions.start_user_session(conn, uid, POLICY, now=T0)
        assert sessions.end_session(conn, gone)
        assert not sessions.end_session(conn, gone)
        assert sessions.resolve_session(conn, gone, POLICY, now=T0) is None
        sessions.start_user_session(conn, uid, POLICY, now=T0)
        live = sessions.start_user_session(conn, uid, POLICY, now=T0 + 2 * POLICY.idle)
        assert sessions.purge_expired(conn, now=T0 + POLICY.idle + MINUTE) == 1
        assert sessions.resolve_session(conn, live, POLICY, now=T0 + 2 * POLICY.idle) is not None
        assert sessions.resolve_session(conn, "", POLICY, now=T0) is None


def test_the_policy_comes_from_the_settings(settings):
    policy = SessionPolicy.from_settings(settings)
    assert policy == SessionPolicy(idle=60 * MINUTE, max_age=dt.timedelta(days=7), link_age=dt.timedelta(days=180))
