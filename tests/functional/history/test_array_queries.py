"""The array path (`services.array_queries`: SQLite's `summarise_arrays`, blocks and head merged,
aggregated by numpy) gives the answer of the general path that decodes every sample and rollup (a store
without summaries), for raw 24 h and hourly 7-day views, per host and fleet-wide, with samples in
compacted blocks, in the head, and hourly rollups up to the job's watermark. Property-based."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.history.test_daily_view_summaries import DAY, RETENTION, T0, assert_same_as_decoding
from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain.models import Point
from vigil.services.queries import plan_series
from vigil.services.rollups import run_rollups


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=12, max_size=80),
    hosts=st.integers(1, 3),
    watermark_hours=st.integers(1, 40),
    compacted_hours=st.integers(0, 44),
    agg=st.sampled_from(["avg", "sum", "count", "min", "max"]),
)
def test_raw_and_hourly_views_from_arrays_equal_the_decoding_path(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[float],
    hosts: int,
    watermark_hours: int,
    compacted_hours: int,
    agg: str,
) -> None:
    path: Path = tmp_path_factory.mktemp("arrays") / "vigil.db"
    store = SqliteStore(path, RETENTION)
    now = T0 + 2 * DAY - 600
    span = now - T0
    for h in range(hosts):
        gap = span / len(values)
        points = [Point(f"h{h}", "cpu", (), T0 + (i + 0.5) * gap, v + h) for i, v in enumerate(values)]
        store.put_samples(f"h{h}", points, None, now)
    store.compact(T0 + compacted_hours * 3600)  # older blocks columnar, the rest still in the head
    run_rollups(store, T0 + watermark_hours * 3600 + 60, retention_seconds=RETENTION)
    config = Config(data_dir=tmp_path_factory.mktemp("cfg"), retention_days=7)
    for start, step in (("-24h", "60s"), ("-7d", "1h")):
        for group_by in ("none", "host", None):
            q = plan_series(
                config,
                now,
                metric="cpu",
                host=None,
                labels=None,
                start=start,
                end="now",
                agg=agg,
                step=step,
                group_by=group_by,
            )
            assert_same_as_decoding(store, q, now)
    store.close()
