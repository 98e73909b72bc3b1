"""DynamoStore's raw chunks in both formats (docs/data-model.md, "Raw chunks"): items written in v1
before format v2 read back exactly beside v2 items, through `query_points` and through the numpy
array path (`summarise_arrays`), whose chart answers equal the decoding path's; histograms keep the
general path. On moto."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.history.test_daily_view_summaries import Plain
from tests.unit.test_chunk_format import v1_body
from vigil.adapters.store.chunks import minute_of, minute_prefix
from vigil.capabilities import ArraySummaryStore
from vigil.config import Config
from vigil.domain.records import Histogram, Point
from vigil.services.queries import plan_series, run_series

T0 = 1_764_028_800.0  # a UTC midnight
NOW = T0 + 86400 - 300


@pytest.fixture
def store(moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any) -> Any:
    return make_dynamo_store(moto_client, tables)


def put_v1_item(store: Any, host: str, points: list[Point], tag: str) -> None:
    """A chunk item as the store wrote it before v2 (the same attributes, a v1 `d`)."""
    minute = minute_of(min(p.ts for p in points))
    store.io.client.put_item(
        TableName=store.samples_table,
        Item={
            "pk": {"S": f"R#{host}"},
            "sk": {"S": f"{minute_prefix(minute)}#{tag:0>20}#0000"},
            "d": {"B": v1_body(points, minute)},
            "expires_at": {"N": str(math.ceil(max(p.ts for p in points) + 7 * 86400))},
            "r": {"N": str(max(p.ts for p in points))},
        },
    )


def minute_of_points(host: str, minute: int, value: float) -> list[Point]:
    return [
        Point(host, metric, labels, T0 + minute * 60 + 13.5, value + k)
        for k, (metric, labels) in enumerate(
            [("cpu", (("core", "0"),)), ("cpu", (("core", "1"),)), ("mem", ()), ("disk", (("dev", "sda"),))]
        )
    ]


def answers(store: Any, metric: str, agg: str, group_by: str | None, start: str = "-6h") -> None:
    """The chart answer from arrays equals the decoding path's (and the arrays path was taken)."""
    config = Config(retention_days=7)
    q = plan_series(
        config,
        NOW,
        metric=metric,
        host=None,
        labels=None,
        start=start,
        end="now",
        agg=agg,
        step="60s",
        group_by=group_by,
    )
    assert isinstance(store, ArraySummaryStore)
    assert store.summarise_arrays(metric, "raw", q.start, q.end, q.step, now=NOW) is not None
    fast = run_series(store, q, NOW, q.start, q.end)
    slow = run_series(Plain(store), q, NOW, q.start, q.end)
    assert fast["timestamps"] == slow["timestamps"]
    assert [(s["host"], s.get("labels")) for s in fast["series"]] == [
        (s["host"], s.get("labels")) for s in slow["series"]
    ]
    for a, b in zip(fast["series"], slow["series"], strict=True):
        assert [v is None for v in a["values"]] == [v is None for v in b["values"]]
        for x, y in zip(a["values"], b["values"], strict=True):
            if x is not None and y is not None:
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)


def test_v1_chunks_in_an_existing_table_read_back_exactly_beside_v2_chunks(store: Any) -> None:
    old = [p for m in range(0, 30) for p in minute_of_points("web-1", 1000 + m, float(m))]
    for m in range(30):  # as ingest wrote them before format v2: one item per minute
        put_v1_item(store, "web-1", old[4 * m : 4 * m + 4], f"v1{m}")
    new = [p for m in range(30, 60) for p in minute_of_points("web-1", 1000 + m, float(m))]
    store.put_samples("web-1", new, "v2-batch", NOW)
    got = list(store.query_points("cpu", T0, NOW, hosts=["web-1"], now=NOW))
    key = lambda p: (p.labels, p.ts)  # noqa: E731
    assert sorted(got, key=key) == sorted([p for p in old + new if p.metric == "cpu"], key=key)
    for agg in ("avg", "sum", "count", "min", "max"):
        answers(store, "cpu", agg, "host")
        answers(store, "cpu", agg, None)
        answers(store, "cpu", agg, "none")


def test_a_histogram_metric_is_left_to_the_general_path(store: Any) -> None:
    hist = Histogram((1.0, 5.0), (1, 2, 0), 7.5, 3, None, None)
    store.put_samples("web-1", [Point("web-1", "latency", (), NOW - 120, None, hist)], "h", NOW)
    assert store.summarise_arrays("latency", "raw", NOW - 3600, NOW, 60.0, now=NOW) is None
    assert store.summarise_arrays("latency", "1h", NOW - 3600, NOW, 60.0, now=NOW) is None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=5, max_size=40),
    hosts=st.integers(1, 3),
    resend=st.booleans(),
    agg=st.sampled_from(["avg", "sum", "count", "min", "max"]),
)
def test_chart_answers_from_chunk_arrays_equal_the_decoding_path(
    moto_client: Any, make_dynamo_store: Any, values: list[float], hosts: int, resend: bool, agg: str
) -> None:
    from tests.contract.conftest import _table_ids
    from vigil.adapters.store.dynamodb import create_tables

    names = (f"arr-s-{next(_table_ids)}", f"arr-m-{next(_table_ids)}")
    create_tables(moto_client, *names)
    store = make_dynamo_store(moto_client, names)
    gap = 5 * 3600 / len(values)
    for h in range(hosts):
        points = [
            Point(f"h{h}", "cpu", (("core", str(i % 2)),), NOW - 5 * 3600 + i * gap, v + h)
            for i, v in enumerate(values)
        ]
        store.put_samples(f"h{h}", points, f"b{h}", NOW)
        if resend:  # the same samples under another batch id: read once
            store.put_samples(f"h{h}", points[: len(points) // 2], f"again{h}", NOW)
    for group_by in ("host", "none", None):
        answers(store, "cpu", agg, group_by)
