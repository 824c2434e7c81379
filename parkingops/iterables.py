"""Helpers for walking long sequences a piece at a time."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Values per ``IN (...)`` list or bulk statement: well under SQLite's variable limit and small
# enough for PostgreSQL to plan quickly.
CHUNK_SIZE = 500


def chunked(items: Sequence[T], size: int = CHUNK_SIZE) -> Iterator[Sequence[T]]:
    """Yield ``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
