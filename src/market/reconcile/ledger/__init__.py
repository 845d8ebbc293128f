"""The ledger: where the core's decisions become receipts, and where people look at them.

- ``models``: intents, receipts, the review queue, daily and monthly rollups, the checkpoint.
- ``driver``: the matching driver, journal in and ledger out, exactly once, one matcher at a time.
- ``intents``: creating and reading payment intents (a sale's dynamic QR).
- ``review_queue``: the payments no rule attributed, their suggestions, and people's decisions.
- ``statements``: importing a bank statement, and what is missing on either side.
"""
