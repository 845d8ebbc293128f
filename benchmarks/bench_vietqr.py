"""VietQR build and parse per payload, against the PyPI ``vietnam-qr-pay`` port in the same run.

Goal (issue 3): build ≤ 2 µs and parse ≤ 4 µs per payload on one core, ≥ 20x the baseline.

    .venv/bin/python -m pytest benchmarks/bench_vietqr.py --benchmark-enable -p no:cacheprovider

Three workloads, each timed for both libraries on the same payloads (the baseline builds the
same bytes, asserted below):

- ``same payload``: one payload again and again, peers.md's method (ACB 970416, 257678859,
  10,000 đồng, "Chuyen tien"); one call = one payload.
- ``market``: a market's day, 1,000 sales over 120 stalls with varying amounts and contents; our
  merchant-prefix memory is warm, every tail is different. One call = 1,000 payloads, so the
  table's milliseconds read as microseconds per payload.
- ``cold``: 1,000 sales to 1,000 different accounts, the codec's memories emptied before every
  round, so every payload pays for validating and CRC-ing its merchant prefix: the worst case.
  Also per 1,000.

The ratio is in each row's parentheses (pytest-benchmark divides by the group's fastest row).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from vietnam_qr_pay import QRPay

from market.payments import VietQRRequest, build_vietqr, parse_vietqr
from market.payments.vietqr import prefixes

REQUEST = VietQRRequest(bin="970416", account="257678859", amount=10000, content="Chuyen tien")
PAYLOAD = build_vietqr(REQUEST)
# The big banks of An Giang and the wallets stall holders use.
BINS = ["970436", "970405", "970418", "970415", "970422", "970407", "970403", "970416", "970432", "971025"]
WORDS = ["mua rau", "tra tien ca", "thanh toan", "ck", "tien hang", "mua gao", "DH"]
PRICES = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 45_000, 50_000, 60_000, 75_000, 100_000, 150_000]


def _market_day(sales: int = 1000, stalls: int | None = 120) -> list[VietQRRequest]:
    """``sales`` payment requests over ``stalls`` stall accounts: amount and a short code vary.

    With ``stalls=None`` every sale goes to an account of its own (the cold workload).
    """
    rng = random.Random(3)
    count = stalls or sales
    accounts = [(BINS[i % len(BINS)], f"{10**9 + i * 7919}") for i in range(count)]
    requests = []
    for n in range(sales):
        bin_code, account = accounts[n] if stalls is None else rng.choice(accounts)
        dynamic = rng.random() < 0.8  # most sales are one-off dynamic QRs; the rest pay the stall card
        requests.append(
            VietQRRequest(
                bin=bin_code,
                account=account,
                amount=rng.choice(PRICES) if dynamic else None,
                content=f"TG{n:05d} {rng.choice(WORDS)}" if dynamic else None,
                reference=f"MOMOW2W{rng.randrange(10**8):08d}" if bin_code == "971025" else None,
            )
        )
    return requests


DAY = _market_day()
DAY_PAYLOADS = [build_vietqr(request) for request in DAY]
COLD = _market_day(stalls=None)
COLD_PAYLOADS = [build_vietqr(request) for request in COLD]


def _baseline_build(request: VietQRRequest) -> str:
    qr = QRPay.init_viet_qr(
        bank_bin=request.bin,
        bank_number=request.account,
        amount=None if request.amount is None else str(request.amount),
        purpose=request.content,
    )
    if request.reference is not None:
        qr.additional_data.reference = request.reference
    return str(qr.build())


def _baseline_parse(payload: str) -> Any:
    qr = QRPay(payload)
    assert qr.is_valid
    return qr


def _forget() -> None:
    prefixes.BUILT.clear()
    prefixes.READ.clear()


def _each(function: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            function(item)

    return run


def test_baseline_builds_the_same_bytes() -> None:
    # The comparison is fair only if both libraries produce the same payloads.
    assert _baseline_build(REQUEST) == PAYLOAD
    assert [_baseline_build(request) for request in DAY] == DAY_PAYLOADS
    assert [_baseline_build(request) for request in COLD] == COLD_PAYLOADS


@pytest.mark.benchmark(group="build: same payload (µs per payload)")
def test_build_ours(benchmark: Any) -> None:
    assert benchmark(build_vietqr, REQUEST) == PAYLOAD


@pytest.mark.benchmark(group="build: same payload (µs per payload)")
def test_build_baseline(benchmark: Any) -> None:
    assert benchmark(_baseline_build, REQUEST) == PAYLOAD


@pytest.mark.benchmark(group="parse: same payload (µs per payload)")
def test_parse_ours(benchmark: Any) -> None:
    assert benchmark(parse_vietqr, PAYLOAD).amount == 10000


@pytest.mark.benchmark(group="parse: same payload (µs per payload)")
def test_parse_baseline(benchmark: Any) -> None:
    assert benchmark(_baseline_parse, PAYLOAD).amount == "10000"


@pytest.mark.benchmark(group="build: market, 1,000 sales (ms per call = µs per payload)")
def test_build_market_ours(benchmark: Any) -> None:
    benchmark(_each(build_vietqr, DAY))


@pytest.mark.benchmark(group="build: market, 1,000 sales (ms per call = µs per payload)")
def test_build_market_baseline(benchmark: Any) -> None:
    benchmark(_each(_baseline_build, DAY))


@pytest.mark.benchmark(group="parse: market, 1,000 sales (ms per call = µs per payload)")
def test_parse_market_ours(benchmark: Any) -> None:
    benchmark(_each(parse_vietqr, DAY_PAYLOADS))


@pytest.mark.benchmark(group="parse: market, 1,000 sales (ms per call = µs per payload)")
def test_parse_market_baseline(benchmark: Any) -> None:
    benchmark(_each(_baseline_parse, DAY_PAYLOADS))


@pytest.mark.benchmark(group="build: cold memory, 1,000 sales (ms per call = µs per payload)")
def test_build_cold_ours(benchmark: Any) -> None:
    benchmark.pedantic(_each(build_vietqr, COLD), setup=_forget, rounds=60, iterations=1)


@pytest.mark.benchmark(group="build: cold memory, 1,000 sales (ms per call = µs per payload)")
def test_build_cold_baseline(benchmark: Any) -> None:
    benchmark.pedantic(_each(_baseline_build, COLD), setup=_forget, rounds=20, iterations=1)


@pytest.mark.benchmark(group="parse: cold memory, 1,000 sales (ms per call = µs per payload)")
def test_parse_cold_ours(benchmark: Any) -> None:
    benchmark.pedantic(_each(parse_vietqr, COLD_PAYLOADS), setup=_forget, rounds=60, iterations=1)


@pytest.mark.benchmark(group="parse: cold memory, 1,000 sales (ms per call = µs per payload)")
def test_parse_cold_baseline(benchmark: Any) -> None:
    benchmark.pedantic(_each(_baseline_parse, COLD_PAYLOADS), setup=_forget, rounds=20, iterations=1)
