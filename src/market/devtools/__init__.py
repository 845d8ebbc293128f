"""Tools for developers and demos, never imported by the app: the demo market and the load simulator.

- ``seed_registry``: about 120 stalls of the demo market.
- ``seed_payments``: a month of payments through the real journal and driver.
- ``seed_access``: one demo user of each role and one stall holder's link.
- ``simulate``: signed, realistic notifications sent to a running server (``market simulate``).
"""
