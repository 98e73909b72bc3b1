"""The OTLP ingest use cases against real SQLite stores: what an export leaves behind."""

from __future__ import annotations

import json
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse

from vigil.adapters.otlp.state import MemoryCumulativeState
from vigil.adapters.store.sqlite import SqliteStore
from vigil.adapters.store.sqlite_traces import SqliteTraceStore
from vigil.config import Config
from vigil.services.otlp import ingest_otlp_metrics, ingest_otlp_traces

NOW = 1_764_190_000.0
NS = int(NOW * 1e9)
TRACE = "5b8efff798038103d269b633813fc60c"


def traces_json() -> bytes:
    span = {
        "traceId": TRACE,
        "spanId": "eee19b7ec3c1b174",
        "name": "POST /pay",
        "kind": 2,
        "startTimeUnixNano": str(NS - 120_000_000),
        "endTimeUnixNano": str(NS),
        "attributes": [
            {"key": "http.route", "value": {"stringValue": "/pay"}},
            {"key": "http.response.status_code", "value": {"intValue": "502"}},
        ],
        "status": {"code": 2, "message": "upstream"},
        "events": [
            {
                "name": "exception",
                "timeUnixNano": str(NS - 1000),
                "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
                    {
                        "key": "exception.message",
                        "value": {"stringValue": "gateway 10.0.0.7 timed out after 30s"},
                    },
                ],
            }
        ],
    }
    bad = {**span, "spanId": "0000000000000000"}
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [
                            {"key": "service.name", "value": {"stringValue": "shop"}},
                            {"key": "host.name", "value": {"stringValue": "web-1"}},
                        ]
                    },
                    "scopeSpans": [{"spans": [span, bad]}],
                }
            ]
        }
    ).encode()


def test_a_trace_export_stores_spans_errors_and_api_metrics(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path)
    store = SqliteStore(config.sqlite_path, config.retention_seconds)
    traces = SqliteTraceStore(config.sqlite_path)
    body, ctype = ingest_otlp_traces(store, traces, config, traces_json(), "application/json", None, NOW)
    assert ctype == "application/json"
    assert json.loads(body)["partialSuccess"]["rejectedSpans"] == "1"
    [span] = traces.get_trace(TRACE, now=NOW)
    assert (span.duration_ms, span.http_status_code, span.status_code) == (120.0, 502, "error")
    [summary] = traces.list_traces(status="error", now=NOW)
    assert summary.trace_id == TRACE
    [group] = store.list_error_groups(since=0)
    assert (group.type, group.count, group.last_trace_id) == ("TimeoutError", 1, TRACE)
    errors = list(store.query_points("http.server.error.count", NOW - 60, NOW + 60, now=NOW))
    assert [(p.host, p.value, dict(p.labels)) for p in errors] == [
        ("web-1", 1.0, {"http.route": "/pay", "service": "shop"})
    ]


def test_a_metrics_export_over_the_series_limit_is_rejected_per_host_not_whole(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, max_series_per_host=1)
    store = SqliteStore(config.sqlite_path, config.retention_seconds)
    points = [
        {
            "asDouble": 1.0,
            "timeUnixNano": str(NS),
            "attributes": [{"key": "cpu", "value": {"stringValue": str(i)}}],
        }
        for i in range(3)
    ]
    body = json.dumps(
        {
            "resourceMetrics": [
                {
                    "resource": {"attributes": [{"key": "host.name", "value": {"stringValue": h}}]},
                    "scopeMetrics": [{"metrics": [{"name": "cpu.util", "gauge": {"dataPoints": pts}}]}],
                }
                for h, pts in (("big", points), ("small", points[:1]))
            ]
        }
    ).encode()
    out, ctype = ingest_otlp_metrics(
        store, config, MemoryCumulativeState(NOW), body, "application/json", None, NOW
    )
    assert ctype == "application/json"
    response = ExportMetricsServiceResponse()
    json_format.Parse(out, response)
    assert response.partial_success.rejected_data_points == 3
    assert "cardinality" in response.partial_success.error_message
    assert {p.host for p in store.query_points("cpu.util", NOW - 1, NOW + 1, now=NOW)} == {"small"}
