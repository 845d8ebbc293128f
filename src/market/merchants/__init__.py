"""market.merchants"""
