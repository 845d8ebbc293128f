"""What a principal may not see is taken out of an answer: holders' phones without ``PHONES_READ``.

The Zalo number is a phone number too. National IDs are not redacted here: they are only read
on request (``?include=national_id``), and that request is refused without ``NATIONAL_ID_READ``.
"""

from __future__ import annotations

import msgspec

from market.access.roles import Permission, Principal, allowed
from market.merchants.schemas import ChangeOut, HistoryPage, StallOut, StallPage

__all__ = ["history_for", "stall_for", "stalls_for"]

_PHONE_FIELDS = frozenset({"holder.phone", "holder.zalo"})


def _without_phones(stall: StallOut) -> StallOut:
    holder = msgspec.structs.replace(stall.holder, phone=None, zalo=None)
    return msgspec.structs.replace(stall, holder=holder)


def stall_for(principal: Principal | None, stall: StallOut) -> StallOut:
    """``stall`` as ``principal`` may see it."""
    return stall if allowed(principal, Permission.PHONES_READ) else _without_phones(stall)


def stalls_for(principal: Principal | None, page: StallPage) -> StallPage:
    """Each stall of ``page`` as ``principal`` may see it."""
    if allowed(principal, Permission.PHONES_READ):
        return page
    return msgspec.structs.replace(page, items=[_without_phones(stall) for stall in page.items])


def _without_phone_values(change: ChangeOut) -> ChangeOut:
    if change.field not in _PHONE_FIELDS:
        return change
    return msgspec.structs.replace(change, old=None, new=None)


def history_for(principal: Principal | None, page: HistoryPage) -> HistoryPage:
    """A stall's history as ``principal`` may see it: that a phone changed, not the numbers."""
    if allowed(principal, Permission.PHONES_READ):
        return page
    return msgspec.structs.replace(page, items=[_without_phone_values(change) for change in page.items])
