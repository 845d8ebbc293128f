"""Load benchmark: the durable signed-webhook endpoint against a no-op endpoint of the same app.

Starts the app (uvicorn, one worker) on 127.0.0.1 in a subprocess, with one extra route that
exists only in this benchmark: ``POST /webhooks/_noop`` reads the body and answers 200 (no
verification, no journal). The production app never has it. This process then drives load with
httpx (async, bounded count and time): the same pre-signed bodies go first to the no-op route,
then to the real ``/webhooks/<provider>`` routes (verified + journalled + committed before 200),
alternating for ``--rounds`` rounds. It reports req/s, p50/p99 and the ratio webhook / no-op
(goal ≥ 0.8). When ``taskset`` exists the server is pinned to CPU 0 and the load to CPU 1, so
that the server, not the client, is what is measured (stack.md §3.2c). It also reports the server's
CPU time per request in each phase (from ``/proc``): when httpx cannot saturate the server,
req/s mostly measure the client, and the CPU ratio is the server's true capacity ratio.

    .venv/bin/python benchmarks/load_webhooks.py --count 4000 --concurrency 64 --rounds 2
    .venv/bin/python benchmarks/load_webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from litestar import MediaType, Request, Response, post

SECRETS = {
    "MARKET_PAYOS_CHECKSUM_KEY": "bench-payos",
    "MARKET_SEPAY_WEBHOOK_SECRET": "bench-sepay",
    "MARKET_CASSO_SECRET": "bench-casso",
    "MARKET_GENERIC_WEBHOOK_SECRET": "bench-generic",
}


def bench_app() -> Any:
    """The app of ``MARKET_*`` settings plus the benchmark-only no-op route (uvicorn factory)."""
    from market.web.app import create_app

    @post("/webhooks/_noop", status_code=200, media_type=MediaType.JSON, include_in_schema=False)
    async def noop(request: Request[Any, Any, Any]) -> Response[bytes]:
        await request.body()
        return Response(b'{"success":true}', media_type=MediaType.JSON)

    app = create_app()
    app.register(noop)
    return app


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux ``/proc``); threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        *_pin(0),
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(Path(__file__).parent),
        "--factory",
        "load_webhooks:bench_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 30 s")


def _phase(
    server_pid: int, base: str, requests: list[tuple[str, bytes, dict[str, str]]], concurrency: int, seconds: float
) -> dict[str, float]:
    cpu_before = _cpu_seconds(server_pid)
    result = asyncio.run(_drive(base, requests, concurrency, seconds))
    result["server_cpu_us"] = (_cpu_seconds(server_pid) - cpu_before) / result["requests"] * 1e6
    return result


async def _drive(
    base: str, requests: list[tuple[str, bytes, dict[str, str]]], concurrency: int, max_seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    pending = iter(requests)
    deadline = time.monotonic() + max_seconds

    async def worker() -> None:
        nonlocal failures
        # One client per worker: httpx's shared pool slows down sharply under many concurrent requests.
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for path, body, headers in pending:
                if time.monotonic() > deadline:
                    return
                begin = time.perf_counter()
                response = await client.post(path, content=body, headers=headers)
                latencies.append(time.perf_counter() - begin)
                failures += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def _requests(provider: str, count: int, seed: int) -> list[tuple[str, bytes, dict[str, str]]]:
    from market.config import load_settings
    from market.reconcile import simulate as sim

    settings = load_settings()
    providers = sim.configured_providers(settings) if provider == "mixed" else [provider]
    # Signed now, sent within the 5-minute window; signing stays out of the measured time.
    return [sim.render(t, settings) for t in sim.plan(providers, count, 0.0, seed)]  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="mixed", choices=["payos", "sepay", "casso", "generic", "mixed"])
    parser.add_argument("--count", type=int, default=4000, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="no-op / webhook pairs")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap per phase")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="market-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(SECRETS, MARKET_DATABASE_URL=url, MARKET_LOG_LEVEL="WARNING")
    os.environ.update(env)
    from market.config import load_settings
    from market.db import migrate

    migrate(load_settings())
    port = _free_port()
    server = _start_server(env, port)
    if pin := _pin(1):
        os.sched_setaffinity(0, {int(pin[-1])})
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[dict[str, float]]] = {"noop": [], "webhook": []}
    try:
        warm = _requests(args.provider, 300, seed=9999)
        asyncio.run(_drive(base, [("/webhooks/_noop", b, h) for _, b, h in warm], args.concurrency, 30))
        asyncio.run(_drive(base, warm, args.concurrency, 30))
        for round_no in range(args.rounds):
            signed = _requests(args.provider, args.count, seed=round_no + 1)
            noop = [("/webhooks/_noop", body, headers) for _, body, headers in signed]
            results["noop"].append(_phase(server.pid, base, noop, args.concurrency, args.max_seconds))
            results["webhook"].append(_phase(server.pid, base, signed, args.concurrency, args.max_seconds))
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"database {url.split(':')[0]}, provider {args.provider}, {args.count} requests x {args.rounds} rounds, "
          f"concurrency {args.concurrency}, pinned {'yes' if _pin(0) else 'no'}")  # fmt: skip
    for name, runs in results.items():
        for i, r in enumerate(runs):
            print(
                f"  {name:8s} round {i + 1}: {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:6.1f} ms  server CPU {r['server_cpu_us']:5.0f} us/req  non-200 {int(r['failures'])}"
            )
    ratios = [w["rps"] / n["rps"] for n, w in zip(results["noop"], results["webhook"], strict=True)]
    print("  ratio webhook / no-op req/s per round: " + ", ".join(f"{r:.2f}" for r in ratios) + " (goal >= 0.80)")
    # When the load generator, not the server, is the limit, req/s hide the server's cost; the
    # server's CPU per request is what bounds its capacity once it is saturated.
    capacity = [
        n["server_cpu_us"] / w["server_cpu_us"] for n, w in zip(results["noop"], results["webhook"], strict=True)
    ]
    print("  capacity ratio (no-op CPU / webhook CPU per request): " + ", ".join(f"{r:.2f}" for r in capacity))


if __name__ == "__main__":
    main()
