"""The per-bucket accumulator shared by the series API, rollups and alerting, and the aggregation names.

One `BucketAcc` summarises the samples of one (series or group, time bucket): count, sum, min, max, the
latest value, counter increase and the seconds it covers, and what percentiles need (the raw values, a
merged histogram, or a rollup's log sketch). Everything in it is mergeable, which is what makes the
answers exact across hosts: a fleet average is total sum / total count (never an average of averages),
a fleet p95 comes from merged histograms or from all raw values (never an average of percentiles).

Rates are per series first (`increase / seconds` of one counter), then summed across the series of a
group, like `sum(rate(x))` in PromQL: `merge_time` combines pieces of one series, `merge_series` combines
different series.

Standard library only (plus the other `vigil.domain` helpers).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from vigil.domain import histograms, sketch
from vigil.domain.records import Histogram

PERCENTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
AGGS: tuple[str, ...] = ("avg", "min", "max", "sum", "count", "last", "rate", *PERCENTILES)


def exact_quantile(values: Sequence[float], q: float) -> float:
    """q-quantile of raw values with linear interpolation between closest ranks (numpy's default,
    Prometheus' `quantile_over_time`). `values` must not be empty."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarise_values(values: list[float], times: list[float] | None, agg: str) -> float | None:
    """`agg` of one bucket's plain values: what `BucketAcc.add_many` + `result` give, without the object
    (the series hot path does this for every plain-value bucket). `rate` is not defined here.
    `times` must be given for `last`."""
    if agg == "avg":
        return sum(values) / len(values)
    if agg == "sum":
        return sum(values)
    if agg == "count":
        return float(len(values))
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    if agg == "last":
        return max(zip(times or (), values, strict=True))[1] if times else None
    return exact_quantile(values, PERCENTILES[agg])


class BucketAcc:
    """Mergeable summary of the samples in one bucket. Mutable and slotted: the hot path makes many."""

    __slots__ = (
        "count",
        "hist",
        "increase",
        "last",
        "last_ts",
        "max",
        "min",
        "rate",
        "rated",
        "seconds",
        "sketch",
        "sum",
        "values",
    )

    def __init__(self) -> None:
        self.count = 0  # samples, or observations for histogram samples
        self.sum = 0.0
        self.min: float | None = None
        self.max: float | None = None
        self.last_ts = -math.inf
        self.last: float | None = None
        self.values: list[float] | None = None  # raw values, kept only when a percentile is asked for
        self.hist: Histogram | None = None
        self.sketch: dict[int, int] | None = None
        self.increase = 0.0  # counter increase within one series ...
        self.seconds = 0.0  # ... and the seconds that increase covers
        self.rate = 0.0  # sum of finished per-series rates (after merge_series)
        self.rated = 0  # how many series contributed to `rate`

    # ---------------------------------------------------------------------------------- adding
    def add_value(self, ts: float, v: float, keep: bool) -> None:
        self.count += 1
        self.sum += v
        if self.min is None or v < self.min:
            self.min = v
        if self.max is None or v > self.max:
            self.max = v
        # ties broken by value so the result does not depend on input order (rollups must be idempotent)
        if ts > self.last_ts or (ts == self.last_ts and self.last is not None and v > self.last):
            self.last_ts, self.last = ts, v
        if keep:
            if self.values is None:
                self.values = [v]
            else:
                self.values.append(v)

    def add_many(self, values: list[float], times: list[float] | None, keep: bool) -> None:
        """Bulk `add_value` (C builtins do the work); `times` only matters for `last`."""
        self.count += len(values)
        self.sum += sum(values)
        self.min = _min(self.min, min(values))
        self.max = _max(self.max, max(values))
        if times is not None:
            ts, v = max(zip(times, values, strict=True))
            if ts > self.last_ts or (ts == self.last_ts and self.last is not None and v > self.last):
                self.last_ts, self.last = ts, v
        if keep:
            self.values = values if self.values is None else self.values + values

    def add_histogram(self, ts: float, h: Histogram) -> None:
        self.count += h.count
        self.sum += h.sum
        self.min = _min(self.min, h.min)
        self.max = _max(self.max, h.max)
        mean = histograms.mean(h)
        if mean is not None and (
            ts > self.last_ts or (ts == self.last_ts and self.last is not None and mean > self.last)
        ):
            self.last_ts, self.last = ts, mean
        self.hist = h if self.hist is None else histograms.merge(self.hist, h)

    def add_increase(self, increase: float, seconds: float) -> None:
        self.increase += increase
        self.seconds += seconds

    # ---------------------------------------------------------------------------------- merging
    def _merge_common(self, o: BucketAcc) -> None:
        self.count += o.count
        self.sum += o.sum
        self.min = _min(self.min, o.min)
        self.max = _max(self.max, o.max)
        if o.last is not None and (
            o.last_ts > self.last_ts
            or (o.last_ts == self.last_ts and self.last is not None and o.last > self.last)
        ):
            self.last_ts, self.last = o.last_ts, o.last
        if o.values:
            self.values = list(o.values) if self.values is None else self.values + o.values
        if o.hist is not None:
            self.hist = o.hist if self.hist is None else histograms.merge(self.hist, o.hist)
        if o.sketch:
            self.sketch = sketch.merge_into(dict(self.sketch or {}), o.sketch)

    def merge_time(self, o: BucketAcc) -> None:
        """Combine with another piece of the *same* series (e.g. the hourly rollups inside a 6 h step)."""
        self._merge_common(o)
        self.increase += o.increase
        self.seconds += o.seconds
        self.rate += o.rate
        self.rated += o.rated

    def merge_series(self, o: BucketAcc) -> None:
        """Combine with *another* series of the same group: counter rates add up."""
        self._merge_common(o)
        self.rate += o.rate
        self.rated += o.rated
        if o.seconds > 0:
            self.rate += o.increase / o.seconds
            self.rated += 1

    # ---------------------------------------------------------------------------------- reading
    def result(self, agg: str, covered: float) -> float | None:
        """The value of `agg` for this bucket; None for a gap. `covered`: seconds of the query range
        inside this bucket (a histogram's `rate` is observations per covered second)."""
        if agg == "rate":
            if self.hist is not None:
                return self.count / covered if covered > 0 else None
            rate = self.rate + (self.increase / self.seconds if self.seconds > 0 else 0.0)
            return rate if (self.rated or self.seconds > 0) else None
        if self.count == 0:
            return None
        if agg == "avg":
            return self.sum / self.count
        if agg == "sum":
            return self.sum
        if agg == "count":
            return float(self.count)
        if agg == "last":
            return self.last
        if agg == "min":  # histograms without a recorded min: the lower edge of the lowest bucket
            return self.min if self.min is not None or self.hist is None else self.percentile(0.0)
        if agg == "max":
            return self.max if self.max is not None or self.hist is None else self.percentile(1.0)
        return self.percentile(PERCENTILES[agg])

    def percentile(self, q: float) -> float | None:
        if self.hist is not None:
            h = self.hist
            if self.values:
                h = histograms.merge(h, histograms.from_values(self.values, h.bounds))
            return histograms.quantile(h, q)
        if self.sketch is not None:
            sk = sketch.add_values(dict(self.sketch), self.values) if self.values else self.sketch
            return sketch.quantile(sk, q, self.min, self.max)
        if self.values:
            return exact_quantile(self.values, q)
        return None


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


def counter_totals(ts: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """The sums of `counter_increase(zip(ts, values))`'s increases and seconds, added in the same
    order (so the same floats), for strictly ascending `ts`; element-wise in C where it can (back-fills
    add up hundreds of millions of pairs)."""
    diffs = list(map(operator.sub, values[1:], values[:-1]))
    increases = [d if d >= 0 else v for d, v in zip(diffs, values[1:], strict=True)]  # a decrease: reset
    return sum(increases, 0.0), sum(map(operator.sub, ts[1:], ts[:-1]), 0.0)


def counter_increase(samples: Sequence[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """(ts, increase, seconds) for each consecutive pair of one counter's (ts, value) samples, sorted by
    time. A decrease is a reset (the process restarted and counts from zero), so the increase is the new
    value itself, as in Prometheus. Pairs with equal timestamps are skipped."""
    out: list[tuple[float, float, float]] = []
    prev_ts, prev_v = math.nan, math.nan
    for ts, v in samples:
        if ts > prev_ts:  # False on the first sample (NaN) and on duplicated timestamps
            out.append((ts, v - prev_v if v >= prev_v else v, ts - prev_ts))
        if not ts <= prev_ts:
            prev_ts, prev_v = ts, v
    return out
