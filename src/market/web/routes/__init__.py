"""HTTP routes, one module per area.

Each module defines ``ROUTES`` (route handlers, controllers or routers) and may define
``LIFESPAN`` (async context managers, each called with the app, for background workers).
``market.web.app`` discovers the modules, so adding an area never edits the app factory.
"""
