"""Staff passwords: Argon2id hashes (argon2-cffi), the length rule, and a dummy check for unknown users.

Parameters are argon2-cffi's defaults, the RFC 9106 "low memory" profile (Argon2id, 64 MiB,
t=3, p=4), above OWASP's minimum; ``needs_rehash`` tells the sign-in to upgrade a hash made with
older parameters. A hash takes tens of milliseconds of CPU: the web layer runs these off the event loop.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordPolicyError",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "verify_against_dummy",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase; a bound keeps a megabyte "password" from being hashed.
MAX_PASSWORD_LENGTH = 256

_HASHER = PasswordHasher()


class PasswordPolicyError(ValueError):
    """A new password breaks the rules; the message says which, in Vietnamese and English."""


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short, too long, or only spaces.

    Raises:
        PasswordPolicyError: with a readable sentence.
    """
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise PasswordPolicyError(
            f"mật khẩu quá ngắn: cần ít nhất {MIN_PASSWORD_LENGTH} ký tự "
            f"/ password too short: at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"mật khẩu quá dài: tối đa {MAX_PASSWORD_LENGTH} ký tự / password too long: at most {MAX_PASSWORD_LENGTH}"
        )


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string, salt included) to store for ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash is a plain mismatch."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than ours (rehash at the next sign-in)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anyone has")


def verify_against_dummy(password: str) -> None:
    """Spend the time a real check takes, for a username that does not exist or is disabled.

    Without it, "no such user" would answer faster than "wrong password" and reveal who has an account.
    """
    verify_password(_dummy_hash(), password)
