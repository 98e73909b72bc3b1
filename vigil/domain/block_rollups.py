"""Rollups and fleet records straight from `SeriesBlock`s (a series' samples as two arrays), for
back-fills: the same records `rollup_points`, `fine_rollups` and `FleetFold` build from `Point`s, without
a `Point` per sample.

Why: a back-fill of 1,000 hosts x 20 metrics x 7 days is 201.6 M samples. Re-reading them as `Point`s
for the rollup job and again for the fleet job took 5 times the whole one pass; from the arrays a
bucket is one slice (`bisect` on the ascending timestamps) summed by C builtins (`BucketAcc.add_many`).

`block_rollups(block, res)` equals `rollup_points(points, res)` for the block's points (one series, so
the accumulator of each bucket sees the same values in the same order). `BlockFleetFold` equals
`FleetFold` over the same blocks added host by host in the same order, up to the order of float
additions across hosts (`FleetFold` adds the hosts of one part in series-key order, this fold in the
blocks' order). It keeps each (metric, labels) as columns indexed by bucket, so a block with one sample
per bucket (60 s samples into fleet minutes) is merged column-wise by `map`, not a `BucketAcc` per
sample. Plain values only (a `SeriesBlock` has no histograms).

Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import replace
from itertools import repeat

from vigil.domain.accumulate import BucketAcc, counter_totals
from vigil.domain.fleet import FLEET_HOST
from vigil.domain.records import SeriesBlock
from vigil.domain.rollups import RESOLUTION_SECONDS, Rollup, from_acc, plain_marker

Labels = tuple[tuple[str, str], ...]


def bucket_slices(ts: list[float] | tuple[float, ...], width: float) -> Iterator[tuple[float, int, int]]:
    """(bucket start, a, b) for each bucket of ascending `ts`: ts[a:b] are its samples. A bucket's
    start is `floor(t / width) * width` of its samples (what `bucket_accs` computes per sample); the end
    is found by bisection and checked on both sides, so float rounding near an edge cannot move a
    sample into another bucket than the per-sample formula would."""
    a, n = 0, len(ts)
    while a < n:
        start = math.floor(ts[a] / width) * width
        b = bisect_left(ts, start + width, a)
        while b > a + 1 and math.floor(ts[b - 1] / width) * width != start:
            b -= 1
        while b < n and math.floor(ts[b] / width) * width == start:
            b += 1
        yield start, a, max(b, a + 1)
        a = max(b, a + 1)


def slice_acc(ts: list[float], values: list[float], keep: bool) -> BucketAcc:
    """One series' bucket of plain values, as `bucket_accs` accumulates it (values, then the counter
    increases of its consecutive pairs)."""
    acc = BucketAcc()
    acc.add_many(values, ts, keep)
    if len(values) > 1:  # an increase needs two samples
        acc.add_increase(*counter_totals(ts, values))
    return acc


def block_rollups(block: SeriesBlock, resolution: str, lo: float = -math.inf) -> list[Rollup]:
    """`rollup_points` of the block's samples for the buckets starting at or after `lo`.

    Raises:
        KeyError: unknown resolution.
    """
    ts, values = list(block.timestamps), list(block.values)
    out = []
    for start, a, b in bucket_slices(ts, RESOLUTION_SECONDS[resolution]):
        if start >= lo:
            acc = slice_acc(ts[a:b], values[a:b], keep=True)
            out.append(from_acc(block.metric, block.host, block.labels, resolution, start, acc))
    return out


def block_markers(hourly: list[Rollup]) -> list[Rollup]:
    """The fine tier of a plain block whose hourly rollups are `hourly`: one marker per hour
    (`fine_rollups`)."""
    return [plain_marker(r.metric, r.host, r.labels, r.start) for r in hourly]


class BlockFleetFold:
    """Fleet records at `resolution` from blocks, kept as columns per (metric, labels)."""

    def __init__(self, resolution: str) -> None:
        self.resolution = resolution
        self._width = RESOLUTION_SECONDS[resolution]
        self._cols: dict[tuple[str, Labels], _Columns] = {}

    def add(self, block: SeriesBlock, lo: float = -math.inf, hi: float = math.inf) -> None:
        """Add the block's samples in [lo, hi)."""
        ts = list(block.timestamps)
        a, b = bisect_left(ts, lo), bisect_left(ts, hi)
        ts, values = ts[a:b], list(block.values[a:b])
        if not ts:
            return
        key = (block.metric, block.labels)
        cols = self._cols.get(key)
        if cols is None:
            cols = self._cols[key] = _Columns(math.floor(ts[0] / self._width) * self._width, self._width)
        ks = list(map(math.floor, map(operator.truediv, ts, repeat(self._width))))
        if ks[-1] - ks[0] == len(ks) - 1 and ks == list(range(ks[0], ks[0] + len(ks))):
            # one sample per bucket, buckets consecutive (60 s samples into minutes): column-wise
            cols.add_singles(ks[0] * self._width, ts, values)
            return
        for start, i, j in bucket_slices(ts, self._width):
            acc = slice_acc(ts[i:j], values[i:j], keep=False)
            cols.add_acc(start, acc)

    def records(self) -> list[Rollup]:
        out: list[Rollup] = []
        for (metric, labels), cols in self._cols.items():
            out.extend(cols.records(metric, labels, self.resolution))
        out.sort(key=lambda r: (r.series_key, r.start))
        return out


class _Columns:
    """One (metric, labels)'s fleet accumulators by bucket index: what `FleetFold` keeps as one
    `BucketAcc` per bucket (merged with `merge_time`) and its `_rates`, as parallel lists."""

    def __init__(self, base: float, width: float) -> None:
        self.base, self.width = base, width
        self.count: list[int] = []
        self.sum: list[float] = []
        self.min: list[float] = []
        self.max: list[float] = []
        self.last: list[tuple[float, float | None]] = []  # (ts, value): max() is the merge's rule
        self.rate: dict[int, float] = {}

    def _index(self, start: float, n: int) -> int:
        """Index of bucket `start`, growing the columns to hold n buckets from there."""
        i = round((start - self.base) / self.width)
        if i < 0:
            self._grow(-i, front=True)
            self.base, i = start, 0
        if i + n > len(self.count):
            self._grow(i + n - len(self.count), front=False)
        return i

    def _grow(self, n: int, *, front: bool) -> None:
        pads = ([0] * n, [0.0] * n, [math.inf] * n, [-math.inf] * n, [(-math.inf, None)] * n)
        names = ("count", "sum", "min", "max", "last")
        for name, pad in zip(names, pads, strict=True):
            col = getattr(self, name)
            setattr(self, name, pad + col if front else col + pad)
        if front:
            self.rate = {k + n: v for k, v in self.rate.items()}

    def add_singles(self, first: float, ts: list[float], values: list[float]) -> None:
        """Consecutive buckets from `first`, one sample each: `merge_time` of a one-sample accumulator
        (count 1, sum v, min = max = last = v, no increase) per bucket, column by column."""
        i = self._index(first, len(ts))
        j = i + len(ts)
        self.count[i:j] = map(operator.add, self.count[i:j], repeat(1))
        self.sum[i:j] = map(operator.add, self.sum[i:j], values)
        self.min[i:j] = map(min, self.min[i:j], values)
        self.max[i:j] = map(max, self.max[i:j], values)
        # the newer sample wins, a tie the larger value (`BucketAcc._merge_common`): max of the pairs
        self.last[i:j] = map(max, self.last[i:j], zip(ts, values, strict=True))

    def add_acc(self, start: float, acc: BucketAcc) -> None:
        """`FleetFold.add` of one host series' bucket accumulator."""
        i = self._index(start, 1)
        if acc.seconds > 0:  # per-series rates add up across hosts (vigil.domain.fleet)
            self.rate[i] = self.rate.get(i, 0.0) + acc.increase / acc.seconds
        fleet = self._acc(i)
        acc.increase = acc.seconds = 0.0
        fleet.merge_time(acc)
        self.count[i], self.sum[i] = fleet.count, fleet.sum
        self.min[i], self.max[i] = _or(fleet.min, math.inf), _or(fleet.max, -math.inf)
        self.last[i] = (fleet.last_ts, fleet.last)

    def _acc(self, i: int) -> BucketAcc:
        acc = BucketAcc()
        if self.count[i]:
            acc.count, acc.sum, acc.min, acc.max = self.count[i], self.sum[i], self.min[i], self.max[i]
            acc.last_ts, acc.last = self.last[i]
        return acc

    def records(self, metric: str, labels: Labels, resolution: str) -> Iterator[Rollup]:
        for i, count in enumerate(self.count):
            if not count:
                continue
            start = self.base + i * self.width
            r = from_acc(metric, FLEET_HOST, labels, resolution, start, self._acc(i))
            rate = self.rate.get(i)
            if rate is not None:
                r = replace(r, increase=rate * self.width, seconds=self.width)
            yield r


def _or(v: float | None, default: float) -> float:
    return default if v is None else v
