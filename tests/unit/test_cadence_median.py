"""A host's learned reporting interval is the median of its recent push gaps: the cadence's own
median (no `statistics` import on the cold path) equals `statistics.median` for any gaps."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.cadence import MAX_GAPS, MIN_GAPS, Cadence

GAPS = st.lists(st.floats(0.001, 1e6, allow_nan=False), min_size=MIN_GAPS, max_size=MAX_GAPS)


@given(GAPS)
def test_the_interval_is_the_median_of_the_gaps(gaps: list[float]) -> None:
    assert Cadence(last_push=0.0, gaps=tuple(gaps)).interval == statistics.median(gaps)


def test_an_even_number_of_gaps_takes_the_mean_of_the_middle_two() -> None:
    assert Cadence(last_push=0.0, gaps=(60.0, 10.0, 30.0, 20.0)).interval == 25.0
