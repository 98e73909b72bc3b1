"""Packing of raw samples into DynamoDB chunk items: the encoding behind `docs/data-model.md`.

One ingest batch becomes one item per 2-minute window of its samples (more only past ~1,000 samples or
~300 KB), so a 60 s agent batch costs one write unit instead of one per sample. A window starts at the
minute of its earliest sample (the item's sort key) and holds samples up to `CHUNK_SPAN_SECONDS` later:
agent batches are not minute-aligned, and fixed minute buckets would split almost every one of them
into two items (two write units). Readers widen the lower bound of a range by the span instead.

An item's `d` attribute is written in format v2 (`chunk_sections`: one section per metric, so a read
inflates only the metrics it asks for). Items written before that hold format v1, still read: zlib-
compressed JSON `[1, [[metric, [k, v, ...], [ts offsets], [values]], ...]]` — every series written once,
its timestamps as offsets from the item's minute (exact: both are floats within a factor of two, so
subtraction and re-addition are exact), a value being a number or, for a histogram, `[bounds, counts,
sum, count, min, max]`. Keys are deterministic, so a retried batch overwrites itself.

Pure functions: standard library, orjson, `sizing`, `chunk_sections` and `vigil.domain` only (no boto3,
no numpy).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import secrets
import zlib
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from operator import attrgetter

import orjson

from vigil.adapters.store import chunk_sections
from vigil.adapters.store.chunk_sections import json_point
from vigil.adapters.store.sizing import split_encoded
from vigil.domain.records import Point

V1 = 1  # the first format, still read
MAX_SAMPLES_PER_CHUNK = 1000
MAX_CHUNK_BYTES = 300_000  # below sizing.MAX_ITEM_BYTES: keeps room for keys and attributes
# An item holds samples from its minute's start to this much later: a 60 s batch (first sample at any
# second of a minute, last one < 60 s later) always fits, and readers over-read at most two minutes.
CHUNK_SPAN_SECONDS = 120
_TS = attrgetter("ts")


@dataclass(frozen=True, slots=True)
class Chunk:
    sk: str  # "<minute, 10 digits>#<batch hash>#<chunk no, 4 digits>"
    data: bytes
    max_ts: float
    count: int


def minute_of(ts: float) -> int:
    return math.floor(ts / 60.0)


def minute_prefix(minute: int) -> str:
    """Sort-key prefix of a minute; `prefix + "~"` sorts after every key of that minute."""
    return f"{max(minute, 0):010d}"


def minute_from_sk(sk: str) -> int:
    return int(sk[:10])


def plan_chunks(points: Sequence[Point], bkey: str | None) -> list[Chunk]:
    """The chunk items of one batch, sorted by sort key (the first one doubles as the batch marker).

    `bkey` is the batch's `vigil.domain.batches.batch_key`; None (a batch nothing identifies) gets a
    random one, so its items never overwrite another batch's."""
    # Hashed to a fixed 20 characters so keys stay short and '#'-free.
    bhash = batch_hash(bkey) if bkey is not None else secrets.token_hex(10)
    chunks: list[Chunk] = []
    for minute, group in _windows(points):
        pieces = [group[i : i + MAX_SAMPLES_PER_CHUNK] for i in range(0, len(group), MAX_SAMPLES_PER_CHUNK)]
        encode = functools.partial(encode_points, minute=minute)
        encoded = [enc for piece in pieces for enc in split_encoded(piece, encode, MAX_CHUNK_BYTES)]
        for no, (data, piece) in enumerate(encoded):
            sk = f"{minute_prefix(minute)}#{bhash}#{no:04d}"
            # a piece is a run of the time-ordered window: its last point is its newest
            chunks.append(Chunk(sk, data, piece[-1].ts, len(piece)))
    return chunks


def batch_hash(bkey: str) -> str:
    """A batch key as 20 hex characters (chunk sort keys, batch claims)."""
    return hashlib.blake2b(bkey.encode(), digest_size=10).hexdigest()


def _windows(points: Sequence[Point]) -> Iterator[tuple[int, list[Point]]]:
    """(start minute, points) per window, oldest first; deterministic for the same content."""
    ordered = sorted(points, key=_TS)  # stable: equal timestamps keep batch order
    i = 0
    while i < len(ordered):
        minute = minute_of(ordered[i].ts)
        j = bisect.bisect_left(ordered, minute * 60 + CHUNK_SPAN_SECONDS, lo=i, key=_TS)
        yield minute, ordered[i:j]
        i = j


def window_count(times: Iterable[float]) -> int:
    """How many windows `_windows` makes of samples at `times` (distinct or not)."""
    count, end = 0, -math.inf
    for ts in sorted(times):
        if ts >= end:
            count += 1
            end = minute_of(ts) * 60 + CHUNK_SPAN_SECONDS
    return count


def encode_points(points: Sequence[Point], minute: int) -> bytes:
    """The `d` of a chunk item (format v2, `chunk_sections`)."""
    return chunk_sections.encode(points, minute)


def decode_points(
    host: str, data: bytes, minute: int, metrics: AbstractSet[str] | None = None
) -> Iterator[Point]:
    """The points of one chunk item, either format; `metrics`: only those metrics' series (v2 inflates
    only their sections; v1 skips the other series before any point is built)."""
    if chunk_sections.is_v2(data):
        yield from chunk_sections.decode_points(host, data, minute, metrics)
        return
    version, body = orjson.loads(zlib.decompress(data))
    if version != V1:
        raise ValueError(f"unknown chunk format version {version}")
    base = float(minute * 60)
    for metric, flat_labels, offsets, values in body:
        if metrics is not None and metric not in metrics:
            continue
        labels = tuple(zip(flat_labels[::2], flat_labels[1::2], strict=True))
        for offset, value in zip(offsets, values, strict=True):
            yield json_point(host, metric, labels, base + offset, value)
