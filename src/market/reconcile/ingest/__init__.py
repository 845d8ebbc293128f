"""Ingest: a provider's request in, a durable journal row out, before the provider hears 2xx.

- ``adapters/``: one module per provider (payOS, SePay, Casso, VietQR.vn, our generic format) turns
  the raw request into a canonical :class:`~market.reconcile.notification.Notification`, or refuses it
  with a :class:`~market.reconcile.ingest.adapters.RejectionError` that says why.
- ``signatures``: the providers' signature algorithms, constant-time checks, freshness of timestamps.
- ``journal``: the batch writer that stores every accepted notification exactly once (unique on
  provider + transaction id, one original per bank credit) and answers each request after COMMIT.
- ``models``: the journal's table.

Ingest decides nothing about whose money it is: that is the matching core's job.
"""
