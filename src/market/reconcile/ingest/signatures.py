"""Signature checks of every provider: pure functions over raw bytes and parsed values, no I/O.

Each ``*_signature`` function computes what the provider sends; each ``verify_*`` compares it
with what arrived in constant time (``hmac.compare_digest``), which the providers' own SDKs do
not do. The tests check each algorithm against the providers' published examples; the generic
format is ours (``market.reconcile.ingest.adapters.generic``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

import msgspec

__all__ = [
    "CASSO_FORMS",
    "casso_candidates",
    "casso_form",
    "casso_signature",
    "constant_time_equal",
    "generic_signature",
    "is_fresh",
    "parse_timed_header",
    "payos_canonical",
    "payos_signature",
    "sepay_signature",
    "sign_token",
    "verify_casso",
    "verify_generic",
    "verify_payos",
    "verify_sepay",
    "verify_token",
]


def constant_time_equal(expected: str, received: str) -> bool:
    """Compare two signatures without leaking, through timing, how many leading characters match."""
    return hmac.compare_digest(expected.encode(), received.encode())


# XOR tables for HMAC's inner and outer key pads (RFC 2104): ``key.translate(_IPAD)`` is key ^ 0x36...
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


@functools.lru_cache(maxsize=32)
def _hmac_pads(key: str, digest: str) -> tuple[Any, Any]:
    """The inner and outer hash states after absorbing the padded key, worked out once per key.

    Every webhook is signed with the same few keys; ``hmac.new`` redid this key set-up (and
    OpenSSL's digest lookup) for every request, most of its cost.
    """
    block = hashlib.new(digest).block_size
    raw = key.encode()
    if len(raw) > block:
        raw = hashlib.new(digest, raw).digest()
    raw = raw.ljust(block, b"\0")
    return hashlib.new(digest, raw.translate(_IPAD)), hashlib.new(digest, raw.translate(_OPAD))


def _hmac_bytes(key: str, message: bytes, digest: str) -> bytes:
    """HMAC of ``message`` under ``key``, what ``hmac.digest(key, message, digest)`` gives."""
    inner_pad, outer_pad = _hmac_pads(key, digest)
    inner = inner_pad.copy()
    inner.update(message)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    mac: bytes = outer.digest()
    return mac


def _hmac_hex(key: str, message: bytes, digest: str) -> str:
    """Hex HMAC of ``message`` under ``key``, what ``hmac.new(key, message, digest).hexdigest()`` gives."""
    return _hmac_bytes(key, message, digest).hex()


def _timed(timestamp: str, body: bytes) -> bytes:
    """What SePay, Casso and our generic format sign: the timestamp, a dot, then the body."""
    return timestamp.encode() + b"." + body


_MAC_SIZE = {"sha256": 32, "sha512": 64}


def _signed_mac(hex_signature: str, digest: str) -> bytes | None:
    """The MAC a received hex signature spells (either case); ``None`` if it is not one.

    Verification compares MAC bytes: no hex digest of ours, no lower-casing and no encoding of
    the two texts per delivery. Exactly twice the MAC's size in characters, so the whitespace
    ``bytes.fromhex`` skips can never stand in for a digit.
    """
    if len(hex_signature) != 2 * _MAC_SIZE[digest]:
        return None
    try:
        return bytes.fromhex(hex_signature)
    except ValueError:
        return None


def _mac_matches(key: str, message: bytes, digest: str, hex_signature: str) -> bool:
    """Whether ``hex_signature`` is the HMAC of ``message`` under ``key``, compared in constant time."""
    received = _signed_mac(hex_signature, digest)
    return received is not None and hmac.compare_digest(_hmac_bytes(key, message, digest), received)


# --- payOS ----------------------------------------------------------------------------


def _payos_value(value: object) -> str:
    # Step 3: null and the strings "null"/"undefined" are empty; booleans as JSON; numbers as repr;
    # arrays as JSON with their objects' keys sorted. No URL-encoding.
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [dict(sorted(v.items())) if isinstance(v, dict) else v for v in value]
        return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


_ValuesOf = Callable[[Mapping[str, object]], tuple[object, ...]]
# Layouts by the data's keys as they arrived: payOS sends the same fields, in the same order, in
# every delivery. Bounded, as the keys come from the body before the signature is checked.
_PAYOS_LAYOUTS: dict[tuple[str, ...], tuple[_ValuesOf, str]] = {}
_PAYOS_LAYOUTS_KEPT = 64
# A value that ``%s`` writes otherwise than the rule (null, a boolean, an array, an object, the
# text "null" or "undefined") shows as one of these right after its ``key=``. Text that merely
# contains one (a memo "x=None") also sends the data to the general rule, which is never wrong.
_PAYOS_NOT_PLAIN = re.compile(r"=(?:None|True|False|\[|\{|null|undefined)")


def _payos_layout(keys: tuple[str, ...]) -> tuple[_ValuesOf, str]:
    """For data with ``keys`` (two or more): a getter of its values in sorted key order, and a
    ``%`` template writing ``k1=%s&k2=%s...`` around them."""
    ordered = sorted(keys)
    template = "&".join(key.replace("%", "%%") + "=%s" for key in ordered)
    if len(_PAYOS_LAYOUTS) >= _PAYOS_LAYOUTS_KEPT:
        _PAYOS_LAYOUTS.clear()
    layout = _PAYOS_LAYOUTS[keys] = (operator.itemgetter(*ordered), template)
    return layout


def payos_canonical(data: Mapping[str, object]) -> str:
    """The string payOS signs: ``k=v`` pairs of the raw ``data`` object, keys sorted, joined by ``&``.

    Built from the raw object, not a typed model, so a field payOS adds later is signed too and
    verification keeps working (the failure mode of payOS's Python SDK).
    """
    if len(data) > 1:
        keys = tuple(data)
        values_of, template = _PAYOS_LAYOUTS.get(keys) or _payos_layout(keys)
        # Text and numbers, all a real delivery holds, are written by %s as the rule writes them:
        # one %-format and one scan in C, cheaper than formatting each pair or checking each value.
        text = template % values_of(data)
        if _PAYOS_NOT_PLAIN.search(text) is None:
            return text
    return "&".join(f"{key}={_payos_value(data[key])}" for key in sorted(data))


def payos_signature(key: str, data: Mapping[str, object]) -> str:
    """Lower-case hex HMAC-SHA256 of :func:`payos_canonical` with the checksum key."""
    return _hmac_hex(key, payos_canonical(data).encode(), "sha256")


def verify_payos(key: str, data: Mapping[str, object], signature: str) -> bool:
    """Whether ``signature`` is payOS's signature of ``data`` under ``key``."""
    return _mac_matches(key, payos_canonical(data).encode(), "sha256", signature)


# --- SePay HMAC mode ---------------------------------------------------------------------


def sepay_signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``timestamp + "." + raw body``, as in ``X-SePay-Signature``."""
    return "sha256=" + _hmac_hex(secret, _timed(timestamp, raw_body), "sha256")


def verify_sepay(secret: str, timestamp: str, raw_body: bytes, signature: str) -> bool:
    """Whether ``signature`` (the ``X-SePay-Signature`` header) signs this timestamp and body."""
    prefix, sep, hex_signature = signature.strip().partition("=")
    return (
        prefix == "sha256" and bool(sep) and _mac_matches(secret, _timed(timestamp, raw_body), "sha256", hex_signature)
    )


# --- Casso v2 ------------------------------------------------------------------------------


# The serialisations of a Casso body, by the name the journal records in ``auth``.
CASSO_FORMS = ("ascii", "unicode", "ascii-escaped-slash", "unicode-escaped-slash")


def casso_form(body: object, form: str) -> bytes:
    """The key-sorted body as one of :data:`CASSO_FORMS` writes it (what such a sender signs)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=form.startswith("ascii"))
    return (text.replace("/", "\\/") if form.endswith("escaped-slash") else text).encode()


def _without_floats(value: object) -> bool:
    """Whether a decoded JSON value holds no float at any depth: the types of each container's
    values as one set, and a call per nested container only."""
    if type(value) is dict:
        values: Collection[object] = value.values()
    elif type(value) is list:
        values = value
    else:
        return type(value) is not float
    kinds = set(map(type, values))
    if float in kinds:
        return False
    if dict in kinds or list in kinds:
        return all(map(_without_floats, [v for v in values if type(v) is dict or type(v) is list]))
    return True


def _sorted_ascii(body: object, floats: bool | None) -> bytes | None:
    """msgspec's key-sorted JSON of ``body`` where it is byte for byte ``json.dumps``' ascii form, else ``None``.

    Several times faster than ``json.dumps(sort_keys=True)``. They write the same bytes for ASCII
    text (control characters, quotes and backslashes escaped alike), integers, ``null`` and
    booleans; they differ on non-ASCII (msgspec writes UTF-8), DEL (``json`` escapes it) and
    floats (``1e16`` against ``1e+16``), which send the body to ``json.dumps``. ``floats``: whether
    ``body`` holds a float, when its decoder noted it; ``None`` to look.
    """
    if floats or (floats is None and not _without_floats(body)):
        return None
    try:
        fast = msgspec.json.encode(body, order="sorted")
    except (msgspec.EncodeError, TypeError, OverflowError):
        return None
    if fast.isascii() and b"\x7f" not in fast:
        return fast
    return None


def casso_candidates(body: object, *, floats: bool | None = None) -> Iterator[tuple[str, bytes]]:
    """Every serialisation of the key-sorted body that Casso's official samples could have signed.

    The samples disagree on non-ASCII and ``/`` (Python escapes unicode, PHP also escapes ``/``,
    JavaScript escapes neither). HMAC makes
    accepting any of them safe. The first is the official Python sample's. Each form is made
    only when asked for, and only when it differs from those before: a body of ASCII text with
    no ``/`` (most of them) has one form, and ``json.dumps`` was most of a Casso delivery's cost.
    ``floats``: whether ``body`` holds a float, if its decoder noted it (``None``: look).
    """
    ascii_form = _sorted_ascii(body, floats) or casso_form(body, "ascii")
    yield "ascii", ascii_form
    # Without a \u escape every character was ASCII, so the unicode form is the same text.
    unicode_form = casso_form(body, "unicode") if b"\\u" in ascii_form else ascii_form
    if unicode_form != ascii_form:
        yield "unicode", unicode_form
    if b"/" in ascii_form:  # a "/" byte is only ever the character: UTF-8 never uses it inside another
        yield "ascii-escaped-slash", ascii_form.replace(b"/", b"\\/")
        if unicode_form != ascii_form:
            yield "unicode-escaped-slash", unicode_form.replace(b"/", b"\\/")


def casso_signature(secret: str, timestamp: str, canonical_body: bytes) -> str:
    """Hex HMAC-SHA512 over ``t + "." + canonical JSON``, the ``v1`` of ``X-Casso-Signature``."""
    return _hmac_hex(secret, _timed(timestamp, canonical_body), "sha512")


def verify_casso(
    secret: str, timestamp: str, body: object, signature: str, *, floats: bool | None = None
) -> str | None:
    """Which of :data:`CASSO_FORMS` ``signature`` signs, or ``None``.

    ``floats``: whether ``body`` holds a float, if its decoder noted it (``None``: look).

    The forms are tried in order until one matches, each comparison in constant time; how many
    were tried tells only which public serialisation of the body was signed.
    """
    received = _signed_mac(signature, "sha512")
    if received is None:
        return None
    for form, candidate in casso_candidates(body, floats=floats):
        if hmac.compare_digest(_hmac_bytes(secret, _timed(timestamp, candidate), "sha512"), received):
            return form
    return None


# --- Our generic format: X-Market-Signature: t=<unix s>,v1=<hex HMAC-SHA256(t + "." + body)> ----


def generic_signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """Hex HMAC-SHA256 over ``t + "." + raw body``, the ``v1`` of ``X-Market-Signature``."""
    return _hmac_hex(secret, _timed(timestamp, raw_body), "sha256")


def verify_generic(secret: str, timestamp: str, raw_body: bytes, signature: str) -> bool:
    """Whether ``signature`` signs this timestamp and raw body under ``secret``."""
    return _mac_matches(secret, _timed(timestamp, raw_body), "sha256", signature)


# --- shared helpers -----------------------------------------------------------------------------


def parse_timed_header(value: str) -> tuple[str, str] | None:
    """Split ``t=<timestamp>,v1=<signature>`` (Casso and generic) into its two parts, or ``None``.

    The timestamp is ASCII digits (``int()`` of it cannot fail); spaces around the parts and
    their order do not matter.
    """
    # The header as our simulator and most senders write it, taken apart with a few string
    # methods, cheaper than a regular expression's loop over the hex digits. What the general parser would read
    # differently (another part after a comma, spaces to strip, non-ASCII) goes to it.
    head, sep, signature = value.partition(",v1=")
    if sep and head[:2] == "t=" and signature.isascii() and "," not in signature and signature == signature.strip():
        timestamp = head[2:]
        if timestamp.isdigit() and timestamp.isascii():
            return timestamp, signature
    return _parse_timed_header_parts(value)


def _parse_timed_header_parts(value: str) -> tuple[str, str] | None:
    parts: dict[str, str] = {}
    for item in value.split(","):
        name, sep, content = item.strip().partition("=")
        if sep:
            parts[name.strip()] = content.strip()
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    # isdigit() alone admits "²" and other digits int() refuses.
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return None
    return timestamp, signature


def is_fresh(timestamp_seconds: float, now_seconds: float, window_seconds: float) -> bool:
    """Whether a signed timestamp lies within ``window_seconds`` of now, either way (replay protection)."""
    return abs(now_seconds - timestamp_seconds) <= window_seconds


# --- bearer tokens for VietQR.vn's transaction sync ------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# The secret key signs other things too; this prefix keeps a token from being valid anywhere else.
_TOKEN_PURPOSE = b"market.vietqr-bearer."


def _token_mac(secret: str, payload: str) -> str:
    return _hmac_hex(secret, _TOKEN_PURPOSE + payload.encode(), "sha256")


def sign_token(secret: str, subject: str, expires_at: int) -> str:
    """A compact bearer token ``<payload>.<HMAC-SHA256>``; the payload holds the subject and expiry.

    No JWT library: VietQR.vn only stores the token and sends it back, so its format is ours.
    """
    payload = _b64(json.dumps({"sub": subject, "exp": expires_at}, separators=(",", ":")).encode())
    return f"{payload}.{_token_mac(secret, payload)}"


def verify_token(secret: str, token: str, now_seconds: float, subjects: Iterable[str]) -> bool:
    """Whether ``token`` was signed with ``secret``, has not expired, and names one of ``subjects``."""
    payload, sep, signature = token.strip().partition(".")
    if not sep or not constant_time_equal(_token_mac(secret, payload), signature):
        return False
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return False
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        return False
    return claims["exp"] > now_seconds and claims.get("sub") in set(subjects)
