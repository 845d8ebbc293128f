"""Who may do what: staff users and roles, sign-in sessions, API tokens, stall holders' links, the audit log.

- ``roles``: the roles, the signed-in ``Principal`` and the role → permission table (``allowed``).
- ``models``: the tables; ``passwords``: Argon2id; ``secret_values``: random values and their digests.
- ``users``, ``sessions``, ``tokens``, ``links``: each kind of account or credential.
- ``throttle``: failed sign-ins per username and per address; ``signin``: the sign-in flows.
- ``audit``: the audit log; ``cli``: ``market users``, ``market tokens``, ``market merchants link``.

Below the web layer: no HTTP here; the web layer turns these into guards, cookies and pages.
"""
