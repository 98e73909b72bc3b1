"""`POST /api/v1/write` (Prometheus remote-write) through the real gateway and metrics handler, on
both stores (SQLite file; DynamoDB on moto), and once over loopback HTTP from a real local server:
series land under the host the `host`/`instance` label names, a retried request is stored once, a
request Vigil cannot hold is refused whole with a 4xx naming the series, and only ingest keys get in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import cramjam
import pytest
import requests

from tests.both_stores import STORES, app_on
from tests.conftest import FrozenClock
from tests.prom_wire import HEADERS, STALE_NAN, series, write_request
from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.local.server import LocalServer
from vigil.wiring import AppContext


@pytest.fixture(params=STORES)
def ctx(request: pytest.FixtureRequest, config: Config, clock: FrozenClock) -> Iterator[AppContext]:
    """The shared fixtures' app, on SQLite or on a DynamoStore over moto (this module only)."""
    with app_on(request, config, clock) as context:
        yield context


def node_cpu(host_labels: dict[str, str], ts_ms: int, *values: float, mode: str = "user") -> bytes:
    labels = {"__name__": "node_cpu_seconds_total", **host_labels, "job": "node", "cpu": "0", "mode": mode}
    return series(labels, [(ts_ms + 15_000 * i, v) for i, v in enumerate(values)])


def stored(admin: GatewayClient, host: str, metric: str = "node_cpu_seconds_total") -> dict[str, Any]:
    """Count and sum of `metric` on `host` over the last hour, per label set."""
    out: dict[str, Any] = {}
    for agg in ("count", "sum"):
        params = {"metric": metric, "host": host, "from": "-1h", "step": "3600", "agg": agg}
        for s in json_of(admin.get("/api/metrics/series", params=params))["series"]:
            key = ",".join(f"{k}={v}" for k, v in sorted(s["labels"].items()))
            out.setdefault(key, {})[agg] = sum(v for v in s["values"] if v is not None)
    return out


def test_series_land_under_the_instance_host_and_a_retried_request_is_stored_once(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    now_ms = int(clock.now() * 1000) - 60_000
    body = write_request(
        node_cpu({"instance": "web-1:9100"}, now_ms, 1.0, 2.5, 4.0),
        node_cpu({"host": "db-1", "instance": "10.0.0.7:9100"}, now_ms, 7.0, mode="idle"),
    )
    first = ingest.post("/api/v1/write", body=body, headers=HEADERS)
    clock.advance(30)
    retry = ingest.post("/api/v1/write", body=body, headers=HEADERS)
    assert (first.status, first.body, retry.status) == (204, b"", 204)
    assert stored(admin, "web-1") == {"cpu=0,job=node,mode=user": {"count": 3, "sum": 7.5}}
    assert stored(admin, "db-1") == {
        "cpu=0,instance=10.0.0.7:9100,job=node,mode=idle": {"count": 1, "sum": 7.0}
    }


def test_stale_markers_nan_and_samples_past_retention_are_skipped_and_the_rest_stored(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock, config: Config
) -> None:
    now_ms = int(clock.now() * 1000) - 60_000
    too_old = int((clock.now() - config.retention_seconds - 60) * 1000)
    labels = {"__name__": "http_up", "instance": "web-2:8080"}
    body = write_request(
        series(labels, [(too_old, 1.0), (now_ms, float("nan")), (now_ms + 1, STALE_NAN), (now_ms + 2, 1.0)])
    )
    assert ingest.post("/api/v1/write", body=body, headers=HEADERS).status == 204
    assert stored(admin, "web-2", "http_up") == {"": {"count": 1, "sum": 1.0}}


BAD: dict[str, tuple[Callable[[int], bytes], str, str]] = {
    "no-name": (lambda ms: series({"instance": "web-3:1"}, [(ms, 1.0)]), "labels.__name__", "metric name"),
    "no-host": (lambda ms: series({"__name__": "up"}, [(ms, 1.0)]), "labels", "no `host` or `instance`"),
    "11-labels": (
        lambda ms: series(
            {"__name__": "up", "host": "web-3", **{f"l{i}": "x" for i in range(11)}}, [(ms, 1.0)]
        ),
        "labels",
        "at most 10",
    ),
    "native-histogram": (
        lambda ms: series({"__name__": "up", "host": "web-3"}, [(ms, 1.0)], native_histograms=1),
        "histograms",
        "send_native_histograms",
    ),
    "future": (
        lambda ms: series({"__name__": "up", "host": "web-3"}, [(ms + 3_600_000, 1.0)]),
        "samples.timestamp",
        "future",
    ),
    "percent-as-ratio": (
        lambda ms: series({"__name__": "system.cpu.utilization", "host": "web-3"}, [(ms, 85.0)]),
        "samples.value",
        "ratio",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_request_vigil_cannot_hold_is_refused_whole_naming_the_series(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock, case: str
) -> None:
    make, field, says = BAD[case]
    now_ms = int(clock.now() * 1000) - 60_000
    good = node_cpu({"instance": "web-3:9100"}, now_ms, 1.0)
    response = ingest.post("/api/v1/write", body=write_request(good, make(now_ms)), headers=HEADERS)
    error = json_of(response)["error"]
    assert (response.status, error["field"]) == (400, f"timeseries[1].{field}")
    assert says in error["message"]
    assert stored(admin, "web-3") == {}  # the good series of the same request was not written


def test_only_an_ingest_key_may_write(
    anonymous: GatewayClient, viewer: GatewayClient, admin: GatewayClient
) -> None:
    body = write_request(node_cpu({"instance": "web-4:9100"}, 0, 1.0))
    assert anonymous.post("/api/v1/write", body=body, headers=HEADERS).status == 401
    assert viewer.post("/api/v1/write", body=body, headers=HEADERS).status in (401, 403)
    assert admin.post("/api/v1/write", body=body, headers=HEADERS).status in (401, 403)


def test_a_real_server_takes_remote_write_over_loopback_http(tmp_path: Any) -> None:
    config = Config(data_dir=tmp_path / "vigil", admin_token="prom-admin")
    with LocalServer(config, port=0, agent=False) as server:
        key = requests.post(
            f"{server.url}/api/keys",
            json={"name": "prometheus"},
            headers={"Authorization": "Bearer prom-admin"},
            timeout=10,
        ).json()["key"]
        body = write_request(node_cpu({"instance": "web-5:9100"}, int(time.time() * 1000) - 5_000, 3.0))
        answer = requests.post(
            f"{server.url}/api/v1/write",
            data=body,
            headers={**HEADERS, "Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert (answer.status_code, answer.content) == (204, b"")
        params = {
            "metric": "node_cpu_seconds_total",
            "host": "web-5",
            "from": "-1h",
            "step": "3600",
            "agg": "sum",
        }
        got = requests.get(
            f"{server.url}/api/metrics/series",
            params=params,
            headers={"Authorization": "Bearer prom-admin"},
            timeout=10,
        ).json()
        assert [v for s in got["series"] for v in s["values"] if v] == [3.0]


def test_an_empty_write_request_is_a_204_with_no_body_and_no_undocumented_content_type(
    ingest: GatewayClient,
) -> None:
    # A WriteRequest with no series (snappy of zero bytes: the fuzzer's b"\x00") stores nothing and
    # succeeds; a 204 carries no body, so it names no content type (the API fuzzer's ST105).
    answer = ingest.post("/api/v1/write", body=b"\x00", headers=HEADERS)
    assert (answer.status, answer.body) == (204, b"")
    assert "content-type" not in {k.lower() for k in answer.headers}


def test_a_body_protobuf_calls_corrupt_is_a_400_naming_the_body_not_an_empty_write(
    ingest: GatewayClient,
) -> None:
    # A field numbered 0 (bytes 00 00 inflated) is no WriteRequest: the fast reader once skipped it as
    # an unknown field and answered 204 as for an empty request.
    corrupt = bytes(cramjam.snappy.compress_raw(b"\x00\x00"))
    answer = ingest.post("/api/v1/write", body=corrupt, headers=HEADERS)
    error = json_of(answer)["error"]
    assert (answer.status, error["field"]) == (400, "body")
    assert "not a remote-write WriteRequest" in error["message"]
