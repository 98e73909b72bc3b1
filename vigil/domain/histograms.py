"""Explicit-bucket histogram arithmetic on `models.Histogram`: build, merge, quantile, threshold counts.

Layout is OpenTelemetry's: `bounds` b0 < b1 < ... < bn-1 and n+1 `counts`; bucket i holds observations
in (b[i-1], b[i]] (upper bound inclusive, like Prometheus `le`), bucket 0 is (-inf, b0] and bucket n is
(b[n-1], +inf). Histograms are *delta* histograms (the observations of one interval), so merging across
hosts and across time is plain addition; percentiles come from merged histograms, never from averaged
percentiles.

Merging histograms with different bounds keeps only the bounds both have (the common coarsening): no
bucket count is ever split or invented, so the result is an exact histogram with coarser buckets and
the quantile error stays bounded by the width of the (coarser) bucket holding the true quantile.
Re-bucketing onto the union of bounds would have to guess how to split counts; we refuse to guess.

Standard library only (imports `models` for the record type).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from vigil.domain.records import Histogram

# OpenTelemetry semantic conventions' advisory boundaries for `http.server.request.duration` (seconds).
# Vigil's own histograms (its request latency, the agent's probes) use them too, so Vigil-made and
# SDK-made histograms merge without losing resolution.
DEFAULT_LATENCY_BOUNDS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)


def empty(bounds: Sequence[float] = DEFAULT_LATENCY_BOUNDS) -> Histogram:
    return Histogram(tuple(float(b) for b in bounds), (0,) * (len(bounds) + 1), 0.0, 0)


def from_values(values: Iterable[float], bounds: Sequence[float] = DEFAULT_LATENCY_BOUNDS) -> Histogram:
    """Histogram of raw observations over `bounds` (strictly increasing), with exact sum, min and max."""
    bnds = tuple(float(b) for b in bounds)
    counts = [0] * (len(bnds) + 1)
    total = 0.0
    lo = math.inf
    hi = -math.inf
    n = 0
    for v in values:
        counts[bisect_left(bnds, v)] += 1  # bisect_left puts v == b[i] into bucket i: upper-inclusive
        total += v
        lo = min(lo, v)
        hi = max(hi, v)
        n += 1
    if n == 0:
        return Histogram(bnds, tuple(counts), 0.0, 0)
    return Histogram(bnds, tuple(counts), total, n, lo, hi)


def _min_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _max_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def coarsen(h: Histogram, bounds: Sequence[float]) -> Histogram:
    """Re-express `h` over `bounds`, a subset of `h.bounds`: counts are only summed, never split.

    Raises:
        ValueError: a bound is not one of `h.bounds`.
    """
    target = tuple(bounds)
    if target == h.bounds:
        return h
    position = {b: i for i, b in enumerate(h.bounds)}
    if any(b not in position for b in target):
        raise ValueError("coarsen: target bounds must be a subset of the histogram's bounds")
    cut = [position[b] for b in target]
    counts = [0] * (len(target) + 1)
    j = 0
    for i, c in enumerate(h.counts):
        while j < len(cut) and i > cut[j]:  # source bucket i ends above target bound j: move on
            j += 1
        counts[j] += c
    return Histogram(target, tuple(counts), h.sum, h.count, h.min, h.max)


def _common_bounds(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    other = set(b)
    return tuple(x for x in a if x in other)


def merge(a: Histogram, b: Histogram) -> Histogram:
    """Sum of two delta histograms; commutative and associative.

    Same bounds: exact. Different bounds: exact over the bounds both share (see the module docstring);
    an empty histogram does not constrain the bounds, so a host that saw no traffic costs no resolution.
    """
    if a.bounds != b.bounds:
        if b.count == 0 and a.count > 0:
            bounds = a.bounds
        elif a.count == 0 and b.count > 0:
            bounds = b.bounds
        else:
            bounds = _common_bounds(a.bounds, b.bounds)
        a = coarsen(a, bounds) if a.count > 0 else Histogram(bounds, (0,) * (len(bounds) + 1), a.sum, 0)
        b = coarsen(b, bounds) if b.count > 0 else Histogram(bounds, (0,) * (len(bounds) + 1), b.sum, 0)
    counts = tuple(x + y for x, y in zip(a.counts, b.counts, strict=True))
    return Histogram(
        a.bounds, counts, a.sum + b.sum, a.count + b.count, _min_opt(a.min, b.min), _max_opt(a.max, b.max)
    )


def merge_all(hists: Iterable[Histogram]) -> Histogram | None:
    """Merge many histograms (same result as folding `merge`); None when there are none.

    Runs of identical bounds are summed in place, which is what the series hot path needs.
    """
    it = iter(hists)
    first = next(it, None)
    if first is None:
        return None
    bounds, acc = first.bounds, list(first.counts)
    total, n, lo, hi = first.sum, first.count, first.min, first.max
    for h in it:
        if h.bounds == bounds:
            for i, c in enumerate(h.counts):
                acc[i] += c
        else:
            folded = merge(Histogram(bounds, tuple(acc), 0.0, n), Histogram(h.bounds, h.counts, 0.0, h.count))
            bounds, acc = folded.bounds, list(folded.counts)
        total += h.sum
        n += h.count
        lo = _min_opt(lo, h.min)
        hi = _max_opt(hi, h.max)
    return Histogram(bounds, tuple(acc), total, n, lo, hi)


def bucket_range(h: Histogram, i: int) -> tuple[float, float]:
    """Effective (lower, upper) of bucket i, tightened by min/max when known.

    Without min/max the open-ended buckets follow Prometheus: the first bucket starts at 0 when its
    upper bound is positive (latencies are non-negative), and the +Inf bucket collapses onto the highest
    finite bound.
    """
    bounds = h.bounds
    if not bounds:  # one (-inf, +inf) bucket: only min/max, else the mean, say anything
        mean = h.sum / h.count if h.count else 0.0
        lo, hi = (h.min if h.min is not None else mean), (h.max if h.max is not None else mean)
        return lo, max(lo, hi)
    if i == 0:
        lo = h.min if h.min is not None else (0.0 if bounds[0] > 0 else bounds[0])
        hi = bounds[0]
    elif i == len(bounds):
        lo = bounds[-1]
        hi = h.max if h.max is not None else bounds[-1]
    else:
        lo, hi = bounds[i - 1], bounds[i]
    if h.min is not None:
        lo = max(lo, h.min)
    if h.max is not None:
        hi = min(hi, h.max)
    return (lo, hi) if lo <= hi else (hi, hi)


def target_bucket(h: Histogram, q: float) -> int:
    """Index of the bucket holding the nearest-rank q-quantile (the first non-empty bucket whose
    cumulative count reaches q·count). Requires `h.count > 0` and 0 <= q <= 1."""
    rank = q * h.count
    cumulative = 0
    last_nonempty = 0
    for i, c in enumerate(h.counts):
        if c == 0:
            continue
        last_nonempty = i
        cumulative += c
        if cumulative >= rank:
            return i
    return last_nonempty  # float rounding of q·count above count


def quantile(h: Histogram, q: float) -> float | None:
    """Prometheus `histogram_quantile`: linear interpolation inside the bucket holding the q-quantile.

    Returns None for an empty histogram. The result lies inside the effective range of the bucket that
    holds the true (nearest-rank) q-quantile, so the error is at most that bucket's width.

    Raises:
        ValueError: q outside [0, 1].
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("quantile q must be within [0, 1]")
    if h.count <= 0:
        return None
    i = target_bucket(h, q)
    before = sum(h.counts[:i])
    in_bucket = h.counts[i]
    lo, hi = bucket_range(h, i)
    fraction = (q * h.count - before) / in_bucket
    fraction = min(1.0, max(0.0, fraction))
    return lo + (hi - lo) * fraction


def count_above(h: Histogram, threshold: float) -> float:
    """Estimated number of observations greater than `threshold` (linear inside the straddling bucket;
    exact when `threshold` is one of the bounds, e.g. 1 s for slow queries)."""
    total = 0.0
    for i, c in enumerate(h.counts):
        if c == 0:
            continue
        lo, hi = bucket_range(h, i)
        if lo >= threshold:
            total += c
        elif hi > threshold:
            total += c * (hi - threshold) / (hi - lo)
    return total


def mean(h: Histogram) -> float | None:
    return h.sum / h.count if h.count > 0 else None
