"""One contract for every `TraceStore`: SQLite (a real file) and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from vigil.adapters.store.dynamodb_io import create_tables
from vigil.adapters.store.dynamodb_traces import DynamoTraceStore
from vigil.adapters.store.sqlite_traces import SqliteTraceStore
from vigil.domain.traces import TRACE_TTL_SECONDS, Span, SpanEvent
from vigil.ports import TraceStore

NOW = 1_764_190_000.0


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TraceStore]:
    if request.param == "sqlite":
        sqlite = SqliteTraceStore(tmp_path / "vigil.sqlite3")
        yield sqlite
        sqlite.close()
        return
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        create_tables(client, "t-samples", "t-meta")
        yield DynamoTraceStore("t-samples", client=client)


def span(
    trace: str,
    sid: str,
    parent: str | None,
    start: float,
    ms: float,
    *,
    service: str = "shop",
    route: str | None = None,
    status: str = "unset",
    http: int | None = None,
) -> Span:
    return Span(
        trace_id=trace * 32 if len(trace) == 1 else trace,
        span_id=sid * 16 if len(sid) == 1 else sid,
        parent_span_id=(parent * 16 if parent and len(parent) == 1 else parent),
        name=f"op-{sid}",
        kind="server" if parent is None else "internal",
        service=service,
        host="web-1",
        start=start,
        end=start + ms / 1000,
        duration_ms=ms,
        status_code=status,
        attributes={"n": 1, "s": "x"},
        events=(SpanEvent("exception", start, {"exception.type": "E"}),),
        route=route,
        http_status_code=http,
    )


def test_store_implements_the_port(store: TraceStore) -> None:
    assert isinstance(store, TraceStore)


def test_spans_round_trip_with_parent_links_attributes_and_events(store: TraceStore) -> None:
    root = span("a", "1", None, NOW, 250.0, route="/orders/{id}", http=200)
    child = span("a", "2", "1", NOW + 0.01, 30.0)
    store.put_spans([child], NOW)  # the child usually arrives first
    store.put_spans([root, child], NOW)  # and a retried export repeats it
    assert store.get_trace("a" * 32, now=NOW) == [root, child]
    [summary] = store.list_traces(now=NOW)
    assert (summary.trace_id, summary.name, summary.route, summary.span_count, summary.has_root) == (
        "a" * 32,
        "op-1",
        "/orders/{id}",
        2,
        True,
    )
    assert summary.duration_ms == 250.0 and summary.start == NOW and not summary.error


def test_list_filters_by_service_route_status_duration_and_time_newest_first(store: TraceStore) -> None:
    store.put_spans(
        [
            span("a", "1", None, NOW - 300, 100.0, route="/a"),
            span("b", "1", None, NOW - 200, 900.0, route="/b", status="error"),
            span("c", "1", None, NOW - 100, 50.0, route="/a", service="billing", http=503),
            span("d", "1", None, NOW - 2 * 86400, 10.0, route="/a"),  # an earlier day
        ],
        NOW,
    )

    def ids(**kw: object) -> list[str]:
        return [t.trace_id[0] for t in store.list_traces(now=NOW, **kw)]  # type: ignore[arg-type]

    assert ids() == ["c", "b", "a", "d"]
    assert ids(limit=2) == ["c", "b"]
    assert ids(service="shop") == ["b", "a", "d"]
    assert ids(route="/a") == ["c", "a", "d"]
    assert ids(status="error") == ["c", "b"]
    assert ids(status="ok") == ["a", "d"]
    assert ids(min_duration_ms=100.0) == ["b", "a"]
    assert ids(start=NOW - 250, end=NOW - 150) == ["b"]


def test_expired_traces_are_hidden_and_unknown_ids_are_empty(store: TraceStore) -> None:
    store.put_spans([span("e", "1", None, NOW, 5.0)], NOW)
    later = NOW + TRACE_TTL_SECONDS + 1
    assert store.get_trace("e" * 32, now=later) == []
    assert store.list_traces(now=later, start=0.0) == []
    assert store.get_trace("f" * 32, now=NOW) == []
    removed = store.purge_expired(later)
    if isinstance(store, SqliteTraceStore):  # DynamoDB leaves deletion to its TTL (returns 0)
        assert removed == 1 and store.get_trace("e" * 32, now=NOW) == []
    else:
        assert removed == 0
