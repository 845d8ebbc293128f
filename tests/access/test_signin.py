"""Password sign-in: a new session on success; wrong, unknown and disabled look alike and take a real check."""

import pytest
import sqlalchemy as sa
from access_helpers import POLICY, T0
from argon2 import PasswordHasher

from market.access import sessions, signin, users
from market.access.roles import AuthMethod, Role
from market.access.signin import Outcome
from market.errors import ConflictError, InvalidInputError

PASSWORD = "đúng mật khẩu rồi"


@pytest.fixture
def lan(engine):
    with engine.begin() as conn:
        return users.add_user(conn, "Lan", role="commune", password=PASSWORD, full_name="Lê Thị Lan", actor="test")


def _sign_in(engine, username, password, **kwargs):
    with engine.begin() as conn:
        return signin.sign_in(conn, username, password, address="10.0.0.5", policy=POLICY, now=T0, **kwargs)


def test_the_right_password_starts_a_session_and_replaces_the_old_one(engine, lan):
    with engine.begin() as conn:
        planted = sessions.start_user_session(conn, lan.id, POLICY, now=T0)
    result = _sign_in(engine, " LAN ", PASSWORD, replacing=planted)
    assert result.outcome is Outcome.SIGNED_IN
    assert result.principal.actor == "lan"
    assert result.principal.role is Role.COMMUNE
    assert result.principal.via is AuthMethod.PASSWORD
    assert result.principal.name == "Lê Thị Lan"
    with engine.begin() as conn:
        assert sessions.resolve_session(conn, planted, POLICY, now=T0) is None
        assert sessions.resolve_session(conn, result.cookie, POLICY, now=T0) == result.principal


def test_wrong_unknown_and_disabled_give_the_same_answer(engine, lan, monkeypatch):
    dummy_checks = []
    real = signin.verify_against_dummy
    monkeypatch.setattr(signin, "verify_against_dummy", lambda p: (dummy_checks.append(1), real(p)))
    wrong = _sign_in(engine, "lan", "sai mật khẩu rồi")
    unknown = _sign_in(engine, "nobody", PASSWORD)
    with engine.begin() as conn:
        users.disable_user(conn, "lan", actor="test")
    disabled = _sign_in(engine, "lan", PASSWORD)
    assert wrong == unknown == disabled == signin.SignInResult(outcome=Outcome.WRONG)
    assert len(dummy_checks) == 2  # the unknown and the disabled user's passwords were checked against a dummy


def test_an_old_hash_is_upgraded_at_sign_in(engine, lan):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET password_hash = :h"), {"h": weak})
    assert _sign_in(engine, "lan", PASSWORD).outcome is Outcome.SIGNED_IN
    with engine.begin() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored != weak
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert _sign_in(engine, "lan", PASSWORD).outcome is Outcome.SIGNED_IN


def test_usernames_are_case_folded_unique_and_checked(engine, lan):
    with engine.begin() as conn:
        with pytest.raises(ConflictError):
            users.add_user(conn, "LAN", role="team", password=PASSWORD, actor="test")
        with pytest.raises(InvalidInputError, match="username"):
            users.add_user(conn, "lan lan", role="team", password=PASSWORD, actor="test")
        with pytest.raises(InvalidInputError, match="role"):
            users.add_user(conn, "hai", role="holder", password=PASSWORD, actor="test")
        assert [u.username for u in users.list_users(conn)] == ["lan"]
