"""Inputs that used to be 500s are 4xx naming the field, over real HTTP through the local server: bodies
nested ~1,000 deep, extreme query bounds, values near the float maximum (one behaviour for the series
API and the export), Content-Encodings we do not decode, and gzip on `/v1/samples` with bounded
inflation. Plus a property test of the one JSON parse every JSON route goes through."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.api.app import MAX_JSON_DEPTH, parse_json_body
from vigil.config import Config
from vigil.domain.errors import Invalid
from vigil.domain.limits import MAX_BODY_BYTES
from vigil.local.server import LocalServer


class Api:
    def __init__(self, server: LocalServer) -> None:
        self.url = server.url
        self.admin = {"Authorization": f"Bearer {server.admin_token}"}
        created = requests.post(
            f"{self.url}/api/keys", json={"name": "hostile"}, headers=self.admin, timeout=5
        )
        self.ingest = {"Authorization": f"Bearer {created.json()['key']}"}

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(
            f"{self.url}{path}",
            data=body,
            headers={**self.admin, "Content-Type": "application/json", **(headers or {})},
            timeout=10,
        )

    def samples(self, body: bytes, **headers: str) -> requests.Response:
        return self.post("/v1/samples", body, {**self.ingest, **headers})

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", params=params, headers=self.admin, timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    config = Config(data_dir=tmp_path_factory.mktemp("hostile"), admin_token="hostile-admin")
    with LocalServer(config, port=0, agent=False) as server:
        yield Api(server)


def batch(*samples: dict[str, Any], host: str = "web-1") -> bytes:
    return json.dumps({"host": host, "samples": list(samples)}).encode()


def error_of(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
DEEP_FIELD = b'{"host": "web-1", "samples": ' + DEEP_ARRAY + b"}"


@pytest.mark.parametrize(
    "path", ["/v1/samples", "/v1/errors", "/api/keys", "/api/dashboards", "/api/alerts/rules"]
)
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_FIELD], ids=["top-level", "in-a-field"])
def test_a_body_nested_a_thousand_deep_is_a_400_naming_the_body(api: Api, path: str, body: bytes) -> None:
    response = api.post(path, body, api.ingest if path.startswith("/v1/") else None)
    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "body" and "nests deeper" in error_of(response)["message"]


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth - 1):
        value = [value] if i % 2 else {"k": value}
    return [value]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    )
)
@settings(max_examples=200, deadline=None)
def test_the_one_json_parse_reads_any_shallow_document_as_json_does(value: Any) -> None:
    text = json.dumps(value)
    assert parse_json_body(text) == json.loads(text)


def test_the_one_json_parse_draws_the_line_at_the_depth_limit() -> None:
    assert parse_json_body(json.dumps(nested(MAX_JSON_DEPTH))) == nested(MAX_JSON_DEPTH)
    with pytest.raises(Invalid) as caught:
        parse_json_body(json.dumps(nested(MAX_JSON_DEPTH + 1)))
    assert caught.value.field == "body"


@pytest.mark.parametrize("path", ["/api/metrics/series", "/api/export"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "-1e308", "to": "1e308"}, "from"),
        ({"from": "-1h", "to": "1e308"}, "to"),
        ({"from": "-99999999999999999999h"}, "from"),
        ({"from": "-1h", "to": "now+9999999999w"}, "to"),
    ],
)
def test_extreme_query_bounds_are_a_400_naming_the_field(
    api: Api, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(path, metric="system.cpu.utilization", **params)
    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == field


def test_values_whose_sums_could_overflow_are_refused_at_ingest_on_both_ingest_routes(api: Api) -> None:
    refused = api.samples(batch({"metric": "huge", "value": 1.7e308}))
    assert refused.status_code == 400
    assert error_of(refused)["field"] == "samples[0].value" and "1e+300" in error_of(refused)["message"]
    histogram = {"bounds": [1.0], "counts": [0, 1], "sum": -1e301, "count": 1}
    refused = api.samples(batch({"metric": "huge", "histogram": histogram}))
    assert refused.status_code == 400 and "histogram" in error_of(refused)["field"]
    now_ns = str(time.time_ns())
    point = {"asDouble": 1.7e308, "timeUnixNano": now_ns}
    otlp = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "huge", "gauge": {"dataPoints": [point]}}]}]}
        ]
    }
    answer = api.post("/v1/metrics", json.dumps(otlp).encode(), api.ingest)
    assert answer.status_code == 200
    assert answer.json()["partialSuccess"]["rejectedDataPoints"] == "1"
    assert "1e+300" in answer.json()["partialSuccess"]["errorMessage"]


def test_the_largest_values_allowed_sum_to_the_same_number_in_the_series_api_and_the_export(api: Api) -> None:
    now = time.time()
    big = [{"metric": "big.value", "value": 1e300, "ts": now - i} for i in (1, 2, 3)]
    assert api.samples(batch(*big, host="big-1")).status_code == 202
    params = {"metric": "big.value", "agg": "sum", "from": "-10m", "step": str(10**7)}
    series = api.get("/api/metrics/series", **params).json()
    as_json = api.get("/api/export", format="json", **params).json()
    rows = list(csv.DictReader(io.StringIO(api.get("/api/export", format="csv", **params).text)))
    from_series = [v for s in series["series"] for v in s["values"] if v is not None]
    assert from_series == [3e300]
    assert [v for s in as_json["series"] for v in s["values"] if v is not None] == from_series
    assert [float(r["value"]) for r in rows if r["value"]] == from_series


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress", "zstd"])
def test_a_content_encoding_we_do_not_decode_is_a_415(api: Api, encoding: str) -> None:
    body = batch({"metric": "system.cpu.utilization", "value": 0.5})
    response = api.samples(body, **{"Content-Encoding": encoding})
    assert response.status_code == 415
    assert error_of(response)["field"] == "Content-Encoding"
    assert api.post("/api/keys", b'{"name": "x"}', {"Content-Encoding": encoding}).status_code == 415


def test_gzip_samples_are_accepted_like_otlp(api: Api) -> None:
    now = time.time()
    body = batch({"metric": "gzipped.value", "value": 7.0, "ts": now}, host="gz-1")
    response = api.samples(gzip.compress(body), **{"Content-Encoding": "gzip"})
    assert response.status_code == 202, response.text
    series = api.get("/api/metrics/series", metric="gzipped.value", agg="max", **{"from": "-10m"}).json()
    assert [v for s in series["series"] for v in s["values"] if v is not None] == [7.0]


def test_a_gzip_bomb_on_samples_is_a_413_and_bad_gzip_a_400(api: Api) -> None:
    bomb = gzip.compress(b" " * (64 * MAX_BODY_BYTES))  # ~65 KB on the wire, 64 MiB inflated
    assert len(bomb) < MAX_BODY_BYTES
    response = api.samples(bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert error_of(response)["field"] == "body"
    truncated = gzip.compress(batch({"metric": "x", "value": 1}))[:-8]
    assert api.samples(truncated, **{"Content-Encoding": "gzip"}).status_code == 400
