"""Load benchmark: the durable signed-webhook endpoints against a no-op endpoint of the same app.

Starts the app (uvicorn, one worker, uvloop + httptools) on 127.0.0.1 in a subprocess, with one
extra route that exists only in this benchmark: ``POST /webhooks/_noop`` reads the body and
answers 200 (no verification, no journal); the production app never has it. It is the same kind
of handler as the webhooks (a Litestar ``@post`` returning ``Response[bytes]``). Load comes from
``wrk`` (``apt-get install wrk``) with ``load_webhooks.lua``, which sends pre-signed requests read
from a file, each exactly once, so every webhook request is a new notification that is verified,
journalled and committed before its 200. Server on CPU 0, wrk on CPU 1 (``taskset``), ``-t1 -c64``:
the method of stack.md §3.2c, where httpx could not saturate the server.

In one run, per round: the no-op endpoint, then each provider's endpoint, with the same bodies.
It reports req/s, p50/p99, the ratio webhook / no-op (goal ≥ 0.8), the server's CPU time per
request, and checks that the journal holds at least one row per acknowledged webhook.

* ``--order arrival`` (default) sends the notifications as a provider numbers them: SePay's and
  Casso's ids count up, banks' references (FT...) grow with time, so real deliveries reach the
  journal's indexes near their right-hand end. ``--order shuffled`` sends them in random order,
  every key at a random place in the indexes: the adversarial case for SQLite, reported too.
* Each round measures the no-op and the webhook with the same bodies, alternating: ``--slices``
  turns each endpoint's ``--seconds`` into that many slices (at least a second each), no-op then
  webhook, so both meet the same moments of the host; the round's ratio is the webhook's requests
  over the no-op's in the same total time. The summary is the median over rounds of those ratios
  (on a shared machine the rate of either moves by ±20 % within seconds: a ratio of phases far
  apart says little, and whole-phase rounds ranged 0.46-1.09 on the same code).
* The matching loop is off (``MARKET_RUN_MATCHER=false``): this measures ingest. ``--matcher``
  runs it in the same process, on the same core; its CPU then counts against the webhooks.
* On PostgreSQL give it an empty database: the journal is not emptied between runs.

    .venv/bin/python benchmarks/load_webhooks.py --providers generic,sepay --seconds 10 --rounds 2
    .venv/bin/python benchmarks/load_webhooks.py --providers casso --seconds 8 --slices 8 --rounds 6
    .venv/bin/python benchmarks/load_webhooks.py --order shuffled
    .venv/bin/python benchmarks/load_webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from litestar import MediaType, Request, Response, post

SECRETS = {
    "MARKET_PAYOS_CHECKSUM_KEY": "bench-payos",
    "MARKET_SEPAY_WEBHOOK_SECRET": "bench-sepay",
    "MARKET_CASSO_SECRET": "bench-casso",
    "MARKET_GENERIC_WEBHOOK_SECRET": "bench-generic",
}
HERE = Path(__file__).parent
NOOP = "/webhooks/_noop"


def bench_app(settings: Any = None) -> Any:
    """The app of ``settings`` (default: the ``MARKET_*`` variables) plus the benchmark-only no-op route.

    A uvicorn factory (no arguments); the tests pass their settings.
    """
    from market.web.app import create_app
    from market.web.auth.rules import PROVIDER

    @post(NOOP, status_code=200, media_type=MediaType.JSON, include_in_schema=False, opt=PROVIDER)
    async def noop(request: Request[Any, Any, Any]) -> Response[bytes]:
        await request.body()
        return Response(b'{"success":true}', media_type=MediaType.JSON)

    app = create_app(settings)
    app.register(noop)
    return app


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time the process has used (Linux ``/proc``); threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def server_env(database_url: str, *, matcher: bool = False) -> dict[str, str]:
    """The server's environment: this one without its ``MARKET_*``, plus the benchmark's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(
        SECRETS, MARKET_DATABASE_URL=database_url, MARKET_LOG_LEVEL="WARNING", MARKET_RUN_MATCHER=str(matcher).lower()
    )
    return env


def start_server(
    env: dict[str, str],
    port: int,
    *,
    wrapper: list[str] | None = None,
    wait_seconds: float = 30,
    factory: str = "load_webhooks:bench_app",
) -> subprocess.Popen[bytes]:
    """The benchmark app under uvicorn on ``port``, once ``/healthz`` answers.

    ``wrapper`` runs it under another program (``valgrind ...``); by default it is pinned to CPU 0.
    ``factory`` is the app's uvicorn factory in this directory (``webhook_stages:stages_app``).
    """
    command = [
        *(_pin(0) if wrapper is None else wrapper),
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, stderr=None if wrapper is None else subprocess.DEVNULL)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start within {wait_seconds:.0f} s")


def _signed(provider: str, count: int, seed: int, order: str = "shuffled") -> list[tuple[str, bytes, dict[str, str]]]:
    """``count`` distinct notifications of ``provider``, signed now (valid for the 5-minute window).

    ``shuffled``: in the simulator's random order, so every journal index takes its keys at random
    places (the costly case for SQLite's B-trees). ``arrival``: in the order the provider numbered
    them, as a real provider sends them (its ids and the banks' references grow with time).
    """
    from market.config import load_settings
    from market.devtools import simulate as sim

    settings = load_settings()
    transfers = sim.plan([provider], count, 0.0, seed)  # type: ignore[list-item]
    if order == "arrival":
        transfers.sort(key=lambda t: int(t.txn_id))
    return [sim.render(t, settings) for t in transfers]


def _write_requests(path: Path, port: int, requests: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """The raw HTTP/1.1 requests, as ``<length>\\n<request>`` records for ``load_webhooks.lua``."""
    with path.open("wb") as out:
        for target, body, headers in requests:
            head = [f"POST {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
            out.write(b"%d\n" % len(raw) + raw)


def _wrk(path: Path, port: int, seconds: int, connections: int) -> dict[str, float]:
    command = [
        *_pin(1),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "load_webhooks.lua"),
        f"http://127.0.0.1:{port}",
    ]
    env = {**os.environ, "LOAD_REQUESTS": str(path)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    output = done.stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))  # type: ignore[no-any-return]


def _journal_rows() -> int:
    from market.config import load_settings
    from market.db import create_sync_engine_for

    engine = create_sync_engine_for(load_settings())  # MARKET_DATABASE_URL is the url
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM notification_journal")).scalar_one())
    finally:
        engine.dispose()


def _phase(
    server_pid: int, workdir: Path, port: int, requests: list[tuple[str, bytes, dict[str, str]]], args: Any
) -> dict[str, float]:
    path = workdir / "requests.bin"
    _write_requests(path, port, requests)
    user_before, system_before = _cpu_seconds(server_pid)
    result = _wrk(path, port, args.seconds, args.connections)
    user, system = _cpu_seconds(server_pid)
    result["server_system_s"] = system - system_before
    result["server_cpu_s"] = user - user_before + result["server_system_s"]
    result["server_cpu_us"] = result["server_cpu_s"] / max(1, result["requests"]) * 1e6
    result["rps"] = result["requests"] / result["duration_us"] * 1e6
    # wrk stops at the first request past the end, cutting off the ones in flight.
    result["exhausted"] = result["requests"] + args.connections >= len(requests)
    return result


def _combined(slices: list[dict[str, float]]) -> dict[str, float]:
    """One endpoint's slices as one measurement: requests over time, CPU over requests.

    Latency percentiles cannot be added up: p50 and p99 are the medians of the slices' own.
    """
    requests = sum(r["requests"] for r in slices)
    duration_us = sum(r["duration_us"] for r in slices)
    return {
        "requests": requests,
        "duration_us": duration_us,
        "rps": requests / duration_us * 1e6,
        "server_cpu_us": sum(r["server_cpu_s"] for r in slices) / max(1, requests) * 1e6,
        "server_system_us": sum(r["server_system_s"] for r in slices) / max(1, requests) * 1e6,
        "non2xx": sum(r["non2xx"] for r in slices),
        "socket_errors": sum(r["socket_errors"] for r in slices),
        "p50_us": statistics.median(r["p50_us"] for r in slices),
        "p99_us": statistics.median(r["p99_us"] for r in slices),
        "exhausted": any(r["exhausted"] for r in slices),
    }


def _alternating(
    server_pid: int, workdir: Path, port: int, signed: list[tuple[str, bytes, dict[str, str]]], args: Any
) -> tuple[dict[str, float], dict[str, float]]:
    """The no-op and the webhook endpoint in alternating slices, each slice its own share of ``signed``."""
    share = len(signed) // args.slices
    timing = argparse.Namespace(seconds=max(1, args.seconds // args.slices), connections=args.connections)
    noop, hook = [], []
    for start in range(0, share * args.slices, share):
        chunk = signed[start : start + share]
        noop.append(_phase(server_pid, workdir, port, [(NOOP, b, h) for _, b, h in chunk], timing))
        hook.append(_phase(server_pid, workdir, port, chunk, timing))
    return _combined(noop), _combined(hook)


def _line(name: str, r: dict[str, float]) -> str:
    warn = "  (RAN OUT OF REQUESTS: req/s is too low, raise --requests)" if r["exhausted"] else ""
    return (
        f"  {name:10s} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms  "
        f"server CPU {r['server_cpu_us']:5.0f} us/req ({r['server_system_us']:3.0f} system)  "
        f"non-2xx {int(r['non2xx'])}  "
        f"socket errors {int(r['socket_errors'])}{warn}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--providers", default="generic,sepay", help="comma-separated: payos,sepay,casso,generic")
    parser.add_argument("--seconds", type=int, default=10, help="measured time per endpoint per round")
    parser.add_argument(
        "--slices", type=int, default=5, help="alternating no-op/webhook slices per round (at least 1 s each)"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=300_000,
        help="pre-signed requests per endpoint per round, shared among the slices (upper bound)",
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--order",
        choices=("shuffled", "arrival"),
        default="arrival",
        help="order of the notifications: as the provider numbers them (default) or random (the costly case)",
    )
    parser.add_argument(
        "--matcher",
        action="store_true",
        help="also run the matching loop in the server (MARKET_RUN_MATCHER); off by default: this measures ingest",
    )
    parser.add_argument("--env", action="append", default=[], help="extra MARKET_X=value for the server")
    args = parser.parse_args()
    providers = args.providers.split(",")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    workdir = Path(tempfile.mkdtemp(prefix="market-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    env = server_env(url, matcher=args.matcher)
    env.update(item.split("=", 1) for item in args.env)
    os.environ.update(env)
    from market.config import load_settings
    from market.db import migrate

    migrate(load_settings())
    port = _free_port()
    server = start_server(env, port)
    if pin := _pin(1):
        os.sched_setaffinity(0, {int(pin[-1])})
    rows: list[tuple[str, int, dict[str, float]]] = []
    acknowledged = 0
    seed = 1
    try:
        warm = _signed(providers[0], 3000, seed=9999)
        for target in (NOOP, None):
            requests = [(target or path, body, headers) for path, body, headers in warm]
            warmed = _phase(
                server.pid, workdir, port, requests, argparse.Namespace(seconds=2, connections=args.connections)
            )
        acknowledged += int(warmed["requests"] - warmed["non2xx"])
        for round_no in range(1, args.rounds + 1):
            for provider in providers:
                # The same signed bodies go to both endpoints; the no-op one stores nothing.
                seed += 1
                signed = _signed(provider, args.requests, seed, args.order)
                noop, hook = _alternating(server.pid, workdir, port, signed, args)
                acknowledged += int(hook["requests"] - hook["non2xx"])
                rows.append((provider, round_no, noop))
                rows.append((provider, round_no, hook))
    finally:
        server.terminate()
        server.wait(15)
    journalled = _journal_rows()
    shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"database {url.split(':')[0]}, wrk -t1 -c{args.connections} {args.seconds} s per endpoint per round "
        f"in {args.slices} alternating slices, "
        f"pinned {'server CPU 0, wrk CPU 1' if _pin(0) else 'no'}, "
        f"matcher {'on' if args.matcher else 'off'}, order {args.order}"
    )
    for (provider, round_no, noop), (_, _, hook) in zip(rows[::2], rows[1::2], strict=True):
        print(f"round {round_no}, {provider}:")
        print(_line("no-op", noop))
        print(_line(provider, hook))
        print(
            f"  ratio webhook / no-op: {hook['rps'] / noop['rps']:.2f} req/s (goal >= 0.80), "
            f"{noop['server_cpu_us'] / hook['server_cpu_us']:.2f} by server CPU per request"
        )
    for provider in providers:
        ratios = sorted(
            hook["rps"] / noop["rps"]
            for (name, _, noop), (_, _, hook) in zip(rows[::2], rows[1::2], strict=True)
            if name == provider
        )
        print(
            f"{provider}: median ratio {statistics.median(ratios):.2f} over {len(ratios)} rounds "
            f"(each {', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.80)"
        )
    verdict = "ok" if journalled >= acknowledged else "MISSING ROWS"
    print(f"journal: {journalled} rows for {acknowledged} acknowledged webhooks ({verdict})")


if __name__ == "__main__":
    main()
