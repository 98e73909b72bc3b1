"""Cost per host-month, counted: a simulated day against moto DynamoDB through the real local gateway
and Lambda handlers (`AppContext` whose store is a `DynamoStore` on a moto client, i.e. what
`VIGIL_STORE=dynamodb` builds), extrapolated to a 30-day month and priced at us-east-1 list prices.

The day is compressed: the clock is set to each minute of yesterday in turn and, per minute, every
host pushes one 60 s agent batch (20 series x 6 samples, 4 significant digits, agent-like names and
labels) with `POST /v1/samples`; the alerts function's scheduled evaluation runs (default rules); at
each hour's end the metrics function's scheduled rollup job runs. The store and TTL logic only look at
the timestamps they are given, not at the wall clock.

Counting (`Meter`): botocore `before-call.dynamodb` / `after-call.dynamodb` hooks on the store's client
see every request. moto's ConsumedCapacity is not reliable, so capacity is computed from item sizes
with DynamoDB's published rules: item size = attribute names + values (S: UTF-8 bytes, N: ~1 byte per
2 significant digits + 1, B: bytes, containers 3 bytes + 1 per element); a write costs ceil(size /
1 KB) WRU per item (UpdateItem/DeleteItem: the larger of the item before and after, conditional
failures included, transactions x2); a GetItem ceil(size / 4 KB) RRU (x0.5 eventually consistent);
a Query page ceil(sum of its items' sizes / 4 KB) RRU (x0.5 eventually consistent), at least one unit.
Full item sizes (projections read the whole item) come from a second, unhooked client on the same
moto backend. Stored bytes = every item's size + 100 bytes of per-item overhead (DynamoDB's storage
accounting) at the end of the day. Lambda: invocations counted; duration and memory ASSUMED (below).
Prices come from `vigil.domain.pricing` (the table `GET /api/cost` uses). Running it prints figures;
tests/functional/cost imports `Meter` and `metered_dynamodb` to count the same simulated load the
cost readout measures.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import random
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vigil.api.route_table import FUNCTION_MEMORY_MB
from vigil.domain.pricing import HOURS_PER_MONTH, pricing_for

PRICES = pricing_for("us-east-1").as_dict()  # the one pricing table (vigil.domain.pricing), US$
# Each phase is billed at the memory of the function that runs it (infra/functions.py sizes them).
MEMORY_GB = {
    "push": FUNCTION_MEMORY_MB["metrics"] / 1024,
    "evaluate": FUNCTION_MEMORY_MB["alerts"] / 1024,
    "rollup": FUNCTION_MEMORY_MB["metrics"] / 1024,
}
ASSUMED_MS = {"push": 25.0, "evaluate": 100.0, "rollup": 2000.0}  # assumed warm durations per invocation
MONTH_DAYS = 30
SAMPLES, META = "bench-samples", "bench-meta"
SERIES: list[tuple[str, dict[str, str]]] = [
    ("system.cpu.utilization", {"cpu": "total"}),
    ("system.cpu.load_average.1m", {}),
    ("system.cpu.load_average.5m", {}),
    ("system.cpu.load_average.15m", {}),
    ("system.memory.usage", {"state": "used"}),
    ("system.memory.limit", {}),
    ("system.memory.utilization", {"state": "used"}),
    ("system.disk.io", {"direction": "read"}),
    ("system.disk.io", {"direction": "write"}),
    ("system.network.io", {"direction": "receive"}),
    ("system.network.io", {"direction": "transmit"}),
    ("system.network.connections", {"protocol": "tcp", "state": "ESTABLISHED"}),
    ("system.process.count", {}),
    ("system.filesystem.utilization", {"mountpoint": "/"}),
    ("db.client.connections.usage", {"state": "used"}),
    ("app.requests.rate", {}),
    ("app.errors.rate", {}),
    ("app.users.concurrent", {}),
    ("app.orders.active", {}),
    ("app.cache.hit_ratio", {}),
]


def attr_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB-JSON attribute value (names are added by the caller)."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(str(v).encode())
    if kind == "N":
        digits = str(v).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    if kind == "NS":
        return sum(attr_size({"N": x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + attr_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attr_size(x) for k, x in v.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + attr_size(v) for k, v in (item or {}).items())


class Meter:
    """Requests, WRU and RRU of one boto3 DynamoDB client, computed from item sizes (see the module)."""

    def __init__(self, client: Any, shadow: Any) -> None:
        self.shadow = shadow  # same moto backend, not hooked: reads full items for the arithmetic
        self.requests: Counter[str] = Counter()
        self.wru: defaultdict[str, float] = defaultdict(float)
        self.rru: defaultdict[str, float] = defaultdict(float)
        self.bytes: defaultdict[str, int] = defaultdict(int)  # item bytes written or read
        self.largest: defaultdict[str, int] = defaultdict(int)  # the largest item written or read
        # CPU seconds spent inside requests (botocore's send, moto's answer, parsing) per phase: what a
        # Lambda duration model subtracts from the process's CPU time and replaces by network latency
        self.call_cpu: defaultdict[str, float] = defaultdict(float)
        self.phase = "other"
        # the store issues per-host reads from several threads (`fanout`): each call's state is the
        # calling thread's, its CPU that thread's, and the counters are updated under a lock
        self._calls = threading.local()
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb", self._on_before)
        client.meta.events.register("after-call.dynamodb", self._on_after)

    def _full(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.shadow.get_item(TableName=table, Key=key).get("Item")
        return item

    def _on_before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self._calls.started = time.thread_time()  # the meter's own work counts as the request's
        op = model.name
        body = json.loads(params.get("body") or b"{}")
        self._calls.before = {"op": op, "body": body}
        if op in ("UpdateItem", "DeleteItem"):  # the item before the write (the larger one is billed)
            self._calls.before["old"] = item_size(self._full(body["TableName"], body["Key"]))

    def _saw(self, key: str, size: int) -> None:
        self.bytes[key] += size
        self.largest[key] = max(self.largest[key], size)

    def _on_after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            try:
                self._count(model.name, parsed)
            finally:
                self.call_cpu[self.phase] += time.thread_time() - self._calls.started

    def _count(self, op: str, parsed: dict[str, Any]) -> None:
        body = self._calls.before.get("body", {})
        key = f"{self.phase}:{op}"
        self.requests[key] += 1
        if op == "PutItem":
            self._saw(key, item_size(body["Item"]))
            self.wru[key] += _wru(item_size(body["Item"]))
        elif op == "BatchWriteItem":
            unprocessed = parsed.get("UnprocessedItems") or {}
            for table, requests in body["RequestItems"].items():
                done = len(requests) - len(unprocessed.get(table, []))
                for request in requests[:done]:
                    put = request.get("PutRequest")
                    if put:
                        self._saw(key, item_size(put["Item"]))
                    self.wru[key] += _wru(item_size(put["Item"])) if put else 1
        elif op in ("UpdateItem", "DeleteItem"):
            new = item_size(self._full(body["TableName"], body["Key"])) if op == "UpdateItem" else 0
            self.wru[key] += _wru(max(new, self._calls.before.get("old", 0)))
        elif op == "TransactWriteItems":
            for entry in body["TransactItems"]:
                (kind, request), *_ = entry.items()
                size = (
                    item_size(request["Item"])
                    if kind == "Put"
                    else item_size(self._full(request["TableName"], request["Key"]))
                )
                self.wru[key] += 2 * _wru(size)
        elif op == "GetItem":
            item = parsed.get("Item")
            if item is not None and "ProjectionExpression" in body:
                item = self._full(body["TableName"], body["Key"])
            self._saw(key, item_size(item))
            self.rru[key] += _rru(item_size(item), body.get("ConsistentRead", False))
        elif op in ("Query", "Scan"):
            items = parsed.get("Items", [])
            if "ProjectionExpression" in body:  # billed on whole items: repeat the page unprojected
                whole = {
                    k: v
                    for k, v in body.items()
                    if k not in ("ProjectionExpression", "ExpressionAttributeNames")
                }
                items = getattr(self.shadow, "query" if op == "Query" else "scan")(**whole).get("Items", [])
            for item in items:
                self._saw(key, item_size(item))
            total = sum(item_size(item) for item in items)
            raw = body.get("ExpressionAttributeValues", {}).get(":pk", {}).get("S", "").startswith("R#")
            self.rru[key + (":R#" if raw else "")] += _rru(total, body.get("ConsistentRead", False))
        elif op == "BatchGetItem":
            for table, got in (parsed.get("Responses") or {}).items():
                consistent = body["RequestItems"][table].get("ConsistentRead", False)
                self.rru[key] += sum(_rru(item_size(i), consistent) for i in got)


def counted_usd(
    *,
    wru: float,
    rru: float,
    invocations: float,
    gb_seconds: float,
    http_requests: float,
    log_bytes: float = 0.0,
    stored_gb_hours: float = 0.0,
) -> float:
    """US$ of counted work at `PRICES`: request units, Lambda requests and GB-seconds, API requests,
    log bytes ingested, storage (GB x hours stored, over a 720-hour month)."""
    return (
        wru * PRICES["wru"]
        + rru * PRICES["rru"]
        + invocations * PRICES["lambda_request"]
        + gb_seconds * PRICES["gb_second"]
        + http_requests * PRICES["http_request"]
        + log_bytes / 1e9 * PRICES["log_gb"]
        + stored_gb_hours / HOURS_PER_MONTH * PRICES["gb_month"]
    )


def _wru(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def _rru(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


def _batch(host: str, minute_end: float, rng: random.Random) -> list[dict[str, Any]]:
    """One agent minute: each series wanders ±5 % around its own level, 4 significant digits."""
    out = []
    for j, (metric, labels) in enumerate(SERIES):
        level = 10.0 ** ((j * 7 + len(host)) % 9 - 2)  # 0.01 .. 1e6, like ratios, loads, bytes/s
        if metric.endswith(("utilization", "ratio")):  # ratios (unit "1") must stay near 0..1
            level = 0.05 + (j * 7 + len(host)) % 9 / 10
        for i in range(6):
            value = float(f"{level * (1 + rng.uniform(-0.05, 0.05)):.4g}")
            out.append({"metric": metric, "value": value, "ts": minute_end - 50 + 10 * i, "labels": labels})
    return out


def stored_bytes(shadow: Any) -> dict[str, int]:
    """Items and bytes (+100 per item) by kind: raw chunks (R#), hourly (H#) and daily (D#) rollups,
    everything else (meta)."""
    out: Counter[str] = Counter()
    for table in (SAMPLES, META):
        for page in shadow.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                pk = item["pk"]["S"]
                kind = {"R#": "raw", "H#": "hourly", "D#": "daily"}.get(pk[:2], "meta")
                out[f"{kind}_items"] += 1
                out[f"{kind}_bytes"] += item_size(item) + 100
    return dict(out)


def quiet_moto_env() -> None:
    """Environment for a bench on moto: fake credentials, no EMF metrics, warnings-only logs."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(var, "testing")


@contextlib.contextmanager
def fast_moto_queries() -> Iterator[None]:
    """Two moto costs that have nothing to do with DynamoDB, removed for the block's duration:
    - its base-table `Query` sorts EVERY item of the table before picking the partition asked for
      (moto 5: `Table.query` filters `all_items()`): here it sees only its partition's items, the same
      items in the same order;
    - its generic response serializer walks the shape of every attribute of every item (about 1 ms
      per item here): here a Query's result is encoded as JSON directly, binary values in base64 as
      DynamoDB's JSON protocol has them.
    The client parses identical responses (checked: same parsed answer), so answers, requests and
    RRU counts are unchanged; 1,000 hosts holding 250,000 items become feasible. Index queries and
    errors take moto's own path."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    original_query, original_handler = Table.query, DynamoHandler.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: sorted(partition, key=lambda x: x.range_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    def handler(self: Any) -> Any:
        result = original_handler(self)
        if isinstance(result, ActionResult) and isinstance(result.result, dict):
            return json.dumps(result.result, default=_json_binary)
        return result

    Table.query = query  # type: ignore[method-assign]
    DynamoHandler.query = handler  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original_query  # type: ignore[method-assign]
        DynamoHandler.query = original_handler  # type: ignore[method-assign]


def _json_binary(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)  # Decimal


def metered_dynamodb(prefix: str) -> tuple[Any, Any, Meter, Any]:
    """Inside `mock_aws()`: the store's client (hooked by a `Meter`), an unhooked shadow client on the
    same backend, fresh tables, the meter and a `Config` for them (what `VIGIL_STORE=dynamodb` builds)."""
    import boto3

    from vigil.adapters.store.dynamodb import create_tables
    from vigil.config import Config

    client = boto3.client("dynamodb", region_name="us-east-1")
    shadow = boto3.client("dynamodb", region_name="us-east-1")
    create_tables(shadow, SAMPLES, META)
    config = Config(
        data_dir=Path(tempfile.mkdtemp(prefix=prefix)),
        admin_token="bench",
        store="dynamodb",
        samples_table=SAMPLES,
        meta_table=META,
    )
    return client, shadow, Meter(client, shadow), config


def run(hosts: int | None = None, minutes: int | None = None) -> dict[str, float | int | str]:
    quiet_moto_env()
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore
    from vigil.local.client import GatewayClient, json_of
    from vigil.local.gateway import Gateway, LocalLambdaContext
    from vigil.wiring import AppContext, bind

    n_hosts = hosts or int(os.environ.get("VIGIL_BENCH_COST_HOSTS", "3"))
    minutes = minutes or int(os.environ.get("VIGIL_BENCH_COST_MINUTES", "360"))
    rng = random.Random(3)
    day0 = math.floor(time.time() / 86400) * 86400 - 86400  # yesterday, UTC
    with mock_aws():
        client, shadow, meter, config = metered_dynamodb("vigil-bench-cost-")
        clock = _Clock(day0)
        store = DynamoStore(SAMPLES, META, config.retention_seconds, client=client)
        ctx = AppContext(config, clock=clock, _store=store)
        gateway = Gateway(ctx)
        meter.phase = "setup"
        key = json_of(GatewayClient(gateway, token="bench").post("/api/keys", json={"name": "agents"}))["key"]
        agent = GatewayClient(gateway, token=key)
        scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        invocations: Counter[str] = Counter()
        wall: defaultdict[str, float] = defaultdict(float)
        started = time.perf_counter()
        for minute in range(-1, minutes):  # minute -1 warms up: first-sight series/metric items
            clock.t = day0 + (minute + 1) * 60.0 + 1.0
            meter.phase = "push" if minute >= 0 else "warmup"
            t = time.perf_counter()
            for h in range(n_hosts):
                host = f"host-{h:02d}"
                # what `vigil agent` sends: every sample with its ts, no batch_id (content identity)
                body = {"host": host, "samples": _batch(host, clock.t - 1, rng)}
                response = agent.post("/v1/samples", json=body)
                assert response.status == 202, response.body[:300]
                invocations[meter.phase] += 1
            wall[meter.phase] += time.perf_counter() - t
            if minute < 0:
                continue
            meter.phase = "evaluate"
            t = time.perf_counter()
            with bind(ctx):
                gateway.handler_for("alerts")(scheduled, LocalLambdaContext("alerts"))
            wall["evaluate"] += time.perf_counter() - t
            invocations["evaluate"] += 1
            if minute % 60 == 59:
                meter.phase = "rollup"
                clock.t += 60.0  # the hourly rule fires just after the hour
                t = time.perf_counter()
                with bind(ctx):
                    gateway.handler_for("metrics")(scheduled, LocalLambdaContext("metrics"))
                wall["rollup"] += time.perf_counter() - t
                invocations["rollup"] += 1
        simulated_s = time.perf_counter() - started
        storage = stored_bytes(shadow)
        rules = len(store.list_docs("rule"))
    return _figures(meter, invocations, wall, storage, n_hosts, rules, simulated_s, minutes)


def _figures(
    meter: Meter,
    invocations: Counter[str],
    wall: defaultdict[str, float],
    storage: dict[str, int],
    n_hosts: int,
    rules: int,
    simulated_s: float,
    minutes: int,
) -> dict[str, float | int | str]:
    """Per-host-month figures: per-host work (pushes) divided by the hosts, per-deployment work
    (evaluator, rollup job) shown both whole and as the share of each of the simulated hosts."""
    out: dict[str, float | int | str] = {
        "hosts": n_hosts,
        "rules": rules,
        "simulated_s": round(simulated_s, 1),
    }
    month = MONTH_DAYS * 1440 / minutes  # simulated minutes → a 30-day month
    per_host: dict[str, float] = {}
    whole: dict[str, float] = {}
    for phase in ("push", "evaluate", "rollup"):
        reqs = sum(v for k, v in meter.requests.items() if k.startswith(phase + ":"))
        wru = sum(v for k, v in meter.wru.items() if k.startswith(phase + ":"))
        rru = sum(v for k, v in meter.rru.items() if k.startswith(phase + ":"))
        out[f"day_{phase}_dynamodb_requests"] = reqs
        out[f"day_{phase}_wru"] = wru
        out[f"day_{phase}_rru"] = rru
        out[f"day_{phase}_invocations"] = invocations[phase]
        out[f"local_{phase}_ms_per_invocation"] = round(1000 * wall[phase] / max(1, invocations[phase]), 1)
        usd = month * counted_usd(
            wru=wru,
            rru=rru,
            invocations=invocations[phase],
            gb_seconds=invocations[phase] * MEMORY_GB[phase] * ASSUMED_MS[phase] / 1000,
            http_requests=invocations[phase] if phase == "push" else 0,
        )
        per_host[phase] = usd / n_hosts
        whole[phase] = usd
        out[f"usd_host_month_{phase}"] = round(usd / n_hosts, 5)
        if phase != "push":  # one evaluator and one rollup job per deployment, whatever the hosts
            out[f"usd_deployment_month_{phase}"] = round(usd, 4)
    # raw chunks stay 7 days, rollups 400: a steady-state month holds 7 days of raw and, per host,
    # a growing rollup history; the doc prices the rollup items one month holds (30 days of them).
    for k, v in storage.items():
        out[f"day_stored_{k}"] = v

    # steady state per host: 7 days of raw chunks; 400 days of rollups = 9,600 hourly + 400 daily
    # items at the average sizes seen; the meta items once
    def avg(kind: str) -> float:
        return storage.get(f"{kind}_bytes", 0) / max(1, storage.get(f"{kind}_items", 0))

    raw_day = storage.get("raw_bytes", 0) * 1440 / minutes / n_hosts
    steady = 7 * raw_day + 400 * (24 * avg("hourly") + avg("daily")) + storage.get("meta_bytes", 0) / n_hosts
    out["steady_state_mb_per_host"] = round(steady / 1e6, 2)
    per_host["storage"] = steady / 1e9 * PRICES["gb_month"]
    out["usd_host_month_storage"] = round(per_host["storage"], 5)
    out["usd_host_month_total"] = round(sum(per_host.values()), 4)
    # the evaluator's per-rule work is per deployment; its per-host reads scale with hosts (query_many
    # reads each host's window once per tick): at 100 hosts the fixed part is shared 100 ways
    window_rru = sum(v for k, v in meter.rru.items() if k.startswith("evaluate:") and k.endswith(":R#"))
    window_usd = month * window_rru * PRICES["rru"] / n_hosts  # per host: scales with the hosts
    out["usd_host_month_evaluate_window_reads"] = round(window_usd, 5)
    variable = per_host["push"] + per_host["storage"] + window_usd
    out["usd_host_month_total_at_100_hosts"] = round(
        variable + (whole["evaluate"] - window_usd * n_hosts + whole["rollup"]) / 100, 4
    )
    out["host_month_pushes"] = round(invocations["push"] * month / n_hosts)
    out["host_month_push_wru"] = round(
        sum(v for k, v in meter.wru.items() if k.startswith("push:")) * month / n_hosts
    )
    out["assumed"] = (
        f"{MEMORY_GB['push'] * 1024:.0f} MB (metrics), {MEMORY_GB['evaluate'] * 1024:.0f} MB (alerts) "
        f"arm64; ms per invocation push {ASSUMED_MS['push']:.0f}, "
        f"evaluate {ASSUMED_MS['evaluate']:.0f}, rollup {ASSUMED_MS['rollup']:.0f}; month = {MONTH_DAYS} d "
        f"= {month:.0f} x the {minutes} simulated minutes (after one uncounted warm-up minute)"
    )
    for key in sorted(meter.requests):
        out[f"ops_{key}"] = meter.requests[key]
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
