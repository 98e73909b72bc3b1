"""Properties of `vigil.domain.occurrences`: folding error timestamps into clock hours and laying the
kept hours out as the 24-slot window of `/api/errors`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.occurrences import (
    HOUR_SECONDS,
    WINDOW_HOURS,
    hour_of,
    hourly_counts,
    stale_hours,
    window_24h,
)

NOW = 1_767_600_000.0 + 1234.5  # inside an hour, not on its boundary
ages = st.lists(st.floats(min_value=0, max_value=10 * 86400, allow_nan=False), max_size=200)


@settings(max_examples=200)
@given(ages)
def test_the_window_counts_exactly_the_occurrences_of_the_last_24_clock_hours(ages: list[float]) -> None:
    timestamps = [NOW - a for a in ages]
    start, counts = window_24h(hourly_counts(timestamps), NOW)
    assert len(counts) == WINDOW_HOURS and start + WINDOW_HOURS * HOUR_SECONDS > NOW >= start + 23 * 3600
    assert sum(counts) == sum(1 for ts in timestamps if ts >= start)
    for i, c in enumerate(counts):
        slot = start + i * HOUR_SECONDS
        assert c == sum(1 for ts in timestamps if slot <= ts < slot + HOUR_SECONDS)


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=100))
def test_dropping_stale_hours_leaves_at_most_a_day_ending_with_the_newest(hours: list[int]) -> None:
    stale = set(stale_hours(hours))
    kept = {h for h in hours if h not in stale}
    assert len(kept) <= WINDOW_HOURS
    assert not hours or max(hours) in kept
    assert all(max(hours) - h < WINDOW_HOURS for h in kept)
    assert all(max(hours) - h >= WINDOW_HOURS for h in stale)


@given(ages)
def test_a_batch_writes_at_most_24_hours_all_within_a_day_of_its_newest(ages: list[float]) -> None:
    counts = hourly_counts(NOW - a for a in ages)
    assert len(counts) <= WINDOW_HOURS and stale_hours(counts) == []
    if ages:
        assert max(counts) == hour_of(NOW - min(ages))
