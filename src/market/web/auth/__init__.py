"""Access control for the web: who a request comes from, and whether its route lets them in."""
