"""The daily view's SQL-side path (`queries._rollup_records` with `SqliteStore.summarise` for the whole
days, the watermark's partial day from its hourly rows, and the raw hours after the watermark) gives
the same answer as the general path that decodes every rollup and raw sample (a store without
`summarise`). Property-based over random values, hosts and watermark hours."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain.models import Point
from vigil.services.queries import plan_series, run_series
from vigil.services.rollups import run_rollups

DAY = 86400.0
T0 = 1_764_028_800.0  # a UTC midnight
RETENTION = 7 * DAY


class Plain:
    """The same store without summaries (`summarise`, `summarise_arrays`): queries take the general
    (decoding) path."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in ("summarise", "summarise_arrays"):
            raise AttributeError(name)
        return getattr(self._store, name)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=12, max_size=60),
    hosts=st.integers(1, 3),
    watermark_hours=st.integers(1, 47),
    agg=st.sampled_from(["avg", "sum", "count", "min", "max"]),
)
def test_daily_fleet_view_from_sql_summaries_equals_the_decoding_path(
    tmp_path_factory: pytest.TempPathFactory, values: list[float], hosts: int, watermark_hours: int, agg: str
) -> None:
    path: Path = tmp_path_factory.mktemp("daily") / "vigil.db"
    store = SqliteStore(path, RETENTION)
    now = T0 + 2 * DAY + 1800  # mid-way through the third day
    span = now - T0
    for h in range(hosts):
        gap = span / len(values)
        points = [Point(f"h{h}", "cpu", (), T0 + (i + 0.5) * gap, v + h) for i, v in enumerate(values)]
        store.put_samples(f"h{h}", points, None, now)
    # the job ran up to some hour: before it, rollups; after it, raw samples only
    run_rollups(store, T0 + watermark_hours * 3600 + 60, retention_seconds=RETENTION)
    config = Config(data_dir=tmp_path_factory.mktemp("cfg"), retention_days=7)
    for group_by in ("none", None):
        q = plan_series(
            config,
            now,
            metric="cpu",
            host=None,
            labels=None,
            start="-30d",
            end="now",
            agg=agg,
            step="1d",
            group_by=group_by,
        )
        assert q.resolution == "1d"
        assert_same_as_decoding(store, q, now)
    store.close()


def assert_same_as_decoding(store: SqliteStore, q: Any, now: float) -> None:
    """`q` answered by `store` equals its answer through the general (decoding) path."""
    fast = run_series(store, q, now, q.start, q.end)
    slow = run_series(Plain(store), q, now, q.start, q.end)
    assert fast["timestamps"] == slow["timestamps"]
    assert [s["host"] for s in fast["series"]] == [s["host"] for s in slow["series"]]
    for a, b in zip(fast["series"], slow["series"], strict=True):
        for x, y in zip(a["values"], b["values"], strict=True):
            assert (x is None) == (y is None)
            if x is not None and y is not None:
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
