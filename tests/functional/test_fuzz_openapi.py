"""Bounded schemathesis run over the served /openapi.json against the real local server (loopback
HTTP, real gateway and handlers): no 5xx, no response that contradicts the documented schema, schema-
valid input accepted (where JSON Schema can say what valid is), and `Allow` headers that list exactly
the documented methods of a path.

The pytest plugin of schemathesis 4 does not load under pytest 9 here, so operations are enumerated
from the schema and each one is driven by hypothesis directly (same checks, same generation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from vigil.api.auth import REMOTE_WRITE_PATH
from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.local.server import LocalServer

EXAMPLES_PER_OPERATION = 25
# Remote-write bodies are snappy-compressed protobuf: sent as the raw bytes generated (the route answers
# 400 naming `body` for what does not decode; real wire data is in tests/functional/prometheus).
schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")


def _token(tokens: dict[str, str], path: str) -> str:
    """The credential a client of `path` holds: an ingest key for the ingest routes, else the admin's."""
    return tokens["ingest"] if path.startswith("/v1/") or path == REMOTE_WRITE_PATH else tokens["admin"]


# Every check runs, "schema-valid data must be accepted" included, except for these operations, whose
# validity JSON Schema cannot express; their answers are 400s naming the field (the other checks still
# run on them). Everything else the handlers refuse is in the schema (patterns, ranges, oneOf).
SEMANTIC_RULES = {
    "POST /v1/samples": "timestamps within 7 days and 10 minutes ahead; histogram counts sum to count",
    "POST /v1/errors": "timestamps within the retention window (depends on now)",
    "GET /api/errors": "`since` is a time expression (epoch, RFC 3339, -24h) within 1970..9999",
    "GET /api/export": "`from`/`to` are time expressions, ordered, within the 400-day history",
    "GET /api/metrics/series": "`from`/`to` are time expressions, ordered, within the 400-day history",
    "GET /api/traces": "`from`/`to` are time expressions",
    "POST /api/alerts/rules": "durations ('5m' or seconds) within bounds; channels must exist",
    "PUT /api/alerts/rules/{rule_id}": "durations ('5m' or seconds) within bounds; channels must exist",
    "POST /api/alerts/rules/test": "either `rule` or `rule_id`; durations and time expressions",
    "POST /api/alerts/silences": "`ends_at` unless the silence recurs; times ordered",
    "POST /api/channels": "the target's form depends on `type` (URL, e-mail, E.164 number)",
    "PUT /api/channels/{channel_id}": "the target's form depends on `type` (URL, e-mail, E.164 number)",
    "POST /api/checks": "`url` is an http(s) URL or tcp://host:port; durations within bounds",
    "PUT /api/checks/{check_id}": "`url` is an http(s) URL or tcp://host:port; durations within bounds",
    "POST /api/v1/write": "the bytes are a snappy-compressed Prometheus WriteRequest",
    "POST /v1/metrics": "a protobuf body is an OTLP ExportMetricsServiceRequest",
    "POST /v1/traces": "a protobuf body is an OTLP ExportTraceServiceRequest",
    "POST /api/push/subscriptions": "`keys` are base64url: a P-256 point (65 bytes) and 16 bytes; the "
    "`endpoint` is an http(s) URL the SSRF guard allows",
}
# Paginated lists: `cursor` is opaque, valid only as a list handed it out (a forged one gets 400).
PAGINATED = (
    "/api/hosts",
    "/api/keys",
    "/api/dashboards",
    "/api/alerts",
    "/api/alerts/rules",
    "/api/alerts/silences",
    "/api/channels",
    "/api/notifications",
    "/api/notifications/dead-letters",
    "/api/checks",
)
SEMANTIC_RULES |= {f"GET {path}": "`cursor` must be one this list handed out" for path in PAGINATED}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, dict[str, str]]]:
    config = Config(data_dir=tmp_path_factory.mktemp("fuzz"), admin_token="fuzz-admin")
    with LocalServer(config, port=0, agent=False) as server:
        # A generated check could point anywhere: none may run on its own (the API's "run now" needs
        # its id, which generated paths do not know), so no probe leaves for a generated address.
        server.check_scheduler.stop()
        client = GatewayClient(server.gateway, token="fuzz-admin")
        ingest_key = json_of(client.post("/api/keys", json={"name": "fuzz"}))["key"]
        client.post(
            "/v1/samples",
            token=ingest_key,
            json={"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.5}]},
        )
        yield server, {"admin": "fuzz-admin", "ingest": ingest_key}


def _operations() -> list[Any]:
    import orjson

    from vigil.api.meta_routes import openapi_document

    schema = schemathesis.openapi.from_dict(orjson.loads(openapi_document()))
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = _operations()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS])
def test_the_api_never_answers_5xx_or_off_schema(
    operation: Any, fuzz_server: tuple[LocalServer, dict[str, str]]
) -> None:
    server, tokens = fuzz_server
    token = _token(tokens, operation.path)
    name = f"{operation.method.upper()} {operation.path}"
    excluded = [positive_data_acceptance] if name in SEMANTIC_RULES else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=server.url,
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=excluded,
        )

    run()


def test_every_path_answers_an_undocumented_method_with_405_and_allow_listing_its_documented_methods(
    fuzz_server: tuple[LocalServer, dict[str, str]],
) -> None:
    import orjson
    import requests

    from vigil.api.meta_routes import openapi_document

    server, tokens = fuzz_server
    paths = orjson.loads(openapi_document())["paths"]
    for path, operations in paths.items():
        documented = {m.upper() for m in operations} | ({"HEAD"} if path == "/health" else set())
        url = server.url + path.replace("{", "x").replace("}", "")
        token = _token(tokens, path)
        answer = requests.request("OPTIONS", url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 405, (path, answer.status_code)
        assert set(answer.headers["Allow"].split(", ")) == documented, path


def test_an_answer_without_content_is_documented_without_content(
    fuzz_server: tuple[LocalServer, dict[str, str]],
) -> None:
    """An empty remote-write request (snappy of nothing: the body `00`) is stored as nothing and
    answered 204 with no body; every 204 in the document says it has no content (the fuzzer found
    the document claiming a JSON body there)."""
    server, tokens = fuzz_server
    (write,) = [op for op in OPERATIONS if op.method.upper() == "POST" and op.path == "/api/v1/write"]
    case = write.Case(body=b"\x00", media_type="application/x-protobuf")
    response = case.call_and_validate(
        base_url=server.url, headers={"Authorization": f"Bearer {tokens['ingest']}"}
    )
    assert (response.status_code, response.content) == (204, b"")
    no_content = [op for op in OPERATIONS if "204" in op.definition.raw.get("responses", {})]
    assert len(no_content) >= 5
    assert all("content" not in op.definition.raw["responses"]["204"] for op in no_content)
