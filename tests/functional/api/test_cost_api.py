"""`GET /api/cost` through the real gateway: viewers read it, anonymous callers are refused, a bad
window is a 400 naming the field, and the body prices the stored hourly usage with the configured
region's table."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN, FrozenClock
from vigil.config import Config
from vigil.domain.cost import Usage
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway
from vigil.services.cost import hour_of, put_usage
from vigil.wiring import AppContext

SHAPE = {"window", "hosts", "total_usd", "per_host_month_usd", "components", "pricing"}


def test_a_viewer_reads_the_cost_of_the_last_day(
    viewer: GatewayClient, ingest: GatewayClient, ctx: AppContext
) -> None:
    now = ctx.clock.now()
    assert (
        ingest.post(
            "/v1/samples",
            json={"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.3}]},
        ).status
        == 202
    )
    put_usage(
        ctx.store, hour_of(now) - 3600, Usage(seconds=3600.0, api_requests=1_000_000.0, wru=2_000_000.0)
    )
    response = viewer.get("/api/cost", params={"window": "24h"})
    assert response.status == 200
    body = json_of(response)
    assert set(body) >= SHAPE
    assert body["window"] == "24h" and body["hosts"] == 1
    assert body["pricing"] == {"region": "us-east-1", "date": "2026-11-26"}
    parts = {c["name"]: c for c in body["components"]}
    assert parts["API Gateway requests"] == {
        "name": "API Gateway requests",
        "usd": 1.0,
        "units": 1_000_000.0,
        "unit": "requests",
    }
    assert parts["DynamoDB writes"]["usd"] == 1.25
    assert body["total_usd"] == pytest.approx(sum(c["usd"] for c in body["components"]))
    # one hour of usage, one host: a 720-hour month of the same
    assert body["per_host_month_usd"] == pytest.approx(body["total_usd"] * 720)


def test_the_default_window_is_a_day_and_thirty_days_is_accepted(viewer: GatewayClient) -> None:
    assert json_of(viewer.get("/api/cost"))["window"] == "24h"
    month = json_of(viewer.get("/api/cost", params={"window": "30d"}))
    assert month["window"] == "30d" and month["total_usd"] == 0 and month["per_host_month_usd"] is None


@pytest.mark.parametrize("window", ["7d", "1h", "24", "x" * 9])
def test_a_bad_window_is_a_400_naming_the_field(viewer: GatewayClient, window: str) -> None:
    response = viewer.get("/api/cost", params={"window": window})
    assert response.status == 400
    assert json_of(response)["error"]["field"] == "window"


def test_the_cost_readout_needs_credentials(anonymous: GatewayClient) -> None:
    assert anonymous.get("/api/cost").status == 401


def test_the_pricing_table_follows_the_configured_region(config: Config, clock: FrozenClock) -> None:
    ctx = AppContext(config.with_(pricing_region="eu-west-1"), clock=clock)
    answer = json_of(GatewayClient(Gateway(ctx), token=ADMIN_TOKEN).get("/api/cost"))
    assert answer["pricing"]["region"] == "eu-west-1"
    unknown = AppContext(config.with_(pricing_region="mars-north-1"), clock=clock)
    assert (
        json_of(GatewayClient(Gateway(unknown), token=ADMIN_TOKEN).get("/api/cost"))["pricing"]["region"]
        == "us-east-1"
    )


def test_pricing_region_and_cost_sources_come_from_the_environment() -> None:
    env = {
        "AWS_REGION": "eu-central-1",
        "AWS_LAMBDA_FUNCTION_NAME": "vigil-dev-metrics",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "VIGIL_COST_FUNCTIONS": "vigil-dev-health=256,vigil-dev-alerts=512",
        "VIGIL_COST_API_ID": "abc123",
        "VIGIL_COST_LOG_GROUPS": "/aws/lambda/a,/aws/lambda/b",
    }
    config = Config.from_env(env)
    assert config.pricing_region == "eu-central-1"
    assert config.cost_sources is not None
    assert config.cost_sources.functions == (
        ("vigil-dev-health", 256),
        ("vigil-dev-alerts", 512),
        ("vigil-dev-metrics", 1024),
    )
    assert config.cost_sources.api_id == "abc123"
    assert config.cost_sources.log_groups == ("/aws/lambda/a", "/aws/lambda/b")
    assert Config.from_env({}).cost_sources is None and Config.from_env({}).pricing_region == "us-east-1"
