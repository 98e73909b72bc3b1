"""Work the API does once, not per request: Powertools' request validation classifies each route
parameter as scalar or not once per parameter (`vigil.api.resolver.remember_scalar_fields`), with
the answers Powertools itself gives, and a series answer is encoded once (no pydantic copy of every
value before orjson), byte for byte what the serializer makes of it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aws_lambda_powertools.event_handler.openapi import compat

from tests.conftest import FrozenClock
from vigil.api.functions import METRICS
from vigil.api.lambda_entry import lambda_handler
from vigil.local.client import GatewayClient, json_of

SERIES = {"metric": "system.cpu.utilization", "from": "-1h", "agg": "avg,max", "step": "60"}


def push(ingest: GatewayClient, clock: FrozenClock) -> None:
    samples = [
        {"metric": "system.cpu.utilization", "value": v / 10, "ts": clock.now() - 60 * v} for v in range(9)
    ]
    assert ingest.post("/v1/samples", json={"host": "web-1", "samples": samples}).status == 202


def test_a_series_request_classifies_no_parameter_again_once_its_route_has_served(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    push(ingest, clock)
    first = admin.get("/api/metrics/series", params=SERIES)
    assert first.status == 200
    asked: list[Any] = []
    original = compat.field_annotation_is_scalar

    def counted(annotation: Any) -> bool:
        asked.append(annotation)
        return original(annotation)

    monkeypatch.setattr(compat, "field_annotation_is_scalar", counted)
    again = admin.get("/api/metrics/series", params={**SERIES, "host": "web-1"})
    assert again.status == 200
    assert asked == []
    bad = admin.get("/api/metrics/series", params={**SERIES, "step": "x" * 17})  # still validated
    assert bad.status == 400 and json_of(bad)["error"]["field"] == "step", bad.body


def test_the_remembered_answers_are_powertools_own_for_every_route_parameter() -> None:
    from aws_lambda_powertools.event_handler.middlewares import openapi_validation

    remembered = openapi_validation.is_scalar_field
    resolver = lambda_handler("metrics", METRICS).entry.resolver()  # type: ignore[attr-defined]
    fields = [
        field
        for route in resolver._static_routes + resolver._dynamic_routes
        for field in (
            *route.dependant.query_params,
            *route.dependant.header_params,
            *route.dependant.path_params,
        )
    ]
    assert len(fields) > 20
    assert [remembered(f) for f in fields] == [compat.is_scalar_field(f) for f in fields]
    assert [remembered(f) for f in fields] == [compat.is_scalar_field(f) for f in fields]  # from memory


def test_a_series_answer_is_encoded_once_by_the_serializer_not_copied_through_pydantic_first(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    push(ingest, clock)
    copied: list[type] = []
    serialize = compat.ModelField.serialize

    def watched(self: compat.ModelField, value: Any, **kw: Any) -> Any:
        copied.append(type(value))
        return serialize(self, value, **kw)

    monkeypatch.setattr(compat.ModelField, "serialize", watched)
    response = admin.get("/api/metrics/series", params=SERIES)
    assert dict not in copied  # only the finished text passes Powertools' response check
    assert response.status == 200 and response.header("Content-Type") == "application/json"
    body = json_of(response)
    assert [s["agg"] for s in body["series"]] == ["avg", "max"]
    assert response.body == orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
