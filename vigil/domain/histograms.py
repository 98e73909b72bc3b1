"""Explicit-bucket histograms: exact merging across hosts and time, and quantiles read from buckets.

Percentiles are never averaged: p95 of a window is `quantile(merge(all histograms of the window), 0.95)`.
The quantile estimate interpolates linearly inside the bucket that holds the rank, like Prometheus'
`histogram_quantile`, and uses the recorded `min`/`max` to bound the open first and last buckets.
Standard library and `vigil.domain.models` only.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from vigil.domain.models import Histogram


def merge(a: Histogram, b: Histogram) -> Histogram:
    """Sum two histograms. Identical bounds merge exactly; otherwise `b`'s buckets are re-bucketed onto
    `a`'s bounds by their upper edge, which can only move observations up (a conservative estimate
    for latency alerts), and the total count and sum stay exact."""
    if a.bounds == b.bounds:
        counts = tuple(x + y for x, y in zip(a.counts, b.counts, strict=True))
    else:
        merged = list(a.counts)
        for i, count in enumerate(b.counts):
            if count == 0:
                continue
            upper = b.bounds[i] if i < len(b.bounds) else float("inf")
            merged[bisect.bisect_left(a.bounds, upper)] += count
        counts = tuple(merged)
    low = a.min if b.min is None else b.min if a.min is None else min(a.min, b.min)
    high = a.max if b.max is None else b.max if a.max is None else max(a.max, b.max)
    return Histogram(a.bounds, counts, a.sum + b.sum, a.count + b.count, low, high)


def merge_all(histograms: Iterable[Histogram]) -> Histogram | None:
    """Merge many histograms; None when there are none."""
    out: Histogram | None = None
    for h in histograms:
        out = h if out is None else merge(out, h)
    return out


def quantile(h: Histogram, q: float) -> float | None:
    """The `q`-quantile (0 <= q <= 1) estimated from the buckets; None for an empty histogram.

    Raises:
        ValueError: `q` outside [0, 1].
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be between 0 and 1, got {q}")
    total = sum(h.counts)
    if total == 0:
        return None
    rank = q * total
    cumulative = 0
    for i, count in enumerate(h.counts):
        if count == 0 or cumulative + count < rank:
            cumulative += count
            continue
        lower, upper = _bucket_edges(h, i)
        fraction = (rank - cumulative) / count
        value = lower + (upper - lower) * fraction
        return _clamp(value, h.min, h.max)
    return _clamp(_bucket_edges(h, len(h.counts) - 1)[1], h.min, h.max)


def _bucket_edges(h: Histogram, i: int) -> tuple[float, float]:
    """Finite edges of bucket `i` (bucket i holds values in (bounds[i-1], bounds[i]])."""
    bounds = h.bounds
    if not bounds:  # a single bucket: only min/max (or sum/count) say anything about it
        mean = h.sum / h.count if h.count else 0.0
        return (h.min if h.min is not None else mean, h.max if h.max is not None else mean)
    if i == 0:
        upper = bounds[0]
        lower = h.min if h.min is not None and h.min <= upper else min(0.0, upper)
        return lower, upper
    if i >= len(bounds):  # the +Inf bucket: Prometheus answers the highest finite bound
        lower = bounds[-1]
        return lower, h.max if h.max is not None and h.max >= lower else lower
    return bounds[i - 1], bounds[i]


def _clamp(value: float, low: float | None, high: float | None) -> float:
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value
