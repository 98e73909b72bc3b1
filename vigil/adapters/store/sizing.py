"""The one DynamoDB item-size bound and the split that keeps every item under it.

DynamoDB refuses items over 400 KB (names and values counted). Every writer that packs a variable
number of records into one item (raw chunks, rollup and fine-tier items, large documents) encodes
first, checks the encoded size against `MAX_ITEM_BYTES` and splits before writing; readers merge the
parts (`docs/data-model.md`, "Item size bound"). Pure functions, standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# The encoded payload of one item; the rest of the 400 KB limit is room for keys and attributes.
MAX_ITEM_BYTES = 350_000


def split_encoded(
    records: Sequence[T], encode: Callable[[Sequence[T]], bytes], limit: int = MAX_ITEM_BYTES
) -> Iterator[tuple[bytes, Sequence[T]]]:
    """`(encode(part), part)` for consecutive parts of `records`, each encoding at most `limit` bytes
    (halving until it fits; a single record larger than `limit` is yielded alone and the caller must
    refuse or split it further). One part, encoded once, when everything fits."""
    data = encode(records)
    if len(data) <= limit or len(records) <= 1:
        yield data, records
        return
    half = len(records) // 2
    yield from split_encoded(records[:half], encode, limit)
    yield from split_encoded(records[half:], encode, limit)


def split_bytes(data: bytes, limit: int = MAX_ITEM_BYTES) -> list[bytes]:
    """`data` cut into pieces of at most `limit` bytes (at least one piece, possibly empty)."""
    return [data[i : i + limit] for i in range(0, len(data), limit)] or [b""]
