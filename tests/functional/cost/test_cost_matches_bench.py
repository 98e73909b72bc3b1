"""The cost readout against bench_cost's counted figure (issue 14): one simulated load — an admin
mints a key, hosts push 60 s agent batches through the real gateway and handlers, the alerts
function's scheduled evaluation runs every minute — measured two ways, each within 10 % of what
`bench.bench_cost.counted_usd` makes of the same load's counts (DynamoDB request units counted by
`bench_cost.Meter` on moto, invocations and API requests counted by the test, Lambda time measured):

- AWS: the load runs on moto DynamoDB; the test publishes the counts as CloudWatch would (AWS/Lambda
  Invocations and Duration per function, AWS/ApiGateway Count, AWS/DynamoDB Consumed*CapacityUnits,
  AWS/Logs IncomingBytes) with PutMetricData; the metrics function's scheduled job reads them back
  with GetMetricData into an hourly usage document, and `GET /api/cost` prices it.
- local: the same load on SQLite behind the local server's meter (`MeteredStore` estimates the
  request units DynamoDB would have consumed), flushed into the hour's usage document.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.bench_cost import SAMPLES, Meter, counted_usd, metered_dynamodb
from tests.conftest import ADMIN_TOKEN, FrozenClock
from vigil.api.route_table import FUNCTION_MEMORY_MB
from vigil.config import Config, CostSources
from vigil.domain.pricing import LOG_BYTES_PER_INVOCATION
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway, LocalLambdaContext
from vigil.services.cost import SETTLE_SECONDS
from vigil.wiring import AppContext, bind

HOSTS, MINUTES = 3, 12
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
FUNCTION_NAMES = {"metrics": "vigil-dev-metrics", "alerts": "vigil-dev-alerts"}
API_ID = "a1b2c3d4e5"
TOLERANCE = 0.10
SERIES = [
    ("system.cpu.utilization", {"cpu": "total"}, 0.42),
    ("system.memory.utilization", {"state": "used"}, 0.63),
    ("system.cpu.load_average.1m", {}, 1.7),
    ("system.disk.io", {"direction": "read"}, 3.1e5),
    ("system.disk.io", {"direction": "write"}, 7.4e5),
    ("system.network.io", {"direction": "receive"}, 2.2e6),
    ("system.network.io", {"direction": "transmit"}, 9.8e5),
    ("system.process.count", {}, 212.0),
]


@dataclass
class Counts:
    """What the test itself counts of the load (bench_cost counts invocations the same way)."""

    http: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def gb_seconds(self) -> float:
        return sum(s * FUNCTION_MEMORY_MB[f] / 1024 for f, s in self.seconds.items())  # type: ignore[index]

    def log_bytes(self) -> float:
        return sum(self.invocations.values()) * LOG_BYTES_PER_INVOCATION


def _batch(host: str, end: float, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "metric": m,
            "value": float(f"{level * rng.uniform(0.95, 1.05):.4g}"),
            "ts": end - 50 + 10 * i,
            "labels": labels,
        }
        for m, labels, level in SERIES
        for i in range(6)
    ]


def drive(gateway: Gateway, clock: FrozenClock, hour: float, evaluate: Any) -> Counts:
    """The simulated load inside `hour`: a key, then per minute every host's push and one evaluation."""
    counts = Counts()
    rng = random.Random(7)

    def timed(function: str, call: Any) -> Any:
        started = time.perf_counter()
        result = call()
        counts.seconds[function] += time.perf_counter() - started
        counts.invocations[function] += 1
        return result

    clock.t = hour + 1.0
    admin = GatewayClient(gateway, token=ADMIN_TOKEN)
    key = json_of(timed("metrics", lambda: admin.post("/api/keys", json={"name": "agents"})))["key"]
    counts.http += 1
    agent = GatewayClient(gateway, token=key)
    for minute in range(MINUTES):
        clock.t = hour + 60.0 * (minute + 1) + 1.0
        for h in range(HOSTS):
            body = {
                "host": f"host-{h}",
                "batch_id": f"{h}-{minute}",
                "samples": _batch(f"host-{h}", clock.t - 1, rng),
            }
            response = timed("metrics", lambda body=body: agent.post("/v1/samples", json=body))
            assert response.status == 202, response.body[:200]
            counts.http += 1
        timed("alerts", lambda: evaluate(clock.t))
    return counts


def bench_figure(meter: Meter, counts: Counts) -> float:
    """bench_cost's computation on the load's counts."""
    return counted_usd(
        wru=sum(meter.wru.values()),
        rru=sum(meter.rru.values()),
        invocations=sum(counts.invocations.values()),
        gb_seconds=counts.gb_seconds(),
        http_requests=counts.http,
        log_bytes=counts.log_bytes(),
    )


def _hour_before_last() -> float:
    return math.floor(time.time() / 3600) * 3600 - 2 * 3600.0


def _dynamo_load(
    prefix: str, sources: CostSources | None
) -> tuple[Any, Meter, AppContext, FrozenClock, Counts, float]:
    from vigil.adapters.store.dynamodb import DynamoStore

    client, shadow, meter, config = metered_dynamodb(prefix)
    config = config.with_(admin_token=ADMIN_TOKEN, cost_sources=sources, evaluation_period_seconds=60.0)
    clock = FrozenClock(0.0)
    store = DynamoStore(
        config.samples_table_name, config.meta_table_name, config.retention_seconds, client=client
    )
    ctx = AppContext(config, clock=clock, _store=store)
    gateway = Gateway(ctx)

    def evaluate(_now: float) -> Any:
        with bind(ctx):
            return gateway.handler_for("alerts")(SCHEDULED, LocalLambdaContext("alerts"))

    hour = _hour_before_last()
    counts = drive(gateway, clock, hour, evaluate)
    return shadow, meter, ctx, clock, counts, hour


def _publish_as_cloudwatch(meter: Meter, counts: Counts, hour: float) -> None:
    """What AWS would have published for the hour: one datapoint per metric (sums), mid-hour."""
    import boto3

    at = datetime.fromtimestamp(hour + 1800, UTC)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")

    def put(
        namespace: str, metric: str, dimension: str, value: str, stats: dict[str, float], unit: str
    ) -> None:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": dimension, "Value": value}],
                    "Timestamp": at,
                    "StatisticValues": stats,
                    "Unit": unit,
                }
            ],
        )

    def summed(total: float, n: float) -> dict[str, float]:
        return {"SampleCount": max(n, 1.0), "Sum": total, "Minimum": 0.0, "Maximum": total}

    for function, name in FUNCTION_NAMES.items():
        n = counts.invocations[function]
        put("AWS/Lambda", "Invocations", "FunctionName", name, summed(n, n), "Count")
        put(
            "AWS/Lambda",
            "Duration",
            "FunctionName",
            name,
            summed(counts.seconds[function] * 1000, n),
            "Milliseconds",
        )
        log_group = f"/aws/lambda/{name}"
        put(
            "AWS/Logs",
            "IncomingBytes",
            "LogGroupName",
            log_group,
            summed(n * LOG_BYTES_PER_INVOCATION, n),
            "Bytes",
        )
    put("AWS/ApiGateway", "Count", "ApiId", API_ID, summed(counts.http, counts.http), "Count")
    # the Meter counts per request, not per table: the sums go under one table (the job adds tables up)
    put(
        "AWS/DynamoDB",
        "ConsumedWriteCapacityUnits",
        "TableName",
        SAMPLES,
        summed(sum(meter.wru.values()), 1),
        "Count",
    )
    put(
        "AWS/DynamoDB",
        "ConsumedReadCapacityUnits",
        "TableName",
        SAMPLES,
        summed(sum(meter.rru.values()), 1),
        "Count",
    )


def test_the_aws_readout_from_cloudwatch_matches_bench_costs_counted_figure(moto_env: None) -> None:
    sources = CostSources(
        functions=tuple((name, FUNCTION_MEMORY_MB[f]) for f, name in FUNCTION_NAMES.items()),  # type: ignore[index]
        api_id=API_ID,
        log_groups=tuple(f"/aws/lambda/{name}" for name in FUNCTION_NAMES.values()),
    )
    _shadow, meter, ctx, clock, counts, hour = _dynamo_load("vigil-test-cost-aws-", sources)
    expected = bench_figure(meter, counts)
    _publish_as_cloudwatch(meter, counts, hour)
    clock.t = hour + 3600.0 + SETTLE_SECONDS  # the first run once the loaded hour's metrics settled
    with bind(ctx):
        job = Gateway(ctx).handler_for("metrics")(SCHEDULED, LocalLambdaContext("metrics"))
    assert job["cost_hours"] == 1, job  # a first run collects the last complete hour
    answer = json_of(
        GatewayClient(Gateway(ctx), token=ADMIN_TOKEN).get("/api/cost", params={"window": "24h"})
    )
    parts = {c["name"]: c for c in answer["components"]}
    assert parts["API Gateway requests"]["units"] == counts.http
    assert parts["Lambda requests"]["units"] == sum(counts.invocations.values())
    assert answer["hosts"] == HOSTS and answer["hours"] == 1.0
    assert answer["total_usd"] == pytest.approx(expected, rel=TOLERANCE), (answer, expected)


def test_the_local_readout_from_the_servers_own_counters_matches_bench_costs_counted_figure(
    moto_env: None, tmp_path: Path
) -> None:
    from vigil.local.server import alert_job, metered_job, metered_store
    from vigil.local.usage_meter import UsageMeter

    _shadow, meter, _ctx, _clock, bench_counts, hour = _dynamo_load("vigil-test-cost-local-", None)
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, evaluation_period_seconds=60.0)
    clock = FrozenClock(hour)
    usage = UsageMeter(config.sqlite_path, started=hour)
    ctx = AppContext(config, clock=clock, _store=metered_store(config, usage))
    gateway = Gateway(ctx, usage=usage)
    evaluate = metered_job(usage, config, "alerts", lambda now: alert_job(ctx, now))
    counts = drive(gateway, clock, hour, evaluate)
    usage.flush(ctx.store, clock.t)
    answer = json_of(GatewayClient(gateway, token=ADMIN_TOKEN).get("/api/cost", params={"window": "24h"}))
    # bench_cost's figure: request units counted on DynamoDB for the same load, this run's counts
    expected = bench_figure(meter, counts)
    parts = {c["name"]: c for c in answer["components"]}
    assert parts["API Gateway requests"]["units"] == counts.http == bench_counts.http
    print(
        "local readout",
        answer["total_usd"],
        "bench",
        expected,
        "WRU",
        parts["DynamoDB writes"]["units"],
        sum(meter.wru.values()),
        "RRU",
        parts["DynamoDB reads"]["units"],
        sum(meter.rru.values()),
    )
    assert answer["total_usd"] == pytest.approx(expected, rel=TOLERANCE), (answer, expected)
