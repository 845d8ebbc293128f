"""Reconciliation: from a provider's webhook to a receipt of a stall, in three parts.

1. ``ingest`` verifies and decodes each provider's request into one canonical
   :class:`~market.reconcile.notification.Notification` and stores it in the journal, durably and
   exactly once, before the provider is answered.
2. ``matching`` is the pure core: a batch of notifications and the open book in, one decision per
   notification out (which stall, which intent, paid / partial / over / duplicate / late / reversal,
   or the review queue with suggestions). No I/O.
3. ``ledger`` feeds the core from the journal and writes its decisions as receipts, review items
   and rollups in one transaction per batch; it also holds intents, the review queue and bank
   statements.

``notification`` and ``statuses`` are shared by the three; ``speedups`` loads the optional C kernels
(``_speedups.c``) that ingest and matching use. ``ingest`` and ``matching`` never import ``ledger``.
"""
