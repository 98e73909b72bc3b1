"""Chunk format v2: per-metric sections in deflate frames, so a read decodes only the metric it asks for.

Format v1 (`chunks`) packs every series of a chunk into one zlib-compressed JSON document: reading one
metric of a host meant inflating and parsing all of them (a 1,000-series host: up to 1,000x the work a
chart needs). A v2 body is

    0x02 | frame count (B) | each frame's compressed length (<I) | frame | frame | ...

Each frame is raw deflate. Frame 0 inflates to `index length (<I) | index | sections`, the others to
sections only; the index is JSON `[{metric: section length, ...}, [sections in frame 0, in frame 1,
...]]` (sections in index order; offsets are running sums of the lengths, so the index repeats no
number a reader could add up). A section is one metric's series as JSON columns
`[[flat labels, timestamp kind, timestamps, values], ...]`:
- timestamps, kind 0: integer millisecond deltas (the first from the item's minute), used when
  `minute*60 + ms/1000` gives every timestamp back bit for bit (the usual case: a steady interval
  is one repeated number, which deflate packs to almost nothing); kind 1: float offsets from the
  minute (exact, as in v1);
- values: JSON numbers in shortest round-trip form (bit-exact), null, or a histogram `[bounds,
  counts, sum, count, min, max]`.
Sections fill a frame until it holds `FRAME_BYTES` (deflate's 32 KB window: a longer frame would not
compress better), so a small item is a single frame — as small as v1 (`tests/unit/test_chunk_format`)
— and a 1,000-series item is several, of which a one-metric read inflates only those holding its
section (plus frame 0 for the index) and parses only that section.

A v1 body is a zlib stream, whose first byte is 0x78, so the leading byte tells the formats apart and
both stay readable (no migration). Points come out through `decode_points`; whole arrays through
`chunk_arrays` (numpy, imported only there: ingest and the evaluator's Lambdas run this module at
cold start). Pure functions: standard library, orjson and `vigil.domain` only.
"""

from __future__ import annotations

import bisect
import operator
import struct
import zlib
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from itertools import accumulate
from typing import Any

import orjson

from vigil.domain.records import Histogram, Point, new_point

VERSION = 2
MARK = bytes([VERSION])
FRAME_BYTES = 32 * 1024
TS_MILLIS, TS_FLOATS = 0, 1
_LEN = struct.Struct("<I")

Labels = tuple[tuple[str, str], ...]
# one series of a section as stored: flat labels, timestamp kind, timestamps, values
SeriesRow = tuple[list[str], int, list[Any], list[Any]]


def is_v2(data: bytes) -> bool:
    return data[:1] == MARK


def encode(points: Sequence[Point], minute: int) -> bytes:
    """A v2 body of `points` (any order; each series keeps it) for the item of `minute`."""
    base = minute * 60.0
    metrics: dict[str, dict[Labels, list[Point]]] = {}
    for p in points:  # per point: nothing built unless its metric or series is new (ingest runs this)
        series = metrics.get(p.metric)
        if series is None:
            series = metrics[p.metric] = {}
        run = series.get(p.labels)
        if run is None:
            run = series[p.labels] = []
        run.append(p)
    sections = [
        (metric, orjson.dumps([_row(labels, pts, base) for labels, pts in series.items()]))
        for metric, series in metrics.items()
    ]
    sizes: dict[str, int] = {}
    frames: list[list[bytes]] = [[]]
    filled = 0
    for metric, section in sections:
        if filled >= FRAME_BYTES:
            frames.append([])
            filled = 0
        sizes[metric] = len(section)
        frames[-1].append(section)
        filled += len(section)
    head = orjson.dumps([sizes, [len(frame) for frame in frames]])
    frames[0].insert(0, _LEN.pack(len(head)) + head)
    packed = [_deflate(b"".join(frame)) for frame in frames]
    lengths = struct.pack(f"<{len(packed)}I", *map(len, packed))
    return b"".join([MARK, bytes([len(packed)]), lengths, *packed])


def _row(labels: Labels, pts: list[Point], base: float) -> list[Any]:
    kind, stamps = _times([p.ts for p in pts], base)
    values = [p.value if p.histogram is None else _value(p) for p in pts]
    return [[part for pair in labels for part in pair], kind, stamps, values]


def _times(stamps: list[float], base: float) -> tuple[int, list[Any]]:
    """Millisecond deltas when they give every timestamp back bit for bit, else float offsets."""
    millis = [round((ts - base) * 1000.0) for ts in stamps]
    if [base + m / 1000.0 for m in millis] == stamps:  # compared in C, element by element
        return TS_MILLIS, list(map(operator.sub, millis, [0, *millis[:-1]]))
    return TS_FLOATS, [ts - base for ts in stamps]


def _value(p: Point) -> Any:
    h = p.histogram
    if h is None:
        return p.value
    return [list(h.bounds), list(h.counts), h.sum, h.count, h.min, h.max]


def _deflate(raw: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: no header or checksum per frame
    return packer.compress(raw) + packer.flush()


def sections(data: bytes, metrics: AbstractSet[str] | None = None) -> Iterator[tuple[str, list[SeriesRow]]]:
    """(metric, its series) of the wanted `metrics` (None: all): only frame 0 and the frames holding
    a wanted section are inflated, and only wanted sections are parsed."""
    view, starts = memoryview(data), _frame_starts(data)
    inflated = {0: zlib.decompress(view[starts[0] : starts[1]], -15)}
    (sizes, per_frame), head = _index(inflated[0])
    # offsets come from the sizes by C-level scans (the index is a dict parsed by orjson): a one-metric
    # read of a 1,000-metric item runs no Python per entry
    names = list(sizes)
    ends = list(accumulate(sizes.values(), initial=0))  # ends[p]: where section p starts (all frames)
    firsts = list(accumulate(per_frame, initial=0))  # the first section of each frame
    wanted = range(len(names)) if metrics is None else sorted(names.index(m) for m in metrics if m in sizes)
    for p in wanted:
        frame = bisect.bisect_right(firsts, p) - 1 if len(firsts) > 2 else 0
        raw = inflated.get(frame)
        if raw is None:
            raw = inflated[frame] = zlib.decompress(view[starts[frame] : starts[frame + 1]], -15)
        at = ends[p] - ends[firsts[frame]] + (head if frame == 0 else 0)
        yield names[p], orjson.loads(raw[at : at + ends[p + 1] - ends[p]])


def _frame_starts(data: bytes) -> list[int]:
    count = data[1]
    return list(accumulate(struct.unpack_from(f"<{count}I", data, 2), initial=2 + 4 * count))


def _index(frame0: bytes) -> tuple[tuple[dict[str, int], list[int]], int]:
    """Frame 0's index, and where its sections begin."""
    (length,) = _LEN.unpack_from(frame0)
    return orjson.loads(frame0[_LEN.size : _LEN.size + length]), _LEN.size + length


def metric_names(data: bytes) -> list[str]:
    """The metrics of a v2 body, in section order (frame 0 only)."""
    starts = _frame_starts(data)
    return list(_index(zlib.decompress(memoryview(data)[starts[0] : starts[1]], -15))[0][0])


def timestamps(kind: int, stamps: list[Any], base: float) -> list[float]:
    """A series' timestamps as floats (the same operations as `chunk_arrays`, so the same floats)."""
    if kind == TS_MILLIS:
        return [base + m / 1000.0 for m in accumulate(stamps)]
    return [base + off for off in stamps]


def decode_points(
    host: str, data: bytes, minute: int, metrics: AbstractSet[str] | None = None
) -> Iterator[Point]:
    """The points of a v2 body; `metrics`: only those metrics' sections are read."""
    base = float(minute * 60)
    for metric, rows in sections(data, metrics):
        for flat, kind, stamps, values in rows:
            labels = tuple(zip(flat[::2], flat[1::2], strict=True))
            for ts, value in zip(timestamps(kind, stamps, base), values, strict=True):
                yield json_point(host, metric, labels, ts, value)


def json_point(host: str, metric: str, labels: Labels, ts: float, value: Any) -> Point:
    """A point from a JSON value: a number, null, or a histogram list (the v1 and v2 meta form)."""
    if isinstance(value, list):
        bounds, counts, hsum, count, hmin, hmax = value
        hist = Histogram(
            tuple(float(b) for b in bounds),
            tuple(int(c) for c in counts),
            float(hsum),
            int(count),
            hmin,
            hmax,
        )
        return Point(host, metric, labels, ts, None, hist)
    return new_point(host, metric, labels, ts, None if value is None else float(value))
