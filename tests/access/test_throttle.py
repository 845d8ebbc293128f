"""Repeated wrong passwords: slowed down, then refused for a while, then allowed again; a success resets."""

import datetime as dt

import pytest
from access_helpers import POLICY, T0
from argon2 import PasswordHasher

from market.access import passwords, signin, throttle, users
from market.access.signin import Outcome
from market.access.throttle import ThrottlePolicy, Verdict, judge

SECOND = dt.timedelta(seconds=1)
POL = ThrottlePolicy(delay_after=3, refuse_after=6, first_delay=1.0, max_delay=4.0)


def test_judge_slows_then_refuses_then_forgets():
    assert judge(0, None, T0, POL) == Verdict()
    assert judge(2, T0, T0, POL) == Verdict()
    assert [judge(n, T0, T0, POL).delay for n in (3, 4, 5)] == [1.0, 2.0, 4.0]
    refused = judge(6, T0, T0 + 60 * SECOND, POL)
    assert refused.refused
    assert refused.retry_after == pytest.approx(14 * 60)
    # After the wait (the window is over too) the count no longer weighs.
    assert judge(6, T0, T0 + POL.refuse_for, POL) == Verdict()


def test_judge_caps_the_delay_and_a_longer_window_keeps_it_after_the_refusal():
    policy = ThrottlePolicy(delay_after=1, refuse_after=3, window=dt.timedelta(hours=1), max_delay=2.0)
    after_wait = judge(5, T0, T0 + policy.refuse_for, policy)
    assert not after_wait.refused
    assert after_wait.delay == 2.0


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Dozens of attempts per test: hash with small Argon2id parameters (the policy is what is tested here)."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


@pytest.fixture
def lan(engine):
    with engine.begin() as conn:
        users.add_user(conn, "lan", role="office", password="đúng mật khẩu rồi", actor="test")


def _attempt(engine, password, at, *, username="lan", address="10.0.0.5"):
    with engine.begin() as conn:
        return signin.sign_in(conn, username, password, address=address, policy=POLICY, now=at)


def test_twenty_wrong_passwords_are_slowed_then_refused_and_the_right_one_works_after_the_wait(engine, lan):
    results = [_attempt(engine, f"sai mật khẩu {i}", T0 + i * SECOND) for i in range(20)]
    outcomes = [r.outcome for r in results]
    assert outcomes[:10] == [Outcome.WRONG] * 10
    assert outcomes[10:] == [Outcome.REFUSED] * 10
    delays = [r.delay for r in results[:10]]
    assert delays[:4] == [0.0] * 4
    assert delays[4:9] == sorted(delays[4:9])
    assert delays[4] > 0
    assert all(r.retry_after > 0 for r in results[10:])
    # The right password is refused too while the wait lasts, without being checked.
    assert _attempt(engine, "đúng mật khẩu rồi", T0 + 30 * SECOND).outcome is Outcome.REFUSED
    later = T0 + 9 * SECOND + throttle.USERNAME_POLICY.refuse_for
    ok = _attempt(engine, "đúng mật khẩu rồi", later)
    assert ok.outcome is Outcome.SIGNED_IN
    assert ok.cookie


def test_a_success_resets_the_usernames_count(engine, lan):
    for i in range(8):
        _attempt(engine, "sai mật khẩu", T0 + i * SECOND)
    assert _attempt(engine, "đúng mật khẩu rồi", T0 + 10 * SECOND).outcome is Outcome.SIGNED_IN
    after = _attempt(engine, "sai mật khẩu", T0 + 11 * SECOND)
    assert after.outcome is Outcome.WRONG
    assert after.delay == 0.0


def test_unknown_usernames_are_counted_like_real_ones(engine, lan):
    for i in range(10):
        assert _attempt(engine, "x" * 12, T0 + i * SECOND, username="Ghost").outcome is Outcome.WRONG
    assert _attempt(engine, "x" * 12, T0 + 11 * SECOND, username="ghost").outcome is Outcome.REFUSED


def test_one_address_guessing_many_usernames_is_refused(engine, lan):
    at = T0
    for i in range(throttle.ADDRESS_POLICY.refuse_after):
        at = T0 + i * SECOND
        _attempt(engine, "sai mật khẩu", at, username=f"user{i}", address="203.0.113.7")
    assert _attempt(engine, "đúng mật khẩu rồi", at + SECOND, address="203.0.113.7").outcome is Outcome.REFUSED
    # The same user from another address is not held up by it.
    assert _attempt(engine, "đúng mật khẩu rồi", at + SECOND, address="10.0.0.5").outcome is Outcome.SIGNED_IN


def test_counts_restart_after_the_window_and_old_ones_are_purged(engine):
    with engine.begin() as conn:
        for i in range(4):
            throttle.record_failure(conn, username="lan", address="", now=T0 + i * SECOND)
        assert throttle.check(conn, username="lan", address="", now=T0 + 5 * SECOND) == Verdict()
        verdict = throttle.record_failure(conn, username="lan", address="", now=T0 + 5 * SECOND)
        assert verdict.delay == 1.0
        fresh = throttle.record_failure(conn, username="lan", address="", now=T0 + dt.timedelta(hours=1))
        assert fresh == Verdict()
        assert throttle.purge(conn, now=T0 + dt.timedelta(days=2)) == 1
