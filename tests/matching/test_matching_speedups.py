"""The C kernels (``_speedups.c``) give exactly what their Python reference implementations give.

The public functions (``memo.scan_batch``, ``memo.scan``, ``memo.near_codes_in``, ``references.near_codes``)
run the C kernels when they are built; every other matching test therefore exercises them, and this
file holds them to the reference on random and adversarial input. Without a build the tests skip,
unless ``MARKET_TEST_REQUIRE_SPEEDUPS=1`` (CI) makes a missing build a failure.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.reconcile import speedups as speedups_module
from market.reconcile.matching import memo, references
from market.reconcile.speedups import speedups
from market.text import fold_vietnamese

SOURCE = Path(speedups_module.__file__).with_name("_speedups.c")

if speedups is None:
    if os.environ.get("MARKET_TEST_REQUIRE_SPEEDUPS") == "1":
        pytest.fail("the C kernels are not built: run `make install` (needs a C compiler)", pytrace=False)
    pytest.skip("the C kernels are not built (no C compiler at install time)", allow_module_level=True)
kernels = speedups

# Text that looks like memos and codes: the alphabet, its look-alikes, separators, Vietnamese, NUL.
SYMBOLS = references.ALPHABET + "AEIOU01LQZSBDpcgh"
TEXT = st.text(alphabet=st.sampled_from([*SYMBOLS, " ", ".", "-", "đ", "Đ", "ế", "\x00", "\n", "😀"]))


def _code_like(rng: random.Random) -> str:
    """A valid code with at most one edit, case changes and separators, inside some noise."""
    code = references.new_code((), rng.randrange)
    edit = rng.randrange(5)
    position = rng.randrange(len(code) + 1)
    other = rng.choice(SYMBOLS)
    if edit == 1:
        code = code[:position] + other + code[position + 1 :]
    elif edit == 2:
        code = code[:position] + code[position + 1 :]
    elif edit == 3:
        code = code[:position] + other + code[position:]
    elif edit == 4 and position < len(code) - 1:
        code = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if rng.random() < 0.3:
        code = code.lower()
    if rng.random() < 0.2:
        code = code[:4] + " " + code[4:]
    noise = "".join(rng.choice(SYMBOLS + " .") for _ in range(rng.randrange(12)))
    return noise + code + "".join(rng.choice(SYMBOLS + " ") for _ in range(rng.randrange(6)))


def test_the_build_is_of_the_current_source_and_alphabet():
    built_from = kernels.SOURCE_HASH  # type: ignore[attr-defined]
    assert hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16] == built_from, (
        "the C kernels were built from an older _speedups.c: run `make install`"
    )
    assert (kernels.ALPHABET, kernels.PREFIX) == (references.ALPHABET, references.PREFIX)
    weights = tuple(pow(3, position, 17) for position in range(1, references.CODE_LENGTH + 1))
    assert weights == kernels.WEIGHTS


def test_the_public_functions_run_the_kernels():
    assert references.near_codes("P2345678", 0) == kernels.near_codes("P2345678", 0)
    assert memo.scan_batch(["PCGH5KMN7"]) == kernels.scan_batch(["PCGH5KMN7"], fold_vietnamese)


@settings(max_examples=3000, deadline=None)
@given(text=TEXT, start=st.integers(min_value=0, max_value=12))
def test_near_codes_equals_the_reference(text, start):
    assert kernels.near_codes(text, start) == references.near_codes_python(text, start)


@settings(max_examples=2000, deadline=None)
@given(text=TEXT)
def test_near_codes_in_equals_the_reference(text):
    assert kernels.near_codes_in(text) == memo.near_codes_in_python(text)


@settings(max_examples=500, deadline=None)
@given(memos=st.lists(TEXT, max_size=20))
def test_scan_batch_equals_the_reference(memos):
    expected = [memo.scan_python(text) for text in memos]
    assert kernels.scan_batch(memos, fold_vietnamese) == expected
    assert memo.scan_batch_python(memos) == expected


def test_kernels_agree_on_typed_codes_in_noise():
    rng = random.Random(7)
    texts = [_code_like(rng) for _ in range(20_000)]
    assert kernels.scan_batch(texts, fold_vietnamese) == memo.scan_batch_python(texts)
    compacted = [memo.compact_memo(text) for text in texts]
    for text in compacted:
        assert kernels.near_codes_in(text) == memo.near_codes_in_python(text)
        assert kernels.near_codes(text, 0) == references.near_codes_python(text, 0)
    # Every kind of edit occurs, so the comparison covered each candidate generator.
    assert sum(bool(kernels.near_codes_in(text)) for text in compacted) > 10_000


def test_long_and_vietnamese_memos():
    code = references.new_code((), random.Random(3).randrange)
    long_memo = "Thanh toán đơn hàng " * 200 + code.lower() + " cảm ơn"  # past the kernel's stack buffer
    memos = [long_memo, "", "\x00" + code + "\x00", f"Đ{code}", code[:5] + "\n" + code[5:]]
    assert kernels.scan_batch(memos, fold_vietnamese) == [memo.scan_python(text) for text in memos]
    assert kernels.scan_batch(memos, fold_vietnamese)[0] == (code,)


def test_kernels_refuse_what_is_not_text():
    with pytest.raises(TypeError):
        kernels.scan_batch(["ok", 5], fold_vietnamese)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        kernels.scan_batch(["đ"], lambda text: 5)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="start"):
        kernels.near_codes("P234", -1)
    with pytest.raises(ValueError, match="start"):
        references.near_codes_python("P234", -1)
