"""The matching core: notifications and an open book in, decisions out; no I/O, no database.

- ``core``: :func:`~market.reconcile.matching.core.match_batch`, the rules in order.
- ``book``: what the core reads (intents, accounts, receipts that may be reversed, manual decisions).
- ``decisions``: what the core returns (one :class:`Decision` per notification, suggestions).
- ``memo``: finding reference codes in what banks do to a transfer memo.
- ``references``: the intents' reference codes (``P`` + 7 symbols + a check symbol) and their near misses.

The same input gives the same output, so the ledger can be replayed from the journal.
"""
