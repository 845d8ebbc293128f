"""A real ``market serve`` process on 127.0.0.1 for the tests that need one (a crash, open streams,
a browser, concurrent load): start it on a free port, wait for ``/healthz``, stop or kill it.

Not a test module (no ``test_`` prefix); tests import it as ``from server_process import ...``
(tests/ is on ``sys.path`` through conftest).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

__all__ = ["free_port", "serve", "stop"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(database_url: str, port: int, **variables: str) -> subprocess.Popen[bytes]:
    """``python -m market serve`` on 127.0.0.1:``port`` over ``database_url``, once it answers /healthz.

    The process sees none of this environment's ``MARKET_*`` variables, only the database URL and
    ``variables`` (``MARKET_CASSO_SECRET="..."``, ...).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(variables, MARKET_DATABASE_URL=database_url, MARKET_LOG_LEVEL="WARNING")
    command = [sys.executable, "-m", "market", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("server did not answer /healthz within 30 s")


def stop(server: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """Stop the server (SIGKILL when ``kill``: a crash, open streams and all)."""
    if server.poll() is None:
        if kill:
            server.kill()
        else:
            server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if server.stderr:
        server.stderr.close()
