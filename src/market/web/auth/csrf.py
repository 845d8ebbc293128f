"""CSRF tokens for the pages' forms: a signed double submit.

The browser holds a random value in the ``market_csrf`` cookie; each form carries a field
``csrf`` = HMAC(secret key, that value). A cross-site form cannot read the cookie, and a
planted cookie is useless without the secret. JSON endpoints need no token: they accept only
``application/json``, which a cross-site form cannot send and a cross-site script cannot send
without a CORS preflight we never grant. Bearer-token calls carry no cookie to abuse.

Litestar's ``CSRFConfig`` is not used: it refuses every unsafe request without its cookie, which
would refuse the API's bearer-token scripts, and its ``exclude`` can only name paths.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Final

from litestar import Request
from litestar.datastructures import Cookie

from market.config import Settings

__all__ = ["COOKIE", "FIELD", "Tokens", "form_value_for", "valid"]

COOKIE: Final = "market_csrf"
FIELD: Final = "csrf"


def form_value_for(secret_key: str, cookie: str) -> str:
    """The form token that goes with the cookie value ``cookie``."""
    return hmac.new(secret_key.encode(), b"csrf\0" + cookie.encode(), hashlib.sha256).hexdigest()


def valid(secret_key: str, cookie: str | None, submitted: str | None) -> bool:
    """Whether the submitted form token goes with the browser's cookie."""
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(form_value_for(secret_key, cookie), submitted)


class Tokens:
    """A page's CSRF token, and the cookie to set when the browser has none yet."""

    def __init__(self, request: Request[Any, Any, Any], settings: Settings) -> None:
        existing = request.cookies.get(COOKIE)
        self._new = not existing
        self._cookie = existing or secrets.token_urlsafe(32)
        self._secure = settings.secure_cookies
        self.form_value = form_value_for(settings.secret_key, self._cookie)

    def cookies(self) -> list[Cookie]:
        """The cookie to set with this page (none when the browser already has one)."""
        if not self._new:
            return []
        return [Cookie(key=COOKIE, value=self._cookie, path="/", httponly=True, samesite="lax", secure=self._secure)]
