"""Instructions per request of the no-op and the signed-webhook endpoints, counted by callgrind.

``load_webhooks.py`` measures requests per second, which on a shared 2-vCPU machine moves by
±20 % between phases a minute apart. The instructions the server executes per request do not:
this starts the same app as ``load_webhooks.py`` (uvicorn, uvloop, httptools, a fresh SQLite
journal, the benchmark-only ``POST /webhooks/_noop``) under ``valgrind --tool=callgrind``, sends
each endpoint its signed requests with ``wrk`` for a fixed time, and reads the count of each
phase alone (``callgrind_control --zero`` before, ``--dump`` after). The journal's batches are
as under load: 64 connections keep 64 requests waiting while valgrind runs the server ~50 times
slower.

Only the server process is counted: on PostgreSQL the database's own work is not.
What callgrind does not count: the kernel's share (sockets, the WAL's writes and fsyncs), ~15 %
of the no-op's CPU time, and the checkpoint's wait for the disk. Under valgrind OpenSSL hashes
without the SHA extensions, so HMAC counts several times what it costs natively. So the
instruction ratio is a steady guide to changes in our code, not the req/s ratio itself.

    .venv/bin/python benchmarks/instructions_webhooks.py                       # no-op, generic, sepay
    .venv/bin/python benchmarks/instructions_webhooks.py --endpoints noop,payos --seconds 60
    .venv/bin/python benchmarks/instructions_webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python benchmarks/instructions_webhooks.py --stages generic --seconds 20   # where the extra goes
    PYTHONPATH=/other/checkout/src .venv/bin/python benchmarks/instructions_webhooks.py   # another tree

``--stages PROVIDER`` serves ``webhook_stages.py``'s app instead: the no-op, then endpoints that
stop after reading, after the adapter, and after a group commit that writes nothing, then the
webhook; the differences say what each stage adds to the no-op.

Needs ``apt-get install valgrind wrk``; takes ~1 minute per endpoint plus start-up.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import load_webhooks as load  # the sibling benchmark, found through the line above

PROVIDERS = ("payos", "sepay", "casso", "generic")


def _dumped_events(out: Path, before: set[str]) -> dict[str, int]:
    """The event totals (``Ir``, and with ``--cache-sim`` the misses) of the dump callgrind wrote since ``before``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name in set(glob.glob(f"{out}.*")) - before:
            text = Path(name).read_text(errors="replace")
            events = re.search(r"^events: (.+)$", text, re.MULTILINE)
            found = re.search(r"^(?:totals|summary): ([\d ]+)$", text, re.MULTILINE)
            if events and found:
                return dict(zip(events.group(1).split(), map(int, found.group(1).split()), strict=False))
        time.sleep(0.5)
    raise SystemExit("callgrind wrote no dump")


def cycle_estimate(events: dict[str, float]) -> float:
    """Callgrind's own estimate of cycles from its simulated events (callgrind_annotate's formula).

    Ir + 10 x L1 misses + 100 x last-level misses + 10 x mispredicted branches.
    """
    l1 = events.get("I1mr", 0) + events.get("D1mr", 0) + events.get("D1mw", 0)
    last = events.get("ILmr", 0) + events.get("DLmr", 0) + events.get("DLmw", 0)
    mispredicted = events.get("Bcm", 0) + events.get("Bim", 0)
    return events["Ir"] + 10 * l1 + 100 * last + 10 * mispredicted


def _phase(
    server: subprocess.Popen[bytes],
    workdir: Path,
    port: int,
    requests: list[tuple[str, bytes, dict[str, str]]],
    seconds: int,
) -> tuple[dict[str, int], int]:
    """(event totals, 2xx answers) of one endpoint's phase."""
    path = workdir / "requests.bin"
    load._write_requests(path, port, requests)
    out = workdir / "callgrind.out"
    before = set(glob.glob(f"{out}.*"))
    subprocess.run(["callgrind_control", "--zero", str(server.pid)], check=True, capture_output=True)
    result = load._wrk(path, port, seconds, 64)
    subprocess.run(["callgrind_control", "--dump", str(server.pid)], check=True, capture_output=True)
    return _dumped_events(out, before), int(result["requests"] - result["non2xx"])


_STAGES = ("noop", "read", "verify", "suspend")


def _target(endpoint: str, provider: str) -> str:
    """The path of an endpoint: the no-op, a stage of ``webhook_stages`` or a provider's webhook."""
    if endpoint == "noop":
        return load.NOOP
    if endpoint == "verify":
        return f"/webhooks/_verify_{provider}"
    if endpoint in ("read", "suspend"):
        return f"/webhooks/_{endpoint}"
    return f"/webhooks/{endpoint}"


def _print_stages(provider: str, results: dict[str, float], measure: str) -> None:
    """What each stage adds to the no-op, from the endpoints that stop after it (``webhook_stages``)."""
    noop, read, verify, suspend = (results[name] for name in _STAGES)
    journal = results[provider] - verify
    print(f"  stages of a {provider} delivery, {measure} per request beyond the no-op's {noop:,.0f}:")
    for label, count in (
        ("read headers and body as the webhooks do", read - noop),
        ("verify and decode (the adapter, in the batch)", verify - read - (suspend - noop)),
        ("wait for the group commit (suspend, resume)", suspend - noop),
        ("journal: row, INSERT, COMMIT (the rest)", journal),
        ("all of the webhook's own work", results[provider] - noop),
    ):
        print(f"    {label:45s} {count:+10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--endpoints", default="noop,generic,sepay", help="noop and/or " + ",".join(PROVIDERS))
    parser.add_argument(
        "--stages",
        choices=PROVIDERS,
        default=None,
        help="instead of --endpoints: the no-op, each stage of this provider's delivery (webhook_stages.py), "
        "and its webhook, with what each stage adds",
    )
    parser.add_argument("--seconds", type=int, default=40, help="measured time per endpoint (under valgrind)")
    parser.add_argument("--order", choices=("arrival", "shuffled"), default="arrival")
    parser.add_argument(
        "--database-url", default=None, help="default: a fresh SQLite file; on PostgreSQL give an empty database"
    )
    parser.add_argument("--keep", action="store_true", help="keep callgrind's dumps (for callgrind_annotate)")
    parser.add_argument(
        "--cache-sim",
        action="store_true",
        help="simulate caches and branch prediction too; compare estimated cycles (Ir + 10 L1 + 100 LL misses "
        "+ 10 mispredictions) instead of instructions: code that runs cold costs more than its instructions",
    )
    args = parser.parse_args()
    if args.stages:  # argparse has checked the provider
        endpoints = [*_STAGES, args.stages]
    else:
        endpoints = args.endpoints.split(",")
        if unknown := set(endpoints) - {"noop", *PROVIDERS}:
            raise SystemExit(f"unknown endpoints: {', '.join(sorted(unknown))}")
    for tool in ("valgrind", "callgrind_control", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed: apt-get install -y valgrind wrk")

    workdir = Path(tempfile.mkdtemp(prefix="market-callgrind-"))
    env = load.server_env(args.database_url or f"sqlite:///{workdir / 'bench.db'}")
    os.environ.update(env)
    from market.config import load_settings
    from market.db import migrate

    migrate(load_settings())
    port = load._free_port()
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={workdir / 'callgrind.out'}"]
    if args.cache_sim:
        callgrind += ["--cache-sim=yes", "--branch-sim=yes"]
    factory = "webhook_stages:stages_app" if args.stages else "load_webhooks:bench_app"
    server = load.start_server(env, port, wrapper=callgrind, wait_seconds=300, factory=factory)
    # Every endpoint gets the same provider's bodies: the stages and the no-op read them like the webhook.
    provider = args.stages or next((e for e in endpoints if e != "noop"), "generic")
    body_of = {name: name if name in PROVIDERS else provider for name in endpoints}
    results: dict[str, float] = {}
    try:
        for name in endpoints:  # warm up each endpoint: imports, caches, the journal's first pages
            warm = load._signed(body_of[name], 1500, seed=9999 - len(results))
            target = _target(name, body_of[name])
            _phase(server, workdir, port, [(target, b, h) for _, b, h in warm], 10)
        for seed, name in enumerate(endpoints, start=1):
            # Signed now, so still fresh (5-minute window) when valgrind gets to them.
            signed = load._signed(body_of[name], 20_000, seed, args.order)
            target = _target(name, body_of[name])
            events, answered = _phase(server, workdir, port, [(target, b, h) for _, b, h in signed], args.seconds)
            per_request = {event: count / max(1, answered) for event, count in events.items()}
            results[name] = cycle_estimate(per_request) if args.cache_sim else per_request["Ir"]
            print(f"  {name:8s} {per_request['Ir']:10,.0f} instructions per request", end="")
            if args.cache_sim:
                misses = ", ".join(f"{event} {count:,.0f}" for event, count in per_request.items() if event != "Ir")
                print(f", ~{results[name]:,.0f} cycles ({misses})", end="")
            print(f" ({answered:,} answered 2xx)", flush=True)
    finally:
        server.terminate()
        server.wait(60)
        if args.keep:
            print(f"  callgrind dumps kept in {workdir} (one per phase, warm-ups first)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    measure = "estimated cycles" if args.cache_sim else "instructions"
    if args.stages:
        _print_stages(args.stages, results, measure)
    if "noop" in results:
        for name, count in results.items():
            if name in PROVIDERS:
                print(f"  {name}: no-op / webhook = {results['noop'] / count:.2f} (by {measure}; order {args.order})")


if __name__ == "__main__":
    main()
