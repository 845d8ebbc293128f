"""The random values users hold (session cookies, API tokens, stall links) and the digests we store.

A value is 32 random bytes, URL-safe base64 (43 characters). Only its SHA-256 digest reaches the
database: whoever reads the tables cannot sign in with what they read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["digest", "new_secret", "same_digest"]

_SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh random value to hand to the user once."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def digest(value: str) -> str:
    """The hex SHA-256 digest of ``value``, as stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_digest(stored: str, value: str) -> bool:
    """Whether ``value`` has the digest ``stored``, compared in constant time."""
    return hmac.compare_digest(stored, digest(value))
