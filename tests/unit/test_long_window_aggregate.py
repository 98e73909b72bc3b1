"""Property: a long window aggregated from hourly rollups of its whole hours plus raw points at its
edges (what `vigil.alerting.windows` reads) gives what the raw points alone give — exactly for
avg/min/max/sum/count and for histogram percentiles and rates (values are quarters, so float sums are
exact whatever the order)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import histograms
from vigil.domain.aggregate import GroupValue, aggregate
from vigil.domain.models import Point
from vigil.domain.rollups import rollup_points
from vigil.domain.rules import Rule

HOUR = 3600.0
START = 1_764_000_000.0 + 1234  # not on an hour: a partial hour at the head
END = START + 9 * HOUR + 600
FIRST = (START // HOUR) * HOUR + HOUR
LAST = (END // HOUR) * HOUR - HOUR  # the caller may leave more than the last partial hour raw

samples = st.lists(
    st.tuples(
        st.sampled_from(["web-1", "web-2", "db-1"]),
        st.integers(min_value=0, max_value=int(END - START)),
        st.integers(min_value=-400, max_value=400),
        st.sampled_from(["a", "b"]),
    ),
    min_size=1,
    max_size=120,
)


def split(points: list[Point]) -> tuple[list[Point], list[Point]]:
    edges = [p for p in points if p.ts < FIRST or p.ts >= LAST]
    middle = [p for p in points if FIRST <= p.ts < LAST]
    return edges, rollup_points(middle, "1h")


def values(result: dict[str, GroupValue]) -> dict[str, float | None]:
    return {k: v.value for k, v in result.items()}


@settings(max_examples=60, deadline=None)
@given(samples, st.sampled_from(["avg", "min", "max", "sum", "count"]), st.booleans())
def test_plain_values_from_rollups_and_edges_equal_raw(rows: list, agg: str, per_host: bool) -> None:
    points = [Point(h, "m", (("k", k),), START + t, v / 4) for h, t, v, k in rows]
    rule = Rule(name="x", metric="m", agg=agg, window=END - START, group_by=["host"] if per_host else [])
    edges, rollups = split(points)
    got = aggregate(rule, edges, START, END, rollups)
    assert values(got) == values(aggregate(rule, points, START, END))


@settings(max_examples=40, deadline=None)
@given(samples, st.sampled_from(["p50", "p95", "p99", "avg", "count", "rate"]))
def test_histogram_percentiles_and_rates_from_rollups_and_edges_equal_raw(rows: list, agg: str) -> None:
    points = [
        Point(h, "lat", (), START + t, None, histograms.from_values([abs(v) / 512, 0.25], (0.1, 0.5, 1.0)))
        for h, t, v, _ in rows
    ]
    rule = Rule(name="x", metric="lat", agg=agg, window=END - START)
    edges, rollups = split(points)
    assert values(aggregate(rule, edges, START, END, rollups)) == values(aggregate(rule, points, START, END))


def test_a_group_seen_only_in_rollups_is_a_group() -> None:
    rule = Rule(name="x", metric="m", agg="count", window=END - START)
    middle = [Point("web-9", "m", (), FIRST + 10, 1.0), Point("web-9", "m", (), FIRST + 20, 2.0)]
    got = aggregate(rule, [], START, END, rollup_points(middle, "1h"))
    assert values(got) == {"host=web-9": 2.0}
