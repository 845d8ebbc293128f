"""Adoption: how many stall holders actually take cashless payments, the visit list, the commune report.

Figures are SQL aggregates over the registry (``stalls``) and the ledger's per-stall-day rollup
(``stall_days``); definitions live in :mod:`market.adoption.definitions`.
"""
