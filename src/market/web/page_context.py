"""What every server-rendered page needs: the language and its switch link, the cookie, the formatters.

Shared by the market's pages, the sign-in pages and the 403 page. ``csrf`` is the token a page's
forms carry (:mod:`market.web.auth.csrf`); ``principal`` who is signed in, for the header.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Template

import market
from market import formats
from market.config import Settings
from market.web import i18n
from market.web.auth import csrf
from market.web.auth.rules import principal_of

__all__ = ["Page", "static_url"]

_STATIC_DIR = Path(__file__).parent / "static"
_ONE_YEAR = 365 * 24 * 3600


def _static_version() -> str:
    # Part of every asset URL, so a phone never runs yesterday's script against today's page.
    digest = hashlib.sha256(market.__version__.encode())
    for path in sorted(_STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


_STATIC_VERSION: Final = _static_version()


def static_url(name: str) -> str:
    """The URL of a static asset, with the assets' content hash."""
    return f"/static/app/{name}?v={_STATIC_VERSION}"


class Page:
    """One page being rendered for ``request``."""

    def __init__(self, request: Request[Any, Any, Any], settings: Settings) -> None:
        lang, set_cookie = i18n.choose_lang(request.query_params.get("lang"), request.cookies.get(i18n.LANG_COOKIE))
        self.t = i18n.Translator(lang)
        self.settings = settings
        self.set_cookie = set_cookie
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        query["lang"] = self.t.other
        self.switch_url = f"{request.url.path}?{urlencode(query)}"
        self.path = request.url.path
        self.principal = principal_of(request)
        self.csrf = csrf.Tokens(request, settings)

    def render(self, template: str, status: int = 200, **context: Any) -> Template:
        """The page ``template`` with every page's values and ``context``."""
        tz = self.settings.timezone
        values: dict[str, Any] = {
            "t": self.t,
            "lang": self.t.lang,
            "switch_url": self.switch_url,
            "path": self.path,
            "market_name": self.settings.market_name,
            "principal": self.principal,
            "csrf_token": self.csrf.form_value,
            "static": static_url,
            "money": formats.money,
            "integer": formats.integer,
            "percent": formats.percent_of,
            "date": formats.date_vi,
            "datetime": lambda moment: i18n.datetime_local(moment, tz),
            "time": lambda moment: i18n.time_local(moment, tz),
        }
        values.update(context)
        cookies: list[Cookie] = []
        if self.set_cookie:
            cookies.append(Cookie(key=i18n.LANG_COOKIE, value=self.t.lang, max_age=_ONE_YEAR, path="/", samesite="lax"))
        cookies.extend(self.csrf.cookies())
        return Template(template_name=template, context=values, status_code=status, cookies=cookies or None)

    def not_found(self, code: str) -> Template:
        """The friendly 404 page for a stall code that names no stall."""
        return self.render("not_found.html.j2", status=404, code=code)
