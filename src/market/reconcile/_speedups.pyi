from collections.abc import Callable, Sequence
from typing import Any

ALPHABET: str
PREFIX: str
WEIGHTS: tuple[int, ...]
SOURCE_HASH: str

def scan_batch(memos: Sequence[str], fold: Callable[[str], str], /) -> list[tuple[str, ...] | None]: ...
def near_codes(text: str, start: int, /) -> list[str]: ...
def near_codes_in(text: str, /) -> list[str]: ...
def journal_rows(
    first_id: int,
    items: Sequence[Any],
    pending: str,
    review: str,
    sqlite_time: Callable[[Any], str],
    json_text: Callable[[Any], str],
    /,
) -> list[Any]: ...
