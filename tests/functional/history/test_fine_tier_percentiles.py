"""The 24 h percentile path — 5-minute fine-tier rollups up to the rollup job's watermark, raw samples
after it, histograms merged by SQLite per step bucket (`summarise_histograms`) or decoded from the tier
(`query_rollups`) — answers exactly what merging every raw histogram answers (`build_series` over the
points), for several aggregations at once, fleet-wide and per series. Property-based over random
histograms (two bound sets), hosts and watermark hours; a plain value sends the query back to raw."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.series import build_series
from vigil.services.queries import plan_series, run_series
from vigil.services.rollups import run_rollups

HOUR = 3600.0
T0 = 1_764_028_800.0  # a UTC midnight
NOW = T0 + 30 * HOUR + 1234
RETENTION = 7 * 86400.0
METRIC = "http.server.request.duration"
COARSE = (0.01, 0.1, 1.0)  # a subset of the default bounds: merging coarsens, never splits


class Decoding:
    """The same store without `summarise_histograms`: the fine tier is decoded record by record."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "summarise_histograms":
            raise AttributeError(name)
        return getattr(self._store, name)


def _store(tmp: pytest.TempPathFactory, hosts: int, latencies: list[float], coarse_host: bool) -> SqliteStore:
    store = SqliteStore(tmp.mktemp("fine") / "vigil.db", RETENTION)
    span = 26 * HOUR  # a bit more than the 24 h asked for
    for h in range(hosts):
        bounds = COARSE if coarse_host and h == 0 else histograms.DEFAULT_LATENCY_BOUNDS
        step = span / len(latencies)
        points = [
            Point(
                f"h{h}",
                METRIC,
                (),
                NOW - span + (i + 0.5) * step,
                None,
                histograms.from_values([v * (h + 1), v / 2], bounds),
            )
            for i, v in enumerate(latencies)
        ]
        store.put_samples(f"h{h}", points, None, NOW)
    return store


def _query(agg: str, group_by: str | None, tmp: Path) -> Any:
    config = Config(data_dir=tmp, retention_days=7)
    return plan_series(
        config,
        NOW,
        metric=METRIC,
        host=None,
        labels=None,
        start="-24h",
        end="now",
        agg=agg,
        step=None,
        group_by=group_by,
    )


def _truth(store: SqliteStore, q: Any, agg: str) -> Any:
    points = store.query_points(METRIC, q.start, q.end, now=NOW)
    return build_series(points, start=q.start, end=q.end, step=q.step, agg=agg, group_by=q.group_by)


def _same(x: float | None, y: float | None) -> bool:
    return (x is None and y is None) or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    latencies=st.lists(st.floats(0.0005, 20.0, allow_nan=False), min_size=20, max_size=120),
    hosts=st.integers(1, 3),
    watermark_hours=st.integers(0, 26),
    coarse_host=st.booleans(),
)
def test_fine_tier_percentiles_equal_merging_every_raw_histogram(
    tmp_path_factory: pytest.TempPathFactory,
    latencies: list[float],
    hosts: int,
    watermark_hours: int,
    coarse_host: bool,
) -> None:
    store = _store(tmp_path_factory, hosts, latencies, coarse_host)
    run_rollups(store, NOW - 26 * HOUR + watermark_hours * HOUR, retention_seconds=RETENTION)
    aggs = ["p50", "p95", "p99", "rate", "avg", "max"]
    for group_by in ("none", None):
        q = _query(",".join(aggs), group_by, tmp_path_factory.mktemp("cfg"))
        assert (q.step, q.resolution) == (300.0, "5m")  # 24 h of percentiles: 288 five-minute points
        for reader in (store, Decoding(store)):
            got = run_series(reader, q, NOW, q.start, q.end)
            assert got["resolution"] == "5m"
            assert got["agg"] == ",".join(aggs)
            for agg in aggs:
                want = _truth(store, q, agg)
                mine = [s for s in got["series"] if s["agg"] == agg]
                assert got["timestamps"] == want["timestamps"]
                assert [(s["host"], s["labels"]) for s in mine] == [
                    (s["host"], s["labels"]) for s in want["series"]
                ]
                for a, b in zip(mine, want["series"], strict=True):
                    assert all(_same(x, y) for x, y in zip(a["values"], b["values"], strict=True)), agg


def test_a_plain_value_sends_a_fine_tier_query_back_to_raw(tmp_path_factory: pytest.TempPathFactory) -> None:
    store = _store(tmp_path_factory, 2, [0.1, 0.2, 0.3, 0.4] * 10, False)
    store.put_samples("h9", [Point("h9", METRIC, (), NOW - 20 * HOUR, 0.7)], None, NOW)
    run_rollups(store, NOW, retention_seconds=RETENTION)
    q = _query("p95", "none", tmp_path_factory.mktemp("cfg"))
    assert q.resolution == "5m"
    for reader in (store, Decoding(store)):
        got = run_series(reader, q, NOW, q.start, q.end)
        assert got["resolution"] == "raw"
        assert got["series"][0]["values"] == _truth(store, q, "p95")["series"][0]["values"]


def test_hours_with_unprocessed_late_samples_are_read_from_raw(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store = _store(tmp_path_factory, 1, [0.1, 0.2, 0.3, 0.4] * 10, False)
    run_rollups(store, NOW, retention_seconds=RETENTION)
    late = Point("h0", METRIC, (), NOW - 10 * HOUR + 7, None, histograms.from_values([9.0, 9.5]))
    store.put_samples("h0", [late], "late", NOW)
    from vigil.services.rollups import note_late_samples

    assert note_late_samples(store, "h0", [late], NOW) == 1
    q = _query("max", "none", tmp_path_factory.mktemp("cfg"))
    got = run_series(store, q, NOW, q.start, q.end)
    assert max(v for v in got["series"][0]["values"] if v is not None) == 9.5
    assert got["resolution"] == "raw"
