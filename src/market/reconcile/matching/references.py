"""Payment-intent reference codes: ``P`` + 7 random symbols + 1 check symbol (9 characters).

Why this shape:

* **9 characters** fit every memo limit on the way (payOS leaves 9 to the merchant, VietQR.vn 19,
  EMV tag 62.08 25), and the code is put **first** in the transfer content so truncation eats the
  payer's words, not the code.
* **The alphabet** ``23456789CGHKMNPTV`` (17 symbols) keeps one side of each look-alike pair (no
  0/O/Q, 1/I/L, 5/S, 2/Z, 8/B, U/V; only 6/G remains, kept to reach a prime) and has **no vowels**.
  Vowel-free matters in Vietnam: a payer typing the code with the Telex or VNI input method (the
  phone default) gets letters after a vowel turned into tone marks
  (``PA5S`` → ``PÁ5``), which folding then silently deletes. Without vowels nothing is combined; the
  Telex modifier letters D, F, J, R, S, W, X, Z are left out as well. A side effect: names and words
  almost never look like a code, so a memo rarely has a false candidate window.
* **The prefix** ``P`` lets the code be found inside noisy memos (banks glue tokens, drop separators,
  add their own references), and nothing else is needed to find it.
* **The check symbol** is an ISO 7064-style pure check over the prime field Z/17: with symbol values
  v₁…v₉ (prefix and check included) and weights wᵢ = 3ⁱ mod 17, a valid code has Σ wᵢ·vᵢ ≡ 0 (mod 17).
  3 is a primitive root mod 17, so the nine weights are distinct and non-zero. Hence a single
  substitution changes the sum by wᵢ·(b−a) ≠ 0, and swapping any two symbols (adjacent or not)
  changes it by (wᵢ−wⱼ)·(b−a) ≠ 0: every single substitution and every transposition is detected.
  Because the check is linear, the one symbol that repairs a substitution or an omission at a given
  position can be *solved for*, which is what makes the guarded fuzzy step cheap (:func:`near_codes`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Container, Iterable
from itertools import accumulate
from operator import mul

from market.reconcile.speedups import speedups

__all__ = [
    "ALPHABET",
    "BODY_LENGTH",
    "CODE_LENGTH",
    "PREFIX",
    "is_valid",
    "near_codes",
    "near_codes_python",
    "new_code",
    "normalise_code",
]

ALPHABET = "23456789CGHKMNPTV"
PREFIX = "P"
BODY_LENGTH = 7
CODE_LENGTH = len(PREFIX) + BODY_LENGTH + 1
_MODULUS = len(ALPHABET)  # 17, a prime: the check is a field equation
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, position, _MODULUS) for position in range(1, CODE_LENGTH + 1))
_INVERSE = tuple(pow(weight, -1, _MODULUS) for weight in _WEIGHTS)
_PREFIX_VALUE = _VALUE[PREFIX]

# Separators a human (or a bank) may put inside a code they retype: accepted and dropped.
_SEPARATORS = str.maketrans("", "", " -._/\t\r\n")


_BAD = 255  # the value of a byte that is not a symbol of the alphabet
# Symbol values by byte, so one C-level translate turns a window into its values.
_VALUE_BYTES = bytes(_VALUE.get(chr(byte), _BAD) for byte in range(256))


def _values(window: str) -> bytes:
    """The value of each symbol of ``window``; ``_BAD`` for anything outside the alphabet (non-ASCII too)."""
    return window.encode("ascii", "replace").translate(_VALUE_BYTES)


def _weighted_sum(values: Iterable[int]) -> int:
    total: int = sum(map(mul, _WEIGHTS, values))
    return total % _MODULUS


def _check_symbol(head: str) -> str:
    """The symbol that makes ``head`` (prefix + body) a valid code."""
    partial = _weighted_sum([_VALUE[symbol] for symbol in head])
    return ALPHABET[(-partial * _INVERSE[CODE_LENGTH - 1]) % _MODULUS]


def new_code(taken: Container[str] = (), randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Draw a fresh reference code from a cryptographic random source.

    Args:
        taken: codes already in use (open or recent intents); a draw that hits one is redrawn.
            The space is 17⁷ ≈ 410 million, so with 100,000 open intents a redraw happens once in
            about 4,100 codes.
        randbelow: the random source; tests pass a seeded one, production keeps ``secrets``.

    Returns:
        A 9-character code such as ``PCGH5KMN7``.
    """
    while True:
        head = PREFIX + "".join(ALPHABET[randbelow(_MODULUS)] for _ in range(BODY_LENGTH))
        code = head + _check_symbol(head)
        if code not in taken:
            return code


def normalise_code(text: str) -> str:
    """Upper-case ``text`` and drop the separators people type inside codes (``p-cgh 5kmn7`` → ``PCGH5KMN7``)."""
    return text.translate(_SEPARATORS).upper()


def is_valid(code: str) -> bool:
    """Whether ``code`` (already normalised) has the right shape and a correct check symbol."""
    if len(code) != CODE_LENGTH or not code.startswith(PREFIX):
        return False
    values = [_VALUE.get(symbol, -1) for symbol in code]
    return -1 not in values and _weighted_sum(values) == 0


def near_codes_python(text: str, start: int) -> list[str]:
    """Every valid code one edit away from the code that ``text`` may carry at ``start``.

    ``text`` is compacted memo content (upper-case, letters and digits only). "One edit" is one
    substitution, one adjacent transposition, one omitted symbol or one extra symbol (the
    Damerau-Levenshtein neighbourhood of radius 1), the prefix included: when ``text[start]`` is not
    the prefix, only the edits that restore the prefix are tried. Each candidate is a *valid* code
    (its check holds), so a typo leads to a handful of candidates at most, and the caller still has
    to find them open in the book. Every edit is checked in constant time: the check is linear, so
    the weighted sums before and after the edited position are enough (and a substituted or
    omitted symbol is solved for, not searched). The order is fixed (edit kind, then position); a
    candidate may repeat, and the unedited window itself may appear (the exact path tried it).

    This is the reference implementation; :func:`near_codes` is the C kernel of
    ``_speedups.c`` when it is built, with the same results (tests/matching/test_matching_speedups.py).
    """
    if start < 0:
        raise ValueError("near_codes: start must be >= 0")
    window = text[start : start + CODE_LENGTH + 1]
    values = _values(window)
    if window[:1] != PREFIX:
        return _prefix_repairs(window, values)
    return [
        *_substitutions(window, values),
        *_transpositions(window, values),
        *_omissions(window, values),
        *_extras(window, values),
    ]


# The fuzzy step runs these for every memo that looks like a mistyped code (each costs a few µs of
# the core's budget), so they work on bytes of symbol values, slices of the window's own text and
# C-level sums (map/accumulate) rather than per-symbol Python loops.
_POSITIONS = range(1, CODE_LENGTH)  # every position after the prefix
_PAIRS = range(1, CODE_LENGTH - 1)  # adjacent pairs after the prefix
# _SWAP_DIFFERENCE[total][p]: the (next - this) symbol difference at p, p+1 that a swap there must
# have to cancel a check sum of ``total`` (solved from (w_p - w_p+1)(v_p+1 - v_p) + total = 0).
_SWAP_DIFFERENCE = tuple(
    tuple((-total * pow(_WEIGHTS[p] - _WEIGHTS[p + 1], -1, _MODULUS)) % _MODULUS for p in range(CODE_LENGTH - 1))
    for total in range(_MODULUS)
)


def _substitutions(window: str, values: bytes) -> list[str]:
    """One wrong symbol after the prefix: the check equation gives the right one, position by position."""
    nine = values[:CODE_LENGTH]
    if len(nine) < CODE_LENGTH:
        return []
    bad = nine.count(_BAD)
    if bad > 1:
        return []
    head = window[:CODE_LENGTH]
    if bad:  # the foreign symbol is the one to replace: solve for it
        position = nine.index(_BAD)
        total = (sum(map(mul, _WEIGHTS, nine)) - _WEIGHTS[position] * _BAD) % _MODULUS
        return [head[:position] + ALPHABET[(-total * _INVERSE[position]) % _MODULUS] + head[position + 1 :]]
    total = sum(map(mul, _WEIGHTS, nine)) % _MODULUS
    if not total:  # already valid: any substitution would break it
        return []
    return [
        head[:position] + ALPHABET[(value - total * inverse) % _MODULUS] + head[position + 1 :]
        for position, value, inverse in zip(_POSITIONS, nine[1:], _INVERSE[1:], strict=True)
    ]


def _transpositions(window: str, values: bytes) -> list[str]:
    nine = values[:CODE_LENGTH]
    if len(nine) < CODE_LENGTH or _BAD in nine:
        return []
    total = sum(map(mul, _WEIGHTS, nine)) % _MODULUS
    if not total:  # a valid window: a swap of two different symbols breaks it
        return []
    needed = _SWAP_DIFFERENCE[total]
    return [
        window[:position] + window[position + 1] + window[position] + window[position + 2 : CODE_LENGTH]
        for position in _PAIRS
        if (nine[position + 1] - nine[position]) % _MODULUS == needed[position]
    ]


def _omissions(window: str, values: bytes) -> list[str]:
    """A symbol was left out: 8 typed symbols, and the missing one solved at each position after the prefix."""
    eight = values[: CODE_LENGTH - 1]
    if len(eight) < CODE_LENGTH - 1 or _BAD in eight:
        return []
    # before[p]: weighted sum of eight[:p] in place; after[p]: of eight[p:] shifted one place right.
    before = [0, *accumulate(map(mul, _WEIGHTS, eight))]
    after = [*accumulate(map(mul, _WEIGHTS[:0:-1], eight[::-1]))]  # summed from the end
    after.reverse()
    after.append(0)
    return [
        window[:position]
        + ALPHABET[(-(before[position] + after[position]) * _INVERSE[position]) % _MODULUS]
        + window[position : CODE_LENGTH - 1]
        for position in _POSITIONS
    ]


def _extras(window: str, values: bytes) -> list[str]:
    """One symbol too many: drop each symbol after the prefix from a 10-symbol window."""
    ten = values[: CODE_LENGTH + 1]
    if len(ten) <= CODE_LENGTH:
        return []
    bad = ten.count(_BAD)
    if bad > 1:
        return []
    positions: Iterable[int] = (ten.index(_BAD),) if bad else range(1, CODE_LENGTH + 1)
    # before[p]: weighted sum of ten[:p] in place; after[p]: of ten[p+1:] shifted one place left.
    before = [0, *accumulate(map(mul, _WEIGHTS, ten[:CODE_LENGTH]))]
    after = [*accumulate(map(mul, _WEIGHTS[::-1], ten[:0:-1]))]  # summed from the end
    after.reverse()
    after.append(0)
    return [
        window[:position] + window[position + 1 : CODE_LENGTH + 1]
        for position in positions
        if position > 0 and (before[position] + after[position]) % _MODULUS == 0
    ]


def _prefix_repairs(window: str, values: bytes) -> list[str]:
    """The prefix itself was mistyped, dropped or swapped with the next symbol."""
    repairs = [bytes([_PREFIX_VALUE]) + values[1:CODE_LENGTH], bytes([_PREFIX_VALUE]) + values[: CODE_LENGTH - 1]]
    if window[1:2] == PREFIX:
        repairs.append(values[1:2] + values[0:1] + values[2:CODE_LENGTH])
    return [
        _render(repaired)
        for repaired in repairs
        if len(repaired) == CODE_LENGTH and _BAD not in repaired and _weighted_sum(repaired) == 0
    ]


def _render(values: bytes) -> str:
    return "".join([ALPHABET[value] for value in values])


def near_codes(text: str, start: int) -> list[str]:
    """Every valid code one edit away from the code ``text`` may carry at ``start`` (see :func:`near_codes_python`).

    The C kernel of ``_speedups.c`` when it is built, with the same results.
    """
    if speedups is not None:
        return speedups.near_codes(text, start)
    return near_codes_python(text, start)
