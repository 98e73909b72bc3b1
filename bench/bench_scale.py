"""Scale harness: what each operation costs on DynamoDB as the fleet grows, and the cost per host-month.

For each fleet size (10 and 100 hosts by default, ≈ 2 minutes; the issue's sizes with
`VIGIL_BENCH_SCALE_HOSTS=10,100,1000 python -m bench.run_all bench_scale`, see bench/NOTES.md for its
time here), a fresh moto DynamoDB backs the real handlers through the local gateway (an `AppContext`
whose store is a `DynamoStore`, what `VIGIL_STORE=dynamodb` builds). moto answers a Query by sorting the
whole table, which made a 1,000-host run quadratic: `fast_moto_queries` hands it only the queried
partition (same answer; the application's requests are unchanged). Every host pushes 20 series every
10 s in 60 s batches (`bench_cost._batch`, declaring `push_interval` as the Vigil agent does) for
`VIGIL_BENCH_SCALE_MINUTES` minutes (default 6, after one uncounted warm-up minute: first-sight series
items), then each operation runs once with the request counter on:
  ingest minute (every host's push, averaged over the minutes), evaluator tick (default rules, the alerts
  function's scheduled event, every minute), forecast run (its hourly event: the hourly rules, the disk
  forecast over settled rollups; `vigil.alerting.windows.hourly`), fleet job run (`run_fleet`, what the
  5-minute schedule does), rollup run (`run_rollups`, the hour's first run), overview load (the overview
  page's requests: `/api/metrics`, the 24 h response-time series, errors, alerts, rules, `/health`, plus
  `latest_by_host` for its worst hosts), 24 h and 7 d fleet charts (`system.cpu.utilization`,
  `group_by=none`) and the host list's first page (after an uncounted evaluator tick: the schedule that
  keeps its push summary).
The fleet tier's history before the simulated minutes (24 h of minutes, 7 d of hours) is copied from the
minutes the job built (same items, shifted in time), uncounted, so chart reads see full-size ranges.

Counting reuses `bench_cost.Meter` (requests, RRU/WRU from item sizes, bytes, largest item) and its
pricing (`bench_cost.PRICES`). Each count is fitted linearly against hosts (least squares) and
extrapolated to 10,000 hosts; the cost per host-month at 10 / 100 / 1,000 / 10,000 hosts uses the
measured (or extrapolated) counts: pushes, evaluator ticks every minute, fleet runs every 5 minutes,
rollup runs hourly (as `ROLLUP_SHARDS` shard invocations, `infra/sizing.py`, run here one after
another), steady-state storage (raw 7 d, rollups 400 d, fleet tier) and CloudWatch Logs. Pushes are
what `vigil agent` sends (no `batch_id`: the content identifies a retry, one write per push) to the
metrics function's Function URL (no API Gateway request; `usd_host_month_<n>_via_http_api` adds the
HTTP API's request and access-log line). The store reads one host at a time here (moto is not
thread-safe); the requests are the same as with its concurrent reads, which the duration model applies.
Lambda duration and cost are MODELLED (`bench/scale_model.py`: CPU measured here at the function's
share of a vCPU, botocore's CPU per request, the rest of each round trip overlapped by the requests in
flight), and each scheduled run's modelled duration is set against its function's timeout
(`<op>_wall_vs_timeout`; a rollup run's invocation is its fullest shard's share). The rollup run's
reads and CPU are scaled from the simulated minutes to the two hours a real run reads. Dashboards are
per viewer, not per host: not in the monthly cost. Must not be imported by tests (not a timed test).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from typing import Any

from bench.bench_cost import (
    META,
    PRICES,
    SAMPLES,
    Meter,
    _batch,
    _Clock,
    item_size,
    metered_dynamodb,
    quiet_moto_env,
)
from bench.scale_model import (
    ACCESS_LOG_BYTES,
    CLIENT_CPU_MS,
    FULL_VCPU_MB,
    LOG_BYTES,
    MEMORY_MB,
    REQUEST_MS,
    RUN_FUNCTION,
    RUN_POOL,
    TIMEOUT_S,
    lambda_seconds,
    monthly_cost,
    wall_vs_timeout,
)
from infra.sizing import ROLLUP_SHARDS

OPS: tuple[str, ...] = ("ingest_minute", "evaluator_tick", "forecast_run", "fleet_run", "rollup_run")
OPS += ("overview", "fleet_chart_24h", "fleet_chart_7d", "host_list")
OVERVIEW = [
    ("/api/metrics", {}),
    (
        "/api/metrics/series",
        {
            "metric": "http.server.request.duration",
            "from": "-24h",
            "group_by": "none",
            "agg": "p50,p95,p99,rate",
        },
    ),
    ("/api/errors", {"since": "-24h", "limit": "5"}),
    ("/api/alerts", {}),
    ("/api/alerts/rules", {}),
    ("/health", {}),
]


def fast_moto_queries() -> None:
    """moto answers a Query by sorting the whole table and filtering on the partition key (O(table) per
    request, so a 1,000-host run is quadratic and did not finish). Hand it only the queried partition:
    same items, same order, same answer; the application's requests are unchanged."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_one_partition", False):
        return
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index = kwargs.get("index_name") or (args[6] if len(args) > 6 else None)
        if index or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        everything = self.items
        self.items = {hash_key: everything[hash_key]} if hash_key in everything else {}
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            self.items = everything

    query._one_partition = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def _totals(meter: Meter, op: str) -> dict[str, float]:
    keys = [k for k in meter.requests if k.startswith(op + ":")]
    return {
        "requests": sum(meter.requests[k] for k in keys),
        "rru": sum(v for k, v in meter.rru.items() if k.startswith(op + ":")),
        "wru": sum(meter.wru[k] for k in keys),
        "bytes": sum(meter.bytes[k] for k in keys),
        "largest": max((meter.largest[k] for k in keys), default=0),
    }


def simulate(n_hosts: int, minutes: int) -> dict[str, Any]:
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore
    from vigil.alerting.entry import HOURLY_DETAIL
    from vigil.domain.fleet import fleet_hours
    from vigil.domain.shards import Shard
    from vigil.local.client import GatewayClient, json_of
    from vigil.local.gateway import Gateway, LocalLambdaContext
    from vigil.services.fleet import SETTLE_SECONDS, STATE_KIND, WATERMARK_ID, run_fleet
    from vigil.services.rollups import STATE_KIND as ROLLUP_STATE
    from vigil.services.rollups import WATERMARK_ID as ROLLUP_WATERMARK
    from vigil.services.rollups import run_rollups
    from vigil.wiring import AppContext, bind

    fast_moto_queries()
    rng = random.Random(5)
    day0 = math.floor(time.time() / 86400) * 86400 - 86400
    with mock_aws():
        client, shadow, meter, config = metered_dynamodb("vigil-bench-scale-")
        clock = _Clock(day0 + 12 * 3600.0)  # noon: the minutes stay inside one hour
        store = DynamoStore(SAMPLES, META, config.retention_seconds, client=client)
        # one Query at a time: moto (and `fast_moto_queries`, and the meter) are not thread-safe; the
        # requests are the same, and the duration model applies the store's concurrency to them
        store.read_concurrency = 1
        ctx = AppContext(config, clock=clock, _store=store)
        gateway = Gateway(ctx)
        meter.phase = "setup"
        viewer = GatewayClient(gateway, token="bench")
        key = json_of(viewer.post("/api/keys", json={"name": "agents"}))["key"]
        agent = GatewayClient(gateway, token=key)
        scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        wall: dict[str, float] = {}
        start = clock.t
        meter.phase = "warmup"  # a steady rollup job: it ran last hour, its fine-tier backfill is done
        hour = math.floor(start / 3600) * 3600
        store.put_doc(
            ROLLUP_STATE, ROLLUP_WATERMARK, {"hour": hour, "ran_at": hour, "fine_from": hour - 6 * 86400}
        )
        cpu: dict[str, float] = {"ingest_minute": 0.0}
        for minute in range(-1, minutes):
            clock.t = start + (minute + 1) * 60.0 + 1.0
            meter.phase = "ingest_minute" if minute >= 0 else "warmup"
            c = time.process_time()
            for h in range(n_hosts):
                host = f"host-{h:05d}"
                body = {  # what `vigil agent` sends: no batch_id, every sample with its ts
                    "host": host,
                    "push_interval": 60,  # the Vigil agent declares its flush interval
                    "samples": _batch(host, clock.t - 1, rng),
                }
                resp = agent.post("/v1/samples", json=body)
                assert resp.status == 202, resp.body[:300]
            if minute >= 0:
                cpu["ingest_minute"] += time.process_time() - c
        # the application's own CPU: the process's, less what the requests took (botocore, moto, meter)
        cpu["ingest_minute"] = (cpu["ingest_minute"] - meter.call_cpu["ingest_minute"]) / minutes
        counts: dict[str, dict[str, float]] = {}

        def timed(op: str, fn: Any) -> Any:
            meter.phase = op
            t, c, in_calls = time.perf_counter(), time.process_time(), meter.call_cpu[op]
            result = fn()
            wall[op] = time.perf_counter() - t
            cpu[op] = max(0.0, time.process_time() - c - (meter.call_cpu[op] - in_calls))
            counts[op] = _totals(meter, op)
            return result

        with bind(ctx):  # the evaluator seeds its default rules on the first tick: warm it up
            meter.phase = "warmup"
            gateway.handler_for("alerts")(scheduled, LocalLambdaContext("alerts"))
            timed(
                "evaluator_tick",
                lambda: gateway.handler_for("alerts")(scheduled, LocalLambdaContext("alerts")),
            )
            hourly = {**scheduled, "detail": HOURLY_DETAIL}  # the hourly rules' own run (forecasts)
            meter.phase = "warmup"
            gateway.handler_for("alerts")(hourly, LocalLambdaContext("alerts"))
            timed(
                "forecast_run",
                lambda: gateway.handler_for("alerts")(hourly, LocalLambdaContext("alerts")),
            )
        meter.phase = "warmup"  # the fleet job's first run only sets its watermark
        run_fleet(store, start + SETTLE_SECONDS, retention_seconds=config.retention_seconds)
        now = start + minutes * 60.0 + SETTLE_SECONDS + 1
        clock.t = now
        fleet = timed("fleet_run", lambda: run_fleet(store, now, retention_seconds=config.retention_seconds))

        def rollup_shards() -> None:  # every shard, one after another: each is its own invocation
            for i in range(ROLLUP_SHARDS):
                shard = Shard(i, ROLLUP_SHARDS)
                run_rollups(store, now, retention_seconds=config.retention_seconds, shard=shard)

        timed("rollup_run", rollup_shards)
        _fill_history(store, now, fleet_hours, STATE_KIND, WATERMARK_ID)
        meter.phase = "warmup"
        store.latest_by_host("system.cpu.utilization", now - 600)  # (nothing cached: reads again below)

        def overview() -> None:
            for path, params in OVERVIEW:
                assert viewer.get(path, params=params).status in (200, 503)
            store.latest_by_host("system.cpu.utilization", now - 600)

        def chart(span: str) -> None:
            params = {"metric": "system.cpu.utilization", "from": span, "group_by": "none", "agg": "avg"}
            answer = json_of(viewer.get("/api/metrics/series", params=params))
            assert any(v is not None for v in answer["series"][0]["values"]), answer["resolution"]

        timed("overview", overview)
        timed("fleet_chart_24h", lambda: chart("-24h"))
        timed("fleet_chart_7d", lambda: chart("-7d"))
        with bind(ctx):  # the evaluator's schedule (every minute) keeps the host pages' push summary
            meter.phase = "warmup"
            gateway.handler_for("alerts")(scheduled, LocalLambdaContext("alerts"))
        timed("host_list", lambda: viewer.get("/api/hosts"))
        stored = _stored(shadow)
    ingest = counts["ingest_minute"] = {k: v / minutes for k, v in _totals(meter, "ingest_minute").items()}
    ingest["largest"] *= minutes
    return {
        "hosts": n_hosts,
        "ops": counts,
        "wall_s": wall,
        "cpu_s": cpu,
        "stored": stored,
        "fleet_minutes": fleet["minutes"],
    }


def _fill_history(store: Any, now: float, fleet_hours: Any, kind: str, doc_id: str) -> None:
    """24 h of fleet minutes and 7 d of fleet hours copied from the minutes the job built."""
    from dataclasses import replace

    built = list(store.query_fleet(None, "1m", now - 3600, now, now=now))
    last = max(r.start for r in built)
    newest = [r for r in built if r.start == last]
    minutes = [replace(r, start=last - 60 * i) for i in range(1, 1441) for r in newest]
    hour0 = math.floor(now / 3600) * 3600
    hour = fleet_hours([replace(r, start=hour0 - 3600 + 60 * i) for i in range(60) for r in newest])
    hours = [replace(r, start=hour0 - 3600 * i) for i in range(1, 24 * 8) for r in hour]
    store.put_fleet(minutes + hours, now)
    state = store.get_doc(kind, doc_id) or {}
    store.put_doc(kind, doc_id, {**state, "from": now - 8 * 86400})


def _stored(shadow: Any) -> dict[str, list[int]]:
    """[items, bytes + 100 per item] by kind: the pk's prefix (`R#`, `H#`, `FL#1m`, ...) or the pk."""
    out: dict[str, list[int]] = {}
    for table in (SAMPLES, META):
        for page in shadow.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                pk = item["pk"]["S"]
                kind = pk if pk.startswith("FL#") or "#" not in pk else pk.split("#")[0] + "#"
                entry = out.setdefault(kind, [0, 0])
                entry[0] += 1
                entry[1] += item_size(item) + 100
    return out


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares (intercept, slope)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = 0.0 if sxx == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def run(hosts: str | None = None, minutes: int | None = None) -> dict[str, Any]:
    quiet_moto_env()
    sizes = [int(x) for x in (hosts or os.environ.get("VIGIL_BENCH_SCALE_HOSTS", "10,100")).split(",")]
    minutes = minutes or int(os.environ.get("VIGIL_BENCH_SCALE_MINUTES", "6"))
    t = time.perf_counter()
    runs = [simulate(n, minutes) for n in sizes]
    out: dict[str, Any] = {"hosts": sizes, "simulated_minutes": minutes}
    targets = [*sizes, 10_000] if 10_000 not in sizes else sizes
    for r in runs:  # the rollup run read the simulated minutes; a real hourly run reads (and decodes) two
        r["ops"]["rollup_run"]["rru"] *= 120 / (minutes + 1)  # hours: its reads and CPU scale with them
        r["cpu_s"]["rollup_run"] *= 120 / (minutes + 1)
    per_size: dict[int, dict[str, dict[str, float]]] = {r["hosts"]: r["ops"] for r in runs}
    cpus: dict[int, dict[str, float]] = {r["hosts"]: r["cpu_s"] for r in runs}
    for op in OPS:
        for metric in ("requests", "rru", "wru", "bytes", "largest"):
            ys = [per_size[n][op][metric] for n in sizes]
            a, b = fit([float(n) for n in sizes], ys)
            # the largest item is bounded by design (parts of <= 300 KB), not linear: report the measured
            extrapolated = max(ys) if metric == "largest" else max(0.0, a + b * 10_000)
            per_size.setdefault(10_000, {}).setdefault(op, {})[metric] = extrapolated
            shown = " · ".join(f"{n}: {_fmt(y)}" for n, y in zip(sizes, ys, strict=True))
            if metric != "largest":
                shown += f" · fit {_fmt(a)} + {b:.4g}·hosts · 10000: {_fmt(extrapolated)}"
            out[f"{op}_{metric}"] = shown
    for op in ("ingest_minute", *RUN_FUNCTION):
        a, b = fit([float(n) for n in sizes], [cpus[n][op] for n in sizes])
        cpus.setdefault(10_000, {})[op] = max(0.0, a + b * 10_000)
        shown = " · ".join(f"{n}: {cpus[n][op]:.3f}" for n in sizes)
        out[f"{op}_cpu_s"] = f"{shown} · 10000 (fit): {cpus[10_000][op]:.3f}"
        if op != "ingest_minute":
            walls = " · ".join(f"{r['hosts']}: {r['wall_s'][op]:.2f}" for r in runs)
            out[f"{op}_cpu_s"] += f" (wall on moto {walls})"
    shares = {n: largest_shard_share(n) for n in targets}
    for op in RUN_FUNCTION:
        function = RUN_FUNCTION[op]
        if op == "rollup_run":  # one invocation is one shard: the largest one's share of the run
            modelled = [
                lambda_seconds(cpus[n][op] * shares[n], per_size[n][op]["requests"] * shares[n], function)
                for n in targets
            ]
        else:
            modelled = [
                lambda_seconds(cpus[n][op], per_size[n][op]["requests"], function, RUN_POOL[op])
                for n in targets
            ]
        out[f"{op}_lambda_s"] = " · ".join(f"{n}: {s:.2f}" for n, s in zip(targets, modelled, strict=True))
        out[f"{op}_wall_vs_timeout"] = " · ".join(
            f"{n}: {wall_vs_timeout(s, op):.3f}" for n, s in zip(targets, modelled, strict=True)
        )
    out["rollup_shards"] = ROLLUP_SHARDS
    out["rollup_largest_shard_share"] = " · ".join(f"{n}: {shares[n]:.3f}" for n in targets)
    out["timeouts_s"] = ", ".join(f"{op} {TIMEOUT_S[f]:g} ({f})" for op, f in RUN_FUNCTION.items())
    push_ms = [1000 * cpus[n]["ingest_minute"] / n for n in sizes]
    out["push_cpu_ms"] = " · ".join(f"{n}: {ms:.2f}" for n, ms in zip(sizes, push_ms, strict=True))
    out["push_lambda_ms"] = round(
        1000
        * lambda_seconds(
            sum(push_ms) / len(push_ms) / 1000,
            per_size[sizes[-1]]["ingest_minute"]["requests"] / sizes[-1],
            "metrics",
        ),
        2,
    )
    storage = _steady_storage(runs, minutes)
    for n in targets:
        raw = storage[n] if n in storage else storage["per_host"] * n + storage["fixed"]
        parts = monthly_cost(n, per_size[n], cpus[n], raw)
        out[f"usd_host_month_{n}"] = round(sum(parts.values()), 5)
        out[f"usd_host_month_{n}_parts"] = " · ".join(f"{k} {v:.4f}" for k, v in parts.items())
        via_api = monthly_cost(n, per_size[n], cpus[n], raw, via_http_api=True)
        out[f"usd_host_month_{n}_via_http_api"] = round(sum(via_api.values()), 5)
    out["pricing"] = ", ".join(f"{k} {v:g}" for k, v in PRICES.items())
    out["pricing"] += " (US$, us-east-1 on-demand list prices, vigil.domain.pricing)"
    out["memory_mb"] = ", ".join(f"{k} {v}" for k, v in MEMORY_MB.items())
    out["lambda_model"] = (
        f"(CPU here + {CLIENT_CPU_MS:g} ms of botocore CPU per request) x max(1, {FULL_VCPU_MB} MB / memory)"
        f" + the rest of a {REQUEST_MS:g} ms round trip per request / requests in flight "
        f"({', '.join(f'{op} {p}' for op, p in RUN_POOL.items())}); "
        f"logs {LOG_BYTES} B per invocation; pushes through the Function URL "
        f"(`_via_http_api`: + API request and a {ACCESS_LOG_BYTES} B access-log line each)"
    )
    out["total_wall_s"] = round(time.perf_counter() - t, 1)
    return out


def largest_shard_share(n: int) -> float:
    """The share of the bench's `n` hosts (`host-00000`...) that the fullest rollup shard owns."""
    from collections import Counter

    from vigil.domain.shards import shard_of

    owned = Counter(shard_of(f"host-{h:05d}", ROLLUP_SHARDS) for h in range(n))
    return max(owned.values()) / n


def _steady_storage(runs: list[dict[str, Any]], minutes: int) -> dict[Any, float]:
    """Bytes a steady state holds: raw chunks 7 days, host rollups (hourly and daily 400 days, fine tier
    7 days), the fleet tier (minutes 7 days, hours 400 days), latest-by-host and meta items as measured."""
    out: dict[Any, float] = {}
    for r in runs:
        st = r["stored"]

        def total(kind: str, st: dict[str, list[int]] = st) -> float:
            return float(st.get(kind, [0, 0])[1])

        def avg(kind: str, st: dict[str, list[int]] = st) -> float:
            items, size = st.get(kind, [0, 0])
            return size / items if items else 0.0

        raw = total("R#") / (minutes + 1) * 10_080
        rollups = total("H#") * 9_600 + total("D#") * 400 + total("F#") * 168
        fleet = avg("FL#1m") * 10_080 + avg("FL#1h") * 9_600
        rest = total("LH#") + sum(v[1] for k, v in st.items() if "#" not in k)
        out[r["hosts"]] = raw + rollups + fleet + rest
    a, b = fit([float(r["hosts"]) for r in runs], [out[r["hosts"]] for r in runs])
    out["fixed"], out["per_host"] = a, b
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
