"""API tokens: shown once, stored only as a digest (and a short prefix), revocable, dead with their user."""

import datetime as dt

import pytest
import sqlalchemy as sa
from access_helpers import T0, stored_text

from market.access import audit, tokens, users
from market.access.roles import AuthMethod, Role
from market.errors import NotFoundError


@pytest.fixture
def lan(engine):
    with engine.begin() as conn:
        return users.add_user(conn, "lan", role="office", password="mật khẩu dài đủ", actor="test")


def test_a_token_acts_as_its_user_and_only_its_digest_is_stored(engine, lan):
    with engine.begin() as conn:
        info, token = tokens.create_token(conn, "Lan", name="sổ sách", actor="cli:root", now=T0)
        principal = tokens.resolve_token(conn, token, now=T0)
        text = stored_text(conn)
        listed = tokens.list_tokens(conn)
    assert token.startswith("mkt_")
    assert len(token) >= 47
    assert token not in text
    assert token[4:] not in text
    assert info.prefix == token[:12]
    assert info.prefix in text
    assert principal is not None
    assert (principal.actor, principal.role, principal.via) == ("lan", Role.OFFICE, AuthMethod.TOKEN)
    assert [(t.id, t.name, t.username, t.revoked_at) for t in listed] == [(info.id, "sổ sách", "lan", None)]
    assert listed[0].last_used_at == T0
    assert not hasattr(listed[0], "token")
    assert not hasattr(listed[0], "token_hash")


def test_unknown_malformed_and_revoked_tokens_open_nothing(engine, lan):
    with engine.begin() as conn:
        info, token = tokens.create_token(conn, "lan", actor="test")
        assert tokens.resolve_token(conn, token[:-1] + ("A" if token[-1] != "A" else "B"), now=T0) is None
        assert tokens.resolve_token(conn, token[4:], now=T0) is None
        assert tokens.resolve_token(conn, "", now=T0) is None
        assert tokens.revoke_token(conn, info.id, actor="test")
        assert not tokens.revoke_token(conn, info.id, actor="test")
        assert tokens.resolve_token(conn, token, now=T0) is None
        assert tokens.list_tokens(conn)[0].revoked_at is not None
        with pytest.raises(NotFoundError):
            tokens.revoke_token(conn, 999, actor="test")


def test_a_disabled_users_tokens_open_nothing(engine, lan):
    with engine.begin() as conn:
        _, token = tokens.create_token(conn, "lan", actor="test")
        users.disable_user(conn, "lan", actor="test")
        assert tokens.resolve_token(conn, token, now=T0) is None


def test_last_used_is_written_at_most_once_a_minute(engine, lan):
    with engine.begin() as conn:
        _, token = tokens.create_token(conn, "lan", actor="test")
        for seconds in (0, 20, 59):
            tokens.resolve_token(conn, token, now=T0 + dt.timedelta(seconds=seconds))
        assert conn.execute(sa.text("SELECT last_used_at FROM api_tokens")).scalar_one() is not None
        assert tokens.list_tokens(conn)[0].last_used_at == T0
        tokens.resolve_token(conn, token, now=T0 + dt.timedelta(seconds=61))
        assert tokens.list_tokens(conn)[0].last_used_at == T0 + dt.timedelta(seconds=61)


def test_tokens_for_unknown_users_are_refused_and_changes_are_audited(engine, lan):
    with engine.begin() as conn:
        with pytest.raises(NotFoundError):
            tokens.create_token(conn, "nobody", actor="test")
        info, _ = tokens.create_token(conn, "lan", name="n", actor="cli:root")
        tokens.revoke_token(conn, info.id, actor="cli:root")
        events = audit.list_events(conn)
    assert [e.action for e in events[:2]] == ["token_revoked", "token_created"]
    assert events[1].detail == {"id": info.id, "name": "n", "prefix": info.prefix}
