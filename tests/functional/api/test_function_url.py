"""The metrics function behind its Lambda Function URL (`IngestFunctionUrl`, auth type NONE): the real
handler gets the event Lambda builds for the URL (`tests/events/function_url_post_samples.json`,
payload 2.0 with the sentinel `routeKey` "$default"). Ingest works as through the HTTP API, with the
same key check; every other route answers 404 there, so the dashboard's API is reached only through
API Gateway's Cognito authorizer (docs/deploy.md, "Ingest endpoint")."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, FrozenClock
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway, LocalLambdaContext
from vigil.wiring import AppContext, bind

EVENT = json.loads((Path(__file__).parents[2] / "events" / "function_url_post_samples.json").read_text())


def through_url(
    ctx: AppContext, gateway: Gateway, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    event = copy.deepcopy(EVENT)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["body"] = json.dumps(body) if body is not None else None
    if token is None:
        del event["headers"]["authorization"]
    else:
        event["headers"]["authorization"] = f"Bearer {token}"
    with bind(ctx):
        response = gateway.handler_for("metrics")(event, LocalLambdaContext("metrics"))
    return response["statusCode"], json.loads(response.get("body") or "{}")


def test_a_push_through_the_function_url_is_stored_like_one_through_the_api(
    ctx: AppContext, gateway: Gateway, ingest_key: str, viewer: GatewayClient, clock: FrozenClock
) -> None:
    samples = [{"metric": "system.cpu.utilization", "value": 0.42, "ts": clock.t - 30}]
    status, answer = through_url(
        ctx, gateway, "POST", "/v1/samples", {"host": "web-9", "samples": samples}, ingest_key
    )
    assert (status, answer) == (202, {"accepted": 1, "duplicate": False})
    status, answer = through_url(
        ctx, gateway, "POST", "/v1/samples", {"host": "web-9", "samples": samples}, ingest_key
    )
    assert (status, answer) == (202, {"accepted": 1, "duplicate": True})  # a retry: its content
    series = json_of(
        viewer.get("/api/metrics/series", params={"metric": "system.cpu.utilization", "host": "web-9"})
    )
    assert [v for v in series["series"][0]["values"] if v is not None] == [0.42]


def test_a_push_through_the_function_url_without_its_ingest_key_is_refused(
    ctx: AppContext, gateway: Gateway
) -> None:
    body = {"host": "web-9", "samples": [{"metric": "system.cpu.utilization", "value": 0.42}]}
    assert through_url(ctx, gateway, "POST", "/v1/samples", body)[0] == 401
    assert through_url(ctx, gateway, "POST", "/v1/samples", body, token="vk_not-a-key")[0] == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/metrics"),
        ("POST", "/api/keys"),
        ("GET", "/api/keys"),
        ("GET", "/openapi.json"),
        ("GET", "/health"),
    ],
)
def test_the_function_url_serves_nothing_but_ingest_even_with_an_admins_credentials(
    ctx: AppContext, gateway: Gateway, method: str, path: str
) -> None:
    status, answer = through_url(
        ctx, gateway, method, path, {"name": "x"} if method == "POST" else None, ADMIN_TOKEN
    )
    assert status == 404
    assert answer["error"]["code"] == "not_found"
    assert "ingest" in answer["error"]["message"]
