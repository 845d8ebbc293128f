"""What a principal may not see is taken out of an answer: phones without ``PHONES_READ``, receiving
accounts without ``ACCOUNTS_READ``.

The Zalo number is a phone number too. National IDs are not redacted here: they are only read
on request (``?include=national_id``), and that request is refused without ``NATIONAL_ID_READ``.
"""

from __future__ import annotations

import msgspec

from market.access.roles import Permission, Principal, allowed
from market.merchants.schemas import ChangeOut, HistoryPage, StallOut, StallPage

__all__ = ["history_for", "stall_for", "stalls_for"]

_PHONE_FIELDS = frozenset({"holder.phone", "holder.zalo"})
_ACCOUNT_FIELDS = frozenset({"accounts"})


def _hidden_fields(principal: Principal | None) -> frozenset[str]:
    hidden: frozenset[str] = frozenset()
    if not allowed(principal, Permission.PHONES_READ):
        hidden |= _PHONE_FIELDS
    if not allowed(principal, Permission.ACCOUNTS_READ):
        hidden |= _ACCOUNT_FIELDS
    return hidden


def _without(stall: StallOut, hidden: frozenset[str]) -> StallOut:
    if hidden & _PHONE_FIELDS:
        stall = msgspec.structs.replace(stall, holder=msgspec.structs.replace(stall.holder, phone=None, zalo=None))
    if hidden & _ACCOUNT_FIELDS:
        stall = msgspec.structs.replace(stall, accounts=[])
    return stall


def stall_for(principal: Principal | None, stall: StallOut) -> StallOut:
    """``stall`` as ``principal`` may see it."""
    hidden = _hidden_fields(principal)
    return _without(stall, hidden) if hidden else stall


def stalls_for(principal: Principal | None, page: StallPage) -> StallPage:
    """Each stall of ``page`` as ``principal`` may see it."""
    hidden = _hidden_fields(principal)
    if not hidden:
        return page
    return msgspec.structs.replace(page, items=[_without(stall, hidden) for stall in page.items])


def _without_values(change: ChangeOut, hidden: frozenset[str]) -> ChangeOut:
    if change.field not in hidden:
        return change
    return msgspec.structs.replace(change, old=None, new=None)


def history_for(principal: Principal | None, page: HistoryPage) -> HistoryPage:
    """A stall's history as ``principal`` may see it: that a phone or an account changed, not to what."""
    hidden = _hidden_fields(principal)
    if not hidden:
        return page
    return msgspec.structs.replace(page, items=[_without_values(change, hidden) for change in page.items])
