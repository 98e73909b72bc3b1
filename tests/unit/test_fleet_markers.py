"""The fleet job's late-minute markers: one document per run of consecutive late minutes, read back
as exactly the minutes that were late (`fleet.late_fleet_markers`, `marker_minutes`, `marker_id`)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from vigil.services.fleet import (
    DIRTY_KIND,
    MINUTE,
    late_fleet_markers,
    marker_id,
    marker_minutes,
    settled_until,
)

NOW = 1_764_100_000.0
T0 = 1_764_028_800.0


@given(st.lists(st.floats(min_value=T0, max_value=NOW, allow_nan=False), max_size=300))
def test_the_markers_name_exactly_the_late_minutes_once_each(times: list[float]) -> None:
    late = {(t // MINUTE) * MINUTE for t in times if t < settled_until(NOW)}
    docs = late_fleet_markers(times, NOW)
    named = [m for _, _, doc in docs for m in marker_minutes(doc, -float("inf"), float("inf"))]
    assert sorted(named) == sorted(late)  # every late minute, none twice, nothing else
    assert all(kind == DIRTY_KIND and doc_id == marker_id(doc) for kind, doc_id, doc in docs)
    assert len({doc_id for _, doc_id, _ in docs}) == len(docs)
    # no two markers could have been one: a gap separates each from the next
    spans = [(doc["minute"], doc.get("until", doc["minute"] + MINUTE)) for _, _, doc in docs]
    assert all(a[1] < b[0] for a, b in pairwise(spans))


def test_a_back_filled_batch_of_100_minutes_is_one_marker_and_a_lone_minute_keeps_the_old_form() -> None:
    backfill = [T0 + 60 * m + s for m in range(100) for s in (0, 30)]
    docs = late_fleet_markers([*backfill, T0 + 60 * 200], NOW)
    assert docs == [
        (DIRTY_KIND, f"{int(T0)}-{int(T0 + 6000)}", {"minute": T0, "until": T0 + 6000}),
        (DIRTY_KIND, str(int(T0 + 12000)), {"minute": T0 + 12000}),
    ]


def test_a_marker_is_read_within_the_asked_window_only() -> None:
    doc = {"minute": T0, "until": T0 + 600, "_version": 3}
    assert marker_minutes(doc, T0 + 90, T0 + 300) == [T0 + 120, T0 + 180, T0 + 240]
    assert marker_minutes({"minute": T0}, T0, T0 + 60) == [T0]  # a marker stored before ranges
    assert marker_minutes({"minute": T0}, T0 + 1, T0 + 60) == []


def test_a_requests_hosts_share_one_marker_per_run_of_their_late_minutes() -> None:
    """Three hosts late over overlapping minutes: one fleet marker for the run they cover together,
    and each host its own hour marker (`rollups.late_batch_markers`, what ingest writes)."""
    from vigil.domain.series_batch import HostBatch, SeriesSamples
    from vigil.services.rollups import late_batch_markers

    def batch(host: str, minutes: range) -> HostBatch:
        ts = [T0 + 60 * m + 5 for m in minutes]
        return HostBatch(host, [SeriesSamples("cpu", (), ts, [0.5] * len(ts))])

    docs = late_batch_markers(
        [batch("a", range(0, 5)), batch("b", range(3, 9)), batch("c", range(9, 10))], NOW
    )
    fleet = [d for d in docs if d[0] == DIRTY_KIND]
    assert fleet == [(DIRTY_KIND, f"{int(T0)}-{int(T0 + 600)}", {"minute": T0, "until": T0 + 600})]
    hours = sorted(doc_id for kind, doc_id, _ in docs if kind != DIRTY_KIND)
    assert hours == [f"{int(T0)}|a", f"{int(T0)}|b", f"{int(T0)}|c"]  # hour first: `rollups.marker_id`
