"""Transfer-memo normalisation: fold, strip the banks' wrappers, compact, find reference codes.

What reaches a webhook is the receiving bank's rendering of the sending bank's rendering of what
the payer typed: diacritics gone, case changed,
separators dropped, lines wrapped, and the payer's words wrapped in bank text, sometimes twice.

Two paths, because they have different jobs:

* :func:`scan` / :func:`scan_batch` are the **hot path** (every notification): they compact the
  *whole* memo to ``[A-Z0-9]`` and list every ``P`` + 8 window from the code alphabet. They do not
  strip wrappers first, on purpose: a window must still carry the prefix and be a code we issued
  (which implies a valid check), and wrapper text (digits with 0/1, words with vowels) practically
  never does; stripping costs more than the whole exact match (about 19 regex substitutions, twice,
  per memo). The tests check that in every reference wrapper both paths find the same code.
* :func:`content` is the **careful path** (the fuzzy step, the review queue, display): it folds,
  strips the known wrappers repeatedly until nothing changes (a Vietcombank rendering nested in a
  BIDV one needs two passes), and returns the payer's own words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from market.reconcile.matching import references
from market.reconcile.speedups import speedups
from market.text import fold_vietnamese

__all__ = [
    "WRAPPERS",
    "Wrapper",
    "code_candidates",
    "compact",
    "compact_memo",
    "content",
    "fold",
    "lead",
    "near_code_candidates",
    "near_codes_in",
    "near_codes_in_python",
    "scan",
    "scan_batch",
    "scan_batch_python",
    "scan_python",
]


class Wrapper(NamedTuple):
    """One known piece of bank text around the payer's memo, as a regex over :func:`fold` output."""

    bank: str
    name: str
    pattern: str


# Patterns run on folded text: upper-case
# ASCII, single spaces. Order matters only within a pass; the loop in `content` reaches the fixpoint.
WRAPPERS: tuple[Wrapper, ...] = (
    Wrapper("BIDV", "receiving header (6)", r"^(?:HBK-|SMB-|MB-|OMNI CHANNEL-)?TKTHE ?: ?\S+, ?TAI [^.]+\. ?"),
    Wrapper("BIDV", "interbank trailer (6)", r" ?-CTLNHID[IO]\d+-\d+/\d+-(?:CRE|PMT)-\d+$"),
    Wrapper("BIDV", "internal transfer header (7)", r"^REM TFR AC: ?\d+ O@L_(?:\d+_){6}"),
    Wrapper("Vietcombank", "app transfer header (1)", r"^MBVCB\.\d+(?:\.\d{6})?[. ] ?"),
    Wrapper("Vietcombank", "app transfer trailer (1)", r"[. ]?CT TU \d.*$"),
    Wrapper("Vietcombank", "statement line header (9)", r"^\d{6}\.\d{6}\.\d{6}\."),
    Wrapper(
        "Vietcombank", "SMS/OTT header (12)", r"^TK VCB \d+ [+-][\d,.]+ ?VND LUC \d\d-\d\d-\d{4} \d\d:\d\d:\d\d.*? REF "
    ),
    Wrapper("ACB", "receiving trailer (2)", r" ?GD \d{6}-\d{6} \d\d:\d\d:\d\d$"),
    Wrapper("MB", "receiving trailer (3)", r" ?MA GIAO DICH TRACE ?\d+(?: TRACE \d+)?.*$"),
    Wrapper("NAPAS", "interbank prefix (3)", r"^IBFT "),
    Wrapper("NAPAS", "FT reference (8)", r" ?\bFT\d{11,16}\b;?"),
    Wrapper("NAPAS", "routing trailer (5)", r" ?;? ?TAI NAPAS$"),
    Wrapper("NAPAS", "fast-transfer trailer (2)", r"-CTLNHANH$"),
    Wrapper("SePay", "raw notification prefix (4)", r"^BANKAPINOTIFY "),
    Wrapper("SePay", "credit prefix (4, 5)", r"^CT DEN ?: ?\S+ ?"),
    Wrapper("SePay", "content label (4)", r"^ND ?: ?"),
    Wrapper("SePay", "balance trailer (4)", r" ?SD ?: ?[\d,.]+$"),
    Wrapper("VietQR.vn", "QR prefix (10)", r"^QR VQR[0-9A-Z]+ "),
    Wrapper("TPBank", "channel trailer (8)", r" ?\(BY [A-Z ]+\)$"),
)


def _combined(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


# One alternation for the headers, one for the trailers, one for the rest: three substitutions a
# pass instead of one per wrapper (the careful path runs for every fuzzy and review candidate).
_PASS = (
    _combined([w.pattern for w in WRAPPERS if w.pattern.startswith("^")]),
    _combined([w.pattern for w in WRAPPERS if w.pattern.endswith("$") and not w.pattern.startswith("^")]),
    _combined([w.pattern for w in WRAPPERS if not w.pattern.startswith("^") and not w.pattern.endswith("$")]),
)
# Bank text that can stand before the payer's words: the headers, and a reference (FT…) at the start.
_LEAD = _combined(
    [w.pattern for w in WRAPPERS if w.pattern.startswith("^")]
    + [f"^(?:{w.pattern})" for w in WRAPPERS if not w.pattern.startswith("^") and not w.pattern.endswith("$")]
)
_lead_at_start = _LEAD.match
_MAX_PASSES = 8  # nesting seen in the wild is two deep; the bound only guards against a bad pattern
_NOT_CODE_TEXT = re.compile(r"[^A-Z0-9]+")
# After bytes.upper() only these survive: digits and capitals. Everything else is a separator.
_DELETE_NON_ALNUM = bytes(i for i in range(256) if not (0x30 <= i <= 0x39 or 0x41 <= i <= 0x5A))
# Every exact window, overlapping ones included (a stuttered ``PP…`` must not hide the real code):
# the lookahead consumes nothing, so the search resumes one symbol further.
_find_windows = re.compile(rf"(?=({references.PREFIX}[{references.ALPHABET}]{{{references.CODE_LENGTH - 1}}}))").findall
# A prefix followed by seven symbols of which at most one is foreign: necessary for a code to be one
# edit away (memo-patterns §4.5), and rare in names and bank text because the alphabet has no vowels.
_SYMBOL, _FOREIGN = f"[{references.ALPHABET}]", f"[^{references.ALPHABET}\x00]"  # NUL separates memos in a batch
_NEAR_TAIL = "|".join([f"{_SYMBOL}{{7}}"] + [f"{_SYMBOL}{{{k}}}{_FOREIGN}{_SYMBOL}{{{6 - k}}}" for k in range(7)])
_NEAR_WINDOW = re.compile(f"{references.PREFIX}(?:{_NEAR_TAIL})")
_search_near = _NEAR_WINDOW.search
# The same test consuming only the prefix, so that overlapping windows are all found.
_NEAR_ANCHOR = re.compile(f"{references.PREFIX}(?={_NEAR_TAIL})")
_DELETE_KEEP_NUL = _DELETE_NON_ALNUM.replace(b"\x00", b"")
# Every prefix where a window is near, capturing the body when the window is exact. The literal
# prefix comes first so the regex engine skips to each ``P`` at C speed; matching consumes only the
# prefix, so overlapping windows are all found, as in :func:`scan`.
_SCAN_BATCH = re.compile(
    f"{references.PREFIX}(?:(?=([{references.ALPHABET}]{{{references.CODE_LENGTH - 1}}}))|(?={_NEAR_TAIL}))"
).finditer
_PREFIX = references.PREFIX
_PLUS_SEPARATOR = (1).__add__


def fold(memo: str) -> str:
    """Diacritics off, upper-case, every run of whitespace (line wraps, tabs) to one space."""
    return " ".join(fold_vietnamese(memo).upper().split())  # split(): runs of any whitespace, ends dropped


def content(memo: str) -> str:
    """The payer's own words: :func:`fold`, then the known bank wrappers stripped until stable.

    >>> content("MBVCB.4530998360.029552.PCGH5KMN7 tra tien.CT tu 0351000646393 NGUYEN THE HUNG toi 231814973")
    'PCGH5KMN7 TRA TIEN'
    """
    text = fold(memo)
    for _ in range(_MAX_PASSES):
        before = text
        for pattern in _PASS:
            text = pattern.sub("", text).strip()
        if text == before:
            break
    return text


def lead(memo: str) -> str:
    """Where the payer's own words start: :func:`fold`, then only the bank text before them stripped.

    The start of :func:`content` at a fraction of its cost (the trailers, which make most of it, are
    left on): what the prefix repair of the review suggestions needs, the code being placed first.

    >>> lead("MBVCB.4530998360.029552.CGH5KMN7 tra tien.CT tu 0351000646393 NGUYEN THE HUNG")[:18]
    'CGH5KMN7 TRA TIEN.'
    """
    text = fold(memo)
    for _ in range(_MAX_PASSES):
        found = _lead_at_start(text)  # ``match``: only the start is tried, not every position
        if found is None or not found.end():
            break
        text = text[found.end() :].lstrip()
    return text


def compact(text: str) -> str:
    """Only capitals and digits remain (banks delete and insert separators at will)."""
    return _NOT_CODE_TEXT.sub("", fold_vietnamese(text).upper())


def compact_memo(memo: str) -> str:
    """The hot path's compaction of a whole memo: folded, upper-case, only ``[A-Z0-9]`` (C routines only)."""
    if not memo.isascii():
        memo = fold_vietnamese(memo)
    return memo.encode("ascii", "ignore").upper().translate(None, _DELETE_NON_ALNUM).decode("ascii")


def scan_python(memo: str) -> tuple[str, ...] | None:
    """The hot path: every code-shaped window of the compacted memo, or None if none could be near.

    Returns:
        None when no ``P`` in the memo is followed by seven symbols with at most one foreign one
        (nothing a code, even one edit off, could be: most memos, cheaply); otherwise the exact
        windows (``P`` + 8 alphabet symbols, overlapping), possibly none. The windows are not
        validated here: a lookup among the codes we issued does that and the check at once.
        A tuple, not a list: a tuple of strings leaves the garbage collector's watch at its first
        pass, a list stays tracked and, when a batch lives long enough, makes the collector's full
        passes over the whole book more frequent.
    """
    text = compact_memo(memo)
    near = _search_near(text)
    if near is None:
        return None
    return tuple(_find_windows(text, near.start()))


def scan_batch_python(memos: Sequence[str]) -> list[tuple[str, ...] | None]:
    """:func:`scan` for a whole batch at once: one pass of each C routine over all the memos.

    The memos are joined with NUL (never a code symbol, so no window spans two memos), compacted
    together, and searched with one ``finditer``; only the ``P`` where a code could be near cost any
    Python work (about one memo in two), and each is traced back to its memo by bisection over the
    memos' end offsets. Same results as :func:`scan`.
    """
    joined = "\x00".join(memos)
    if not joined.isascii():
        joined = "\x00".join(memo if memo.isascii() else fold_vietnamese(memo) for memo in memos)
    compacted = joined.encode("ascii", "ignore").upper().translate(None, _DELETE_KEEP_NUL).decode("ascii")
    parts = compacted.split("\x00")
    if len(parts) != len(memos):  # a memo carried a NUL of its own: do it the slow way
        return [scan_python(memo) for memo in memos]
    # ends[i]: the offset just past memo i and its NUL separator, so bisect(ends, offset) is its memo.
    ends = list(accumulate(map(_PLUS_SEPARATOR, map(len, parts))))
    found: list[tuple[str, ...] | None] = [None] * len(memos)
    for match in _SCAN_BATCH(compacted):
        index = bisect_right(ends, match.start())
        body = match.group(1)
        if body is None:  # near, not exact: the memo has a window, perhaps no exact one
            if found[index] is None:
                found[index] = ()
        else:
            found[index] = (*(found[index] or ()), _PREFIX + body)
    return found


def code_candidates(memo: str) -> list[str]:
    """The exact code windows of ``memo`` (see :func:`scan`), as a list."""
    return list(scan(memo) or ())


def near_codes_in_python(text: str) -> list[str]:
    """Valid codes one edit away from the code-like windows of compacted ``text`` (the fuzzy step's input).

    Anchors are the ``P`` of ``text`` where a near window starts (every edit kind needs the prefix
    and seven symbols with at most one foreign), so the other ``P`` (names: PHAM…) cost nothing.
    ``text`` is the whole memo compacted (:func:`compact_memo`), wrappers and all: bank text glued
    to a code only adds candidates, and every candidate still has to be a code we issued, open,
    for the right stall and amount, before the core uses it. Unsorted, repeats possible.
    """
    found: list[str] = []
    for near in _NEAR_ANCHOR.finditer(text):
        found += references.near_codes_python(text, near.start())
    return found


# The public entry points run the C kernels of ``_speedups.c`` when they are built: the same results
# (tests/matching/test_matching_speedups.py holds them to the reference versions above), a memo in
# one pass of C instead of a dozen C calls glued together by bytecode.


def scan(memo: str) -> tuple[str, ...] | None:
    """Every code-shaped window of the compacted memo, or None if none could be near (see :func:`scan_python`)."""
    if speedups is not None:
        return speedups.scan_batch((memo,), fold_vietnamese)[0]
    return scan_python(memo)


def scan_batch(memos: Sequence[str]) -> list[tuple[str, ...] | None]:
    """:func:`scan` of every memo of a batch (see :func:`scan_batch_python`)."""
    if speedups is not None:
        return speedups.scan_batch(memos, fold_vietnamese)
    return scan_batch_python(memos)


def near_codes_in(text: str) -> list[str]:
    """Valid codes one edit away from the code-like windows of compacted ``text`` (see :func:`near_codes_in_python`)."""
    if speedups is not None:
        return speedups.near_codes_in(text)
    return near_codes_in_python(text)


def near_code_candidates(memo: str, *, repair_prefix: bool) -> list[str]:
    """Valid codes one edit away from what the memo carries, sorted and without repeats.

    With ``repair_prefix``, the start of the payer's own words (:func:`lead`: the bank's text before
    them stripped) is an anchor too: the code is placed first, so a mistyped or dropped prefix is only
    looked for there.
    """
    found = near_codes_in(compact_memo(memo))
    if repair_prefix:
        found += references.near_codes(compact_memo(lead(memo)), 0)
    return sorted(set(found))
