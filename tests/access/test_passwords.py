"""Argon2id hashing: verify, rehash of old parameters, the length rule, the dummy check for unknown users."""

import pytest
from argon2 import PasswordHasher

from market.access import passwords
from market.access.passwords import (
    MIN_PASSWORD_LENGTH,
    PasswordPolicyError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_is_argon2id_salted_and_verifies():
    first, second = hash_password("đúng mật khẩu 123"), hash_password("đúng mật khẩu 123")
    assert first.startswith("$argon2id$")
    assert first != second  # a salt of its own
    assert "mật khẩu" not in first
    assert verify_password(first, "đúng mật khẩu 123")
    assert not verify_password(first, "sai mật khẩu 123")


def test_a_malformed_hash_is_a_mismatch_not_an_error():
    assert not verify_password("not-a-hash", "whatever password")
    assert needs_rehash("not-a-hash")


def test_hashes_made_with_weaker_parameters_need_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("some password here")
    assert verify_password(weak, "some password here")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("some password here"))


@pytest.mark.parametrize("bad", ["", "short", "x" * (MIN_PASSWORD_LENGTH - 1), " " * 20, "y" * 257])
def test_policy_refuses_short_blank_and_huge_passwords(bad):
    with pytest.raises(PasswordPolicyError, match="password too"):
        check_password_policy(bad)


def test_policy_accepts_a_passphrase():
    check_password_policy("x" * MIN_PASSWORD_LENGTH)
    check_password_policy("ba con mèo trèo cây cau")


def test_the_dummy_check_runs_a_real_argon2_verify(monkeypatch):
    seen = []
    real = passwords.verify_password

    def spy(stored, password):
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    passwords.verify_against_dummy("anything at all")
    assert len(seen) == 1
    assert seen[0].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
