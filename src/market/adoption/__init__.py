"""market.adoption"""
