"""Print sheet of 200 stall cards: target ≤ 5 s on one core.

Measured against a naive baseline in the same run: each card drawn from scratch (fonts
opened again, no shared card template) in greyscale, and the pages composed as A4 rasters
and saved with Pillow's own PDF writer (every page held in memory, stored as JPEG).

    .venv/bin/python -m pytest benchmarks/bench_cards.py --benchmark-enable   # pytest-benchmark table
    .venv/bin/python benchmarks/bench_cards.py                                # one run, prints the ratio
"""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from market.payments import VietQRRequest, build_vietqr
from market.payments.render import CardData, card_image, write_sheet
from market.payments.render import card as card_module
from market.payments.render.fonts import font
from market.payments.render.geometry import A4_MM, PRINT_DPI, mm_to_px

CARDS = 200


def make_cards(count: int = CARDS) -> list[CardData]:
    """``count`` distinct stalls with realistic Vietnamese names and VietQR payloads."""
    names = ["Nguyễn Thị Đào", "Trần Văn Đức", "Lê Thị Hồng Nhung", "Phạm Ngọc Ánh", "Huỳnh Văn Lộc"]
    cards = []
    for i in range(count):
        account = f"0071{i:09d}"
        cards.append(
            CardData(
                payload=build_vietqr(VietQRRequest(bin="970436", account=account)),
                market_name="Chợ Thoại Giang",
                stall_code=f"{'ABCD'[i % 4]}-{i + 1}",
                holder_name=names[i % len(names)],
                bank_short_name="Vietcombank",
                account_number=account,
                account_holder="NGUYEN THI DAO",
                zone="Rau củ",
            )
        )
    return cards


def optimised(cards: list[CardData]) -> bytes:
    """The shipped path: cached faces, 1-bit cards, pages streamed by our PDF writer."""
    out = io.BytesIO()
    write_sheet(cards, out)
    return out.getvalue()


def naive(cards: list[CardData]) -> bytes:
    """Baseline: fonts reloaded per card, greyscale A4 rasters, Pillow's PDF writer."""
    page_size = (mm_to_px(A4_MM[0]), mm_to_px(A4_MM[1]))
    pages: list[Image.Image] = []
    for index, card in enumerate(cards):
        font.cache_clear()
        card_module._template.cache_clear()  # no shared template either: every card from scratch
        image = card_image(card, mode="L")
        if index % 4 == 0:
            pages.append(Image.new("L", page_size, 255))
        slot = index % 4
        pages[-1].paste(image, ((slot % 2) * image.width, (slot // 2) * image.height))
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=PRINT_DPI)
    return out.getvalue()


@pytest.fixture(scope="module")
def cards() -> list[CardData]:
    return make_cards()


@pytest.mark.benchmark(group="print sheet, 200 cards")
def test_sheet_optimised(benchmark, cards):
    pdf = benchmark.pedantic(optimised, args=(cards,), rounds=3, iterations=1, warmup_rounds=1)
    assert pdf.startswith(b"%PDF")


@pytest.mark.benchmark(group="print sheet, 200 cards")
def test_sheet_naive_baseline(benchmark, cards):
    pdf = benchmark.pedantic(naive, args=(cards,), rounds=3, iterations=1, warmup_rounds=1)
    assert pdf.startswith(b"%PDF")


def _best_of(function, cards: list[CardData], rounds: int = 3) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        size = len(function(cards))
        times.append(time.perf_counter() - start)
    return min(times), size


if __name__ == "__main__":
    sample = make_cards()
    optimised(sample[:4])  # warm the caches once, as a running server would be
    fast, fast_size = _best_of(optimised, sample)
    slow, slow_size = _best_of(naive, sample)
    print(
        f"optimised: {fast:.2f} s for {CARDS} cards = {fast / CARDS * 1000:.1f} ms/card, PDF {fast_size / 1e6:.1f} MB"
    )
    print(
        f"naive:     {slow:.2f} s for {CARDS} cards = {slow / CARDS * 1000:.1f} ms/card, PDF {slow_size / 1e6:.1f} MB"
    )
    print(f"speed-up:  {slow / fast:.2f}x (target: 200 cards ≤ 5 s)")
