"""Rollups: per-series summaries of one UTC-aligned hour or day, kept 400 days after raw samples expire.

A `Rollup` holds count, sum, min, max, the last value, the counter increase and the seconds it covers
(so `rate` survives), and what percentiles need later:
  - histogram samples: the merged explicit-bucket `histogram` (exact to its buckets, see `histograms`);
  - plain values: a sparse log-bucket `sketch` (see `sketch`): any percentile of rolled-up plain values
    stays within `sketch.RELATIVE_ERROR` (about 1 %) of the true nearest-rank percentile.

`rollup_points` is a pure function of the *set* of points it is given (points are sorted before
summing), so recomputing a bucket from its raw points yields an identical record: a repeated or
overlapping run, or a late sample followed by a recomputation, simply overwrites the record with the
right one. Callers recompute whole buckets from all their raw points; they never add to a stored record.
Counter increases are credited to the bucket of the later sample of each pair and only pairs inside the
bucket count, so a bucket's rate is `increase / seconds` over the time the bucket's own samples cover.
Daily rollups are `coarsen(hourly, "1d")`.

Standard library only (plus `vigil.domain`). Must not import `series` (it imports us).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vigil.domain import sketch
from vigil.domain.accumulate import BucketAcc, counter_increase
from vigil.domain.identity import series_key
from vigil.domain.records import Histogram, Point

RESOLUTION_SECONDS: dict[str, float] = {"1m": 60.0, "5m": 300.0, "1h": 3600.0, "1d": 86400.0}
ROLLUP_RETENTION_SECONDS = 400 * 86400.0
# The fine tier: 5-minute rollups of histogram series only, kept as long as raw samples (not 400 days).
# A 24 h percentile chart merges 288 of them per host instead of every raw histogram (8,640 per host at
# 10 s). Plain series get one empty marker per host-hour instead (`fine_rollups`), so a reader can tell
# "no histogram here, use raw" from "no data" without the tier paying for their sketches.
FINE = "5m"


@dataclass(frozen=True, slots=True)
class Rollup:
    metric: str
    host: str
    labels: tuple[tuple[str, str], ...]
    resolution: str  # "5m" | "1h" | "1d"
    start: float  # bucket start, a multiple of the resolution (UTC-aligned)
    count: int  # samples, or observations for histogram samples
    sum: float
    min: float | None
    max: float | None
    last_ts: float | None = None
    last: float | None = None
    increase: float = 0.0
    seconds: float = 0.0
    histogram: Histogram | None = None
    sketch: dict[int, int] = field(default_factory=dict)

    @property
    def series_key(self) -> str:
        return series_key(self.host, self.metric, self.labels)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "metric": self.metric,
            "host": self.host,
            "labels": dict(self.labels),
            "resolution": self.resolution,
            "start": self.start,
            "count": self.count,
            "sum": self.sum,
            "min": self.min,
            "max": self.max,
            "last_ts": self.last_ts,
            "last": self.last,
            "increase": self.increase,
            "seconds": self.seconds,
        }
        if self.histogram is not None:
            out["histogram"] = self.histogram.to_json()
        if self.sketch:
            out["sketch"] = sketch.to_json(self.sketch)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Rollup:
        hist = d.get("histogram")
        return cls(
            metric=d["metric"],
            host=d["host"],
            labels=tuple(sorted(d.get("labels", {}).items())),
            resolution=d["resolution"],
            start=float(d["start"]),
            count=int(d["count"]),
            sum=float(d["sum"]),
            min=d.get("min"),
            max=d.get("max"),
            last_ts=d.get("last_ts"),
            last=d.get("last"),
            increase=float(d.get("increase", 0.0)),
            seconds=float(d.get("seconds", 0.0)),
            histogram=Histogram.from_json(hist) if hist else None,
            sketch=sketch.from_json(d.get("sketch") or {}),
        )


def bucket_start(ts: float, resolution: str) -> float:
    width = RESOLUTION_SECONDS[resolution]
    return math.floor(ts / width) * width


def from_acc(
    metric: str, host: str, labels: tuple[tuple[str, str], ...], resolution: str, start: float, acc: BucketAcc
) -> Rollup:
    sk: dict[int, int] = dict(acc.sketch or {})
    if acc.values:
        sketch.add_values(sk, acc.values)
    return Rollup(
        metric,
        host,
        labels,
        resolution,
        start,
        acc.count,
        acc.sum,
        acc.min,
        acc.max,
        acc.last_ts if acc.last is not None else None,
        acc.last,
        acc.increase,
        acc.seconds,
        acc.hist,
        sk,
    )


def rollup_points(points: Iterable[Point], resolution: str) -> list[Rollup]:
    """One rollup per (series, bucket) present in `points`, sorted by (series key, start).

    Raises:
        KeyError: unknown resolution (callers pass one of RESOLUTION_SECONDS).
    """
    out = [
        from_acc(metric, host, labels, resolution, start, acc)
        for metric, host, labels, start, acc in bucket_accs(points, RESOLUTION_SECONDS[resolution], keep=True)
    ]
    out.sort(key=lambda r: (r.series_key, r.start))
    return out


SeriesBucket = tuple[str, str, tuple[tuple[str, str], ...], float, BucketAcc]


def bucket_accs(points: Iterable[Point], width: float, *, keep: bool) -> list[SeriesBucket]:
    """(metric, host, labels, bucket start, accumulator) per (series, bucket) present in `points`, series
    in sorted order; counter increases added. `keep`: keep the raw values (for the sketch)."""
    by_series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Point]] = {}
    for p in points:
        by_series.setdefault((p.metric, p.host, p.labels), []).append(p)
    out: list[SeriesBucket] = []
    for (metric, host, labels), pts in sorted(by_series.items()):
        # sorted so that float sums, ties and counter pairs do not depend on arrival order
        pts.sort(
            key=lambda p: (
                p.ts,
                p.value if p.value is not None else -math.inf,
                p.histogram.sum if p.histogram else 0.0,
            )
        )
        accs: dict[float, BucketAcc] = {}
        plain: dict[float, list[tuple[float, float]]] = {}
        for p in pts:
            start = math.floor(p.ts / width) * width
            acc = accs.get(start)
            if acc is None:
                acc = accs[start] = BucketAcc()
            if p.histogram is not None:
                acc.add_histogram(p.ts, p.histogram)
            elif p.value is not None:
                acc.add_value(p.ts, p.value, keep)
                plain.setdefault(start, []).append((p.ts, p.value))
        for start, acc in accs.items():
            pairs = plain.get(start, ())
            if len(pairs) > 1:  # an increase needs two samples
                for _ts, increase, seconds in counter_increase(pairs):
                    acc.add_increase(increase, seconds)
            out.append((metric, host, labels, start, acc))
    return out


def to_acc(r: Rollup) -> BucketAcc:
    """The accumulator `build_series` uses, rebuilt from a rollup (the inverse of summarising)."""
    acc = BucketAcc()
    acc.count, acc.sum, acc.min, acc.max = r.count, r.sum, r.min, r.max
    if r.last is not None and r.last_ts is not None:
        acc.last_ts, acc.last = r.last_ts, r.last
    acc.increase, acc.seconds = r.increase, r.seconds
    acc.hist = r.histogram
    acc.sketch = dict(r.sketch) if r.sketch else None
    return acc


def merge_rollups(a: Rollup, b: Rollup, *, resolution: str | None = None) -> Rollup:
    """Combine two rollups of the same series (e.g. two hours into their day).

    Raises:
        ValueError: the rollups belong to different series.
    """
    if (a.metric, a.host, a.labels) != (b.metric, b.host, b.labels):
        raise ValueError("merge_rollups: rollups of different series")
    acc = to_acc(a)
    acc.merge_time(to_acc(b))
    res = resolution or a.resolution
    return from_acc(a.metric, a.host, a.labels, res, bucket_start(min(a.start, b.start), res), acc)


def coarsen(rollups: Iterable[Rollup], resolution: str) -> list[Rollup]:
    """Roll finer rollups up to `resolution` (hourly → daily), sorted by (series key, start).

    Raises:
        KeyError: unknown resolution.
    """
    merged: dict[tuple[str, str, tuple[tuple[str, str], ...], float], Rollup] = {}
    ordered = sorted(rollups, key=lambda r: (r.series_key, r.start))
    for r in ordered:
        k = (r.metric, r.host, r.labels, bucket_start(r.start, resolution))
        prev = merged.get(k)
        merged[k] = (
            from_acc(r.metric, r.host, r.labels, resolution, k[3], to_acc(r))
            if prev is None
            else merge_rollups(prev, r, resolution=resolution)
        )
    return sorted(merged.values(), key=lambda r: (r.series_key, r.start))


def percentile(r: Rollup, q: float) -> float | None:
    """A percentile straight from one rollup (histogram if any, else the sketch)."""
    return to_acc(r).percentile(q)


def fine_rollups(points: Iterable[Point]) -> list[Rollup]:
    """The fine tier of `points`: `rollup_points(..., FINE)` for histogram series, and for each plain
    series one marker per hour it has samples in (count 0, no histogram, starting on the hour): markers
    add nothing to any aggregate, they only tell readers the metric has plain values (answer from raw).
    A pure function of the set of points, like `rollup_points`."""
    hist: list[Point] = []
    plain: set[tuple[str, str, tuple[tuple[str, str], ...], float]] = set()
    for p in points:
        if p.histogram is not None:
            hist.append(p)
        elif p.value is not None:
            plain.add((p.metric, p.host, p.labels, math.floor(p.ts / 3600.0) * 3600.0))
    out = rollup_points(hist, FINE)
    out.extend(plain_marker(m, h, labels, start) for m, h, labels, start in plain)
    out.sort(key=lambda r: (r.series_key, r.start))
    return out


def plain_marker(metric: str, host: str, labels: tuple[tuple[str, str], ...], hour: float) -> Rollup:
    """The fine tier's marker of a plain series' hour (`fine_rollups`)."""
    return Rollup(metric, host, labels, FINE, hour, 0, 0.0, None, None)


def is_plain_marker(r: Rollup) -> bool:
    """A fine-tier record that stands for plain values (see `fine_rollups`)."""
    return r.histogram is None
