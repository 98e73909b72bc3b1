"""Late-sample markers (`rollups.marker_id`) on both stores: filed hour first, so a back-filling
request's hosts' markers sit together, and a marker written host first by an older Vigil (no `id` in
its body) is still honoured and cleared by the next run."""

from __future__ import annotations

from typing import Any

from vigil.capabilities import put_series_batches
from vigil.domain.series_batch import HostBatch, SeriesSamples
from vigil.services.rollups import DIRTY_KIND, late_batch_markers, run_rollups

HOUR = 3600.0
T0 = 1_764_007_200.0  # an hour boundary
RETENTION = 7 * 86400.0


def hourly_max(store: Any, host: str, now: float) -> float:
    (rollup,) = store.query_rollups("cpu", "1h", T0, T0, hosts=[host], now=now)
    return float(rollup.max)


def test_late_markers_are_filed_hour_first_and_an_older_host_first_marker_is_still_honoured(
    store: Any,
) -> None:
    first = [HostBatch(h, [SeriesSamples("cpu", (), [T0 + 60], [1.0])]) for h in ("a", "b")]
    put_series_batches(store, first, T0 + 120)
    now = T0 + 5 * HOUR
    run_rollups(store, now, retention_seconds=RETENTION)  # hour T0 is rolled up: later samples are late
    late = [HostBatch("a", [SeriesSamples("cpu", (), [T0 + 600], [7.0])])]
    put_series_batches(store, late, now, lambda stored: late_batch_markers(stored, now))
    (marker,) = store.list_docs(DIRTY_KIND)
    assert marker["id"] == f"{int(T0)}|a" and store.get_doc(DIRTY_KIND, f"{int(T0)}|a") is not None
    # host b's late sample, marked as a Vigil before hour-first ids did
    put_series_batches(store, [HostBatch("b", [SeriesSamples("cpu", (), [T0 + 600], [9.0])])], now)
    store.put_doc(DIRTY_KIND, f"b|{int(T0)}", {"host": "b", "hour": T0})
    later = now + HOUR
    assert run_rollups(store, later, retention_seconds=RETENTION)["markers_cleared"] == 2
    assert store.list_docs(DIRTY_KIND) == []
    assert (hourly_max(store, "a", later), hourly_max(store, "b", later)) == (7.0, 9.0)
