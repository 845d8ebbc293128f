"""Instructions per notification of the matching core, counted by callgrind: a figure noise cannot move.

On a shared machine the CPU-second rates of ``bench_matching.py`` move by ±15 % from run to run;
the number of instructions the core executes does not. This runs the benchmark's mix twice under
``valgrind --tool=callgrind`` (needs ``apt-get install valgrind``), once with the matching and once
without, and divides the difference by the number of notifications. ``Book.apply`` is included.

    .venv/bin/python benchmarks/instructions_matching.py                # 20,000 notifications, 20,000 intents
    PYTHONPATH=/other/checkout/src .venv/bin/python benchmarks/instructions_matching.py   # compare a tree

It takes about half a minute (the run under valgrind is ~50 times slower).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path


def _workload(notifications: int, intents: int, match: bool) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_matching import build, run_core

    fresh_book, batch, _ = build(intents, notifications, seed=1)
    book = fresh_book()
    if match:
        run_core(book, batch, 2_000)


def _instructions(notifications: int, intents: int, match: bool) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--workload",
        str(notifications),
        str(intents),
        "match" if match else "setup",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--intents", type=int, default=20_000)
    parser.add_argument("--workload", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workload:
        _workload(int(args.workload[0]), int(args.workload[1]), args.workload[2] == "match")
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install -y valgrind")
    total = _instructions(args.notifications, args.intents, match=True)
    setup = _instructions(args.notifications, args.intents, match=False)
    print(
        f"{(total - setup) / args.notifications:,.0f} instructions per notification "
        f"({args.notifications:,} notifications, {args.intents:,} open intents, Book.apply included)"
    )


if __name__ == "__main__":
    main()
