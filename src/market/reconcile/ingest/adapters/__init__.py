"""Provider adapters: each turns one raw request into an ``Accepted`` notification or a typed ``RejectionError``.

Every adapter module exposes ``parse(body, headers, settings, received_at) -> Accepted``;
``headers`` is a mapping with lower-case (or case-insensitive) names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from market.config import Settings
from market.reconcile.ingest.adapters import casso, generic, payos, sepay, vietqr_vn
from market.reconcile.ingest.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    RejectionError,
    StaleRequestError,
)

__all__ = [
    "PARSERS",
    "Accepted",
    "ForgedRequestError",
    "MalformedRequestError",
    "NotConfiguredError",
    "Parser",
    "RejectionError",
    "StaleRequestError",
]

Parser = Callable[[bytes, Mapping[str, str], Settings, dt.datetime], Accepted]

PARSERS: dict[str, Parser] = {
    "payos": payos.parse,
    "sepay": sepay.parse,
    "casso": casso.parse,
    "generic": generic.parse,
    "vietqr": vietqr_vn.parse,
}
