"""Cumulative-to-delta conversion for OTLP monotonic sums and histograms, with reset detection.

OpenTelemetry SDKs export counters and histograms cumulatively by default: each export carries the
total since `start_time_unix_nano`. Vigil stores per-interval deltas (a rate is delta / interval), so
each series' previous observation is kept in a `CumulativeState` (see `vigil.ports`). Rules:

- first observation of a series: emitted whole when the series started after the state began tracking
  (`start >= tracking_since`, the total then covers only time we would otherwise miss), otherwise kept
  only as the baseline (the process ran while nobody tracked it: emitting its lifetime total would be a
  spike);
- same or older `time` than the previous observation: a retried export, nothing is emitted;
- a reset (`start` changed, or the value/count/any bucket went down, or the bounds changed): the new
  total is the delta, because it counts from the reset;
- otherwise delta = current - previous.

Standard library only (plus `domain.models`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.domain.records import Histogram


@dataclass(frozen=True, slots=True)
class CumulativeEntry:
    """The previous cumulative observation of one series (OTLP cumulative sum or histogram)."""

    start_ns: int
    time_ns: int
    value: float = 0.0
    counts: tuple[int, ...] = ()
    bounds: tuple[float, ...] = ()
    sum: float = 0.0
    count: int = 0


def _first_is_whole(start_ns: int, tracking_since: float) -> bool:
    return start_ns > 0 and start_ns / 1e9 >= tracking_since


def sum_delta(
    prev: CumulativeEntry | None, start_ns: int, time_ns: int, value: float, tracking_since: float
) -> tuple[float | None, CumulativeEntry]:
    """(delta to emit or None, the entry to remember) for one monotonic cumulative sum point."""
    entry = CumulativeEntry(start_ns=start_ns, time_ns=time_ns, value=value)
    if prev is None:
        return (value if _first_is_whole(start_ns, tracking_since) else None), entry
    if time_ns <= prev.time_ns:
        return None, prev
    reset = (start_ns != 0 and start_ns != prev.start_ns) or value < prev.value
    return (value if reset else value - prev.value), entry


def histogram_delta(
    prev: CumulativeEntry | None, start_ns: int, time_ns: int, hist: Histogram, tracking_since: float
) -> tuple[Histogram | None, CumulativeEntry]:
    """(delta histogram to emit or None, the entry to remember) for one cumulative histogram point.

    A delta computed by subtraction has no min/max (the cumulative ones cover the whole lifetime).
    """
    entry = CumulativeEntry(
        start_ns=start_ns,
        time_ns=time_ns,
        counts=hist.counts,
        bounds=hist.bounds,
        sum=hist.sum,
        count=hist.count,
    )
    if prev is None:
        return (hist if _first_is_whole(start_ns, tracking_since) else None), entry
    if time_ns <= prev.time_ns:
        return None, prev
    reset = (
        (start_ns != 0 and start_ns != prev.start_ns)
        or hist.bounds != prev.bounds
        or hist.count < prev.count
        or any(c < p for c, p in zip(hist.counts, prev.counts, strict=True))
    )
    if reset:
        return hist, entry
    counts = tuple(c - p for c, p in zip(hist.counts, prev.counts, strict=True))
    return Histogram(hist.bounds, counts, hist.sum - prev.sum, hist.count - prev.count), entry
