"""The optional C kernels of the matching core and the journal (``_speedups.c``), or None where not built.

``pip install`` compiles them (``hatch_build.py``) when a C compiler and the Python headers are there;
without them every caller falls back to the pure-Python reference implementation, with the same
results and a good part less speed (benchmarks/bench_matching.py, benchmarks/instructions_webhooks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["Kernels", "speedups"]


class Kernels(Protocol):
    """What ``_speedups.c`` exports (its Python twins: memo.scan_batch_python, codes.near_codes_python...)."""

    ALPHABET: str
    PREFIX: str
    WEIGHTS: tuple[int, ...]

    def scan_batch(self, memos: Sequence[str], fold: Callable[[str], str], /) -> list[tuple[str, ...] | None]: ...

    def near_codes(self, text: str, start: int, /) -> list[str]: ...

    def near_codes_in(self, text: str, /) -> list[str]: ...

    def journal_rows(
        self,
        first_id: int,
        items: Sequence[Any],
        pending: str,
        review: str,
        sqlite_time: Callable[[Any], str],
        json_text: Callable[[Any], str],
        /,
    ) -> list[Any]: ...


def _load() -> Kernels | None:
    try:
        from market.reconcile import _speedups
    except ImportError:  # not built: no compiler where it was installed, or a pure-Python wheel
        return None
    return _speedups


speedups = _load()
