"""The ledger: where the core's decisions become receipts, and where people look at them.

- ``models``: intents, receipts, the review queue, daily and monthly rollups, the checkpoint;
  ``tables``: their ``sa.Table`` handles (and the journal's), named ``*_table``.
- ``driver``: the matching driver, journal in and ledger out, exactly once, one matcher at a time;
  ``book_loader`` builds the core's book from the ledger, ``writes`` writes its decisions,
  ``journal_rows`` and ``manual_decisions`` read what the core is handed.
- ``matcher_service``: the server's matching loop around the driver.
- ``intents``: creating and reading payment intents (a sale's dynamic QR).
- ``receipts``: a stall's receipts as its screens read them.
- ``review_queue``: the payments no rule attributed, their suggestions, and people's decisions.
- ``statements``: importing a bank statement, and what is missing on either side.
"""
