"""Hourly occurrence counts of an error group: what the errors list's 24 h sparkline draws.

A group keeps one count per clock hour (hour index = `floor(ts / 3600)`), and only the
`WINDOW_HOURS` hours up to and including the hour of its newest occurrence: older hours can never fall
in a 24 h window ending now, so both stores drop them when they write (`stale_hours`), and a group's
history stays at most 24 small numbers however long it lives. This module folds events into hours,
says which hours are stale, and lays the kept hours out as the fixed 24-slot window the API answers.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

HOUR_SECONDS = 3600
WINDOW_HOURS = 24


def hour_of(ts: float) -> int:
    """The index of the clock hour holding `ts` (epoch seconds)."""
    return math.floor(ts / HOUR_SECONDS)


def hourly_counts(timestamps: Iterable[float]) -> dict[int, int]:
    """How many of `timestamps` fall in each clock hour of the 24 h ending with the newest one's hour
    (older hours would be dropped as soon as written: leaving them out bounds a write to 24 counters
    however far back a batch reaches)."""
    counts: dict[int, int] = {}
    for ts in timestamps:
        h = hour_of(ts)
        counts[h] = counts.get(h, 0) + 1
    if not counts:
        return counts
    first = oldest_kept_hour(max(counts))
    return {h: c for h, c in counts.items() if h >= first}


def oldest_kept_hour(newest_hour: int) -> int:
    """The first hour a group whose newest occurrence is in `newest_hour` keeps."""
    return newest_hour - WINDOW_HOURS + 1


def stale_hours(hours: Iterable[int]) -> list[int]:
    """The hours to drop: those before the 24 h ending with the newest of `hours`."""
    kept = list(hours)
    if not kept:
        return []
    first = oldest_kept_hour(max(kept))
    return sorted(h for h in kept if h < first)


def window_24h(hourly: Mapping[int, int], now: float) -> tuple[float, list[int]]:
    """The 24 hourly slots ending with the hour holding `now`: (start of the first slot, counts).

    Hours outside the window (older, or ahead of `now` by a skewed clock) are left out."""
    first = oldest_kept_hour(hour_of(now))
    return float(first * HOUR_SECONDS), [int(hourly.get(first + i, 0)) for i in range(WINDOW_HOURS)]
