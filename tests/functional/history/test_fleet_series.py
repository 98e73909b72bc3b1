"""Fleet-wide series through the real gateway answered from the fleet tier: the same numbers as from
every host's samples (SQLite), and on DynamoDB (moto) a request count that does not grow with hosts."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import FrozenClock
from vigil.domain import histograms
from vigil.local.client import GatewayClient, json_of
from vigil.services.fleet import SETTLE_SECONDS, run_fleet

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Vigil")
HOUR = 3600.0


def push_fleet(ingest: GatewayClient, hosts: int, start: float, minutes: int) -> None:
    """Each host: one 60 s batch per minute of a cpu gauge, a request counter and a latency histogram."""
    for m in range(minutes):
        t = start + 60 * m
        for h in range(hosts):
            samples: list[dict[str, Any]] = [
                {"metric": "system.cpu.utilization", "value": ((m * 7 + h * 3) % 100) / 100, "ts": t + 10 * i}
                for i in range(6)
            ]
            samples += [
                {"metric": "app.requests", "value": 100.0 * h + 12 * m + 2 * i, "ts": t + 10 * i}
                for i in range(6)
            ]
            hist = histograms.from_values([0.01 * (h + 1), 0.05 * (m % 7 + 1), 0.3])
            samples.append(
                {"metric": "http.server.request.duration", "histogram": hist.to_json(), "ts": t + 30}
            )
            body = {"host": f"web-{h}", "batch_id": f"{h}-{m}", "samples": samples}
            assert ingest.post("/v1/samples", json=body).status == 202


def series(client: GatewayClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/metrics/series", params={k: str(v) for k, v in params.items()})
    assert r.status == 200, r.body
    return dict(json_of(r))


QUERIES = [
    {"metric": "system.cpu.utilization", "agg": "avg,min,max,count,sum"},
    {"metric": "app.requests", "agg": "rate"},
    {"metric": "http.server.request.duration", "agg": "p50,p95,p99,rate", "step": "300"},
    {"metric": "system.cpu.utilization", "agg": "p95"},  # plain percentiles: the tier has no sketch
]


@pytest.mark.parametrize("built", [30, 20], ids=["tier-only", "with-raw-tail"])
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q['metric']}-{q['agg']}")
def test_a_fleet_chart_from_the_fleet_tier_equals_the_one_from_every_hosts_samples(
    ctx: Any,
    ingest: GatewayClient,
    viewer: GatewayClient,
    clock: FrozenClock,
    query: dict[str, str],
    built: int,
) -> None:
    """`built`: minutes the tier holds; the rest of the half hour is read raw (after the watermark)."""
    start = (clock.now() - 3 * HOUR) // 300 * 300
    push_fleet(ingest, hosts=4, start=start, minutes=30)
    params = {**query, "from": str(start), "to": str(start + 1800 - 1), "group_by": "none"}
    before = series(viewer, **params)
    for until in (start, start + 60 * built):  # the first run starts the tier, the second builds it
        run_fleet(ctx.store, until + SETTLE_SECONDS, retention_seconds=ctx.config.retention_seconds)
    clock.advance(1)  # a new `now`: no cached answer
    after = series(viewer, **params)
    assert ctx.store.get_doc("fleet_state", "watermark")["until"] == start + 60 * built
    assert after["timestamps"] == before["timestamps"]
    assert len(after["series"]) == len(before["series"])
    for got, want in zip(after["series"], before["series"], strict=True):
        assert got["values"] == pytest.approx(want["values"], rel=1e-9), want.get("agg")


def test_a_fleet_chart_on_dynamodb_sends_as_many_requests_for_30_hosts_as_for_3(
    config: Any, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore, create_tables
    from vigil.local.gateway import Gateway
    from vigil.wiring import AppContext

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    counts = []
    for hosts in (3, 30):
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_tables(client, "samples", "meta")
            store = DynamoStore("samples", "meta", config.retention_seconds, client=client)
            gateway = Gateway(AppContext(config, clock=clock, _store=store))
            key = json_of(
                GatewayClient(gateway, token=config.admin_token).post("/api/keys", json={"name": "a"})
            )
            start = (clock.now() - HOUR) // 300 * 300
            push_fleet(GatewayClient(gateway, token=key["key"]), hosts=hosts, start=start, minutes=5)
            for until in (start, start + 300):
                run_fleet(store, until + SETTLE_SECONDS, retention_seconds=config.retention_seconds)
            calls: list[str] = []
            client.meta.events.register(
                "before-call.dynamodb", lambda model, calls=calls, **_: calls.append(model.name)
            )
            viewer = GatewayClient(gateway, token=config.admin_token)
            window = {"from": str(start), "to": "now", "step": "60"}
            got = series(viewer, metric="system.cpu.utilization", group_by="none", **window)
            assert sum(v is not None for v in got["series"][0]["values"]) == 5
            counts.append(len(calls))
        clock.advance(1)
    assert counts[0] == counts[1] <= 4, counts


def cpu_kpi(viewer: GatewayClient) -> dict[str, Any]:
    r = viewer.get("/api/metrics")
    assert r.status == 200, r.body
    return dict(json_of(r)["system"]["cpu"])


@pytest.mark.parametrize("hosts", [3, 25])
def test_the_overview_snapshot_of_a_large_fleet_comes_from_the_fleet_job_and_a_small_ones_is_live(
    ctx: Any, ingest: GatewayClient, viewer: GatewayClient, clock: FrozenClock, hosts: int
) -> None:
    start = (clock.now() - 600) // 300 * 300
    push_fleet(ingest, hosts=hosts, start=start, minutes=5)
    for until in (start, start + 300):
        run_fleet(ctx.store, until + SETTLE_SECONDS, retention_seconds=ctx.config.retention_seconds)
    # the job's snapshot: the newest built minute (m = 4) of every host, against the minute before
    want = sum(((4 * 7 + h * 3) % 100) / 100 for h in range(hosts)) / hosts
    clock.t = start + 300 + 65  # then every host reports 100 % in the next minute
    for h in range(hosts):
        samples = [
            {"metric": "system.cpu.utilization", "value": 1.0, "ts": start + 300 + 10 * i} for i in range(6)
        ]
        assert ingest.post("/v1/samples", json={"host": f"web-{h}", "samples": samples}).status == 202
    kpi = cpu_kpi(viewer)
    assert kpi["hosts"] == hosts
    assert kpi["threshold"] == ctx.config.thresholds.cpu_percent
    if hosts > 20:
        assert kpi["value"] == pytest.approx(100 * want)
    else:
        assert kpi["value"] == pytest.approx(100.0)  # live: the newest window


def test_a_fleet_line_over_staggered_hosts_has_every_host_in_every_point(
    ingest: GatewayClient, viewer: GatewayClient, clock: FrozenClock
) -> None:
    """Two hosts report every 60 s, half a minute apart: merged, their samples are 30 s apart, but a
    30 s step would put one host in each bucket and draw a zigzag between them instead of the fleet."""
    start = (clock.now() - HOUR) // 60 * 60
    for h, (offset, value) in enumerate([(0, 0.2), (30, 0.8)]):
        samples = [
            {"metric": "system.cpu.utilization", "value": value, "ts": start + 60 * m + offset}
            for m in range(60)
        ]
        assert ingest.post("/v1/samples", json={"host": f"web-{h}", "samples": samples}).status == 202
    got = series(viewer, metric="system.cpu.utilization", agg="avg", group_by="none", **{"from": "-1h"})
    assert got["step"] >= 60
    inner = [v for v in got["series"][0]["values"] if v is not None][1:-1]  # the range's edges cut a minute
    assert len(inner) >= 55 and inner == pytest.approx([0.5] * len(inner))


OVERVIEW_CHART = {  # the overview's one chart request (frontend/src/pages/overview-requests.js)
    "metric": "http.server.request.duration",
    "from": "-1h",
    "to": "now",
    "group_by": "none",
    "agg": "p50,p95,p99,rate",
}


def push_staggered_latencies(ingest: GatewayClient, hosts: int, now: float) -> None:
    """Each host: a latency histogram every 60 s over the last 70 minutes, hosts 10 s apart."""
    for h in range(hosts):
        first = (now - 4200) // 60 * 60 + 10 * h
        samples = [
            {
                "metric": "http.server.request.duration",
                "histogram": histograms.from_values(
                    [0.01 * (h + 1), 0.02 * (m % 9 + 1), 0.2 + 0.1 * h]
                ).to_json(),
                "ts": first + 60 * m,
            }
            for m in range(70)
            if first + 60 * m <= now
        ]
        assert ingest.post("/v1/samples", json={"host": f"web-{h}", "samples": samples}).status == 202


def test_the_overviews_chart_is_read_from_the_fleet_tier_and_equals_the_one_from_every_hosts_samples(
    ctx: Any, ingest: GatewayClient, viewer: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staggered 60 s hosts, the overview's query as the page sends it (no step): fitted to 60 s, it is
    answered from the fleet minutes and, after the job's watermark, the raw tail merged by the store
    (no sample read as a `Point`), with the numbers the hosts' own samples give."""
    now = ctx.clock.now()
    push_staggered_latencies(ingest, hosts=6, now=now)
    before = series(viewer, **OVERVIEW_CHART)
    run_fleet(ctx.store, now, retention_seconds=ctx.config.retention_seconds)  # a first run: the last hour
    tier: list[int] = []
    query_fleet = ctx.store.query_fleet

    def counted_query_fleet(*args: Any, **kwargs: Any) -> Any:
        found = list(query_fleet(*args, **kwargs))
        tier.append(len(found))
        return iter(found)

    def no_points(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the overview's chart read samples one by one")

    monkeypatch.setattr(ctx.store, "query_fleet", counted_query_fleet)
    monkeypatch.setattr(ctx.store, "query_points", no_points)
    after = series(viewer, **OVERVIEW_CHART)
    assert before["step"] == after["step"] == 60
    assert sum(tier) >= 55  # the hour's minutes up to the watermark, 2-3 minutes before now
    assert after["timestamps"] == before["timestamps"]
    for got, want in zip(after["series"], before["series"], strict=True):
        assert got["agg"] == want["agg"]
        assert got["values"] == pytest.approx(want["values"], rel=1e-9), want["agg"]


def test_learning_the_overviews_step_computes_no_percentile_per_host(
    ctx: Any, ingest: GatewayClient, viewer: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step probe reads each host apart only to tell buckets with data from empty ones: it asks for
    counts and rates, not for three percentiles of every host's every bucket."""
    push_staggered_latencies(ingest, hosts=6, now=ctx.clock.now())
    computed: list[float] = []
    quantile = histograms.quantile

    def counted_quantile(h: Any, q: float) -> float | None:
        computed.append(q)
        return quantile(h, q)

    monkeypatch.setattr(histograms, "quantile", counted_quantile)
    got = series(viewer, **OVERVIEW_CHART)
    assert got["step"] == 60
    assert len(computed) <= 3 * len(got["timestamps"])  # p50, p95 and p99 of the fleet's buckets only


def test_the_step_of_a_fleet_line_over_more_hosts_than_an_answer_holds_is_still_fitted(
    ctx: Any, viewer: GatewayClient
) -> None:
    """The probe keeps hosts apart: over more hosts than an answer may hold series (500), it falls back
    to fitting the step to the merged answer instead of refusing the fleet's chart."""
    from vigil.domain.records import Point

    now = ctx.clock.now()
    first = (now - 1800) // 60 * 60
    for h in range(501):
        points = [Point(f"h-{h}", "system.cpu.utilization", (), first + 60 * m, 0.5) for m in range(30)]
        ctx.store.put_samples(f"h-{h}", points, None, now)
    got = series(viewer, metric="system.cpu.utilization", agg="avg", group_by="none", **{"from": "-1h"})
    assert got["step"] == 60
    values = [v for v in got["series"][0]["values"] if v is not None]
    assert len(values) >= 29 and values == pytest.approx([0.5] * len(values))
