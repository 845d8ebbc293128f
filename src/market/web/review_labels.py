"""The review queue's label fields, filled from the web catalogue before the API returns them.

The ledger returns reason and suggestion codes; ``reason_text`` and ``why_text`` are part of the
API's answer and carry the words in both languages (``Vietnamese / English``), as they always have.
"""

from __future__ import annotations

import msgspec

from market.reconcile.ledger.review_queue import SuggestionOut, UnmatchedItem, UnmatchedPage
from market.reconcile.reasons import PAYER_HISTORY
from market.web.i18n import STRINGS, bilingual

__all__ = ["labelled_item", "labelled_page"]


def _words(code: str) -> str:
    key = f"reason.{code}"
    return bilingual(key) if key in STRINGS else code


def _suggestion(suggestion: SuggestionOut) -> SuggestionOut:
    words = _words(suggestion.why)
    if suggestion.why == PAYER_HISTORY and suggestion.times is not None:
        words = f"{words} ({suggestion.times})"
    return msgspec.structs.replace(suggestion, why_text=words)


def labelled_item(item: UnmatchedItem) -> UnmatchedItem:
    """``item`` with the words of its reason and of each suggestion's ground."""
    return msgspec.structs.replace(
        item, reason_text=_words(item.reason), suggestions=[_suggestion(s) for s in item.suggestions]
    )


def labelled_page(page: UnmatchedPage) -> UnmatchedPage:
    """``page`` with every item labelled (:func:`labelled_item`)."""
    return msgspec.structs.replace(page, items=[labelled_item(item) for item in page.items])
