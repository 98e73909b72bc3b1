"""Several aggregations of one read of rollups (the overview's p50, p95, p99 and rate): each answer is
the one its own build gives, from records merged into the buckets once, not once per aggregation."""

from __future__ import annotations

import pytest

from vigil.domain import histograms, series_rollups
from vigil.domain.records import Point
from vigil.domain.rollups import rollup_points

AGGS = ("p50", "p95", "p99", "rate", "count", "avg")


def records() -> list[object]:
    points = [
        Point(
            f"web-{h}",
            "http.server.request.duration",
            (("route", str(r)),),
            1_000_020.0 + 60 * m + 7 * h,
            None,
            histograms.from_values([0.01 * (h + 1), 0.02 * (m % 5 + 1), 0.3 + 0.1 * r]),
        )
        for h in range(4)
        for r in range(2)
        for m in range(30)
    ]
    return list(rollup_points(points, "1m"))


@pytest.mark.parametrize("group_by", [[], ["host"], None])
def test_each_aggregation_equals_its_own_build_and_the_records_are_merged_once(
    group_by: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = records()
    kw = {"start": 1_000_000.0, "end": 1_001_800.0, "step": 300.0, "group_by": group_by}
    alone = [series_rollups.build_series_from_rollups(found, agg=a, **kw) for a in AGGS]  # type: ignore[arg-type]
    made: list[object] = []
    to_acc = series_rollups.to_acc
    monkeypatch.setattr(series_rollups, "to_acc", lambda r: made.append(r) or to_acc(r))
    together = series_rollups.build_aggs_from_rollups(found, AGGS, **kw)  # type: ignore[arg-type]
    assert together == alone
    assert len(made) == len(found)
