"""market.reconcile"""
