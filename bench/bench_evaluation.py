"""Evaluation cost per tick: wall time of one evaluator tick (`run_evaluation`, rules and states loaded
from the store, notifications published to a recorder) and, on moto DynamoDB, the DynamoDB requests
that tick sends (botocore `before-call.dynamodb` hook on the store's client) — for 100 and 1,000
hosts x the default rules + one 7-day rule (`avg(system.cpu.utilization)` over 7 d), for 100 hosts
x 20 rules including that 7-day rule, and each size once WITHOUT the 7-day rule to show what it adds.
Also on SQLite (local mode) for the same sizes.

Data per host: the default rules' metrics (CPU and memory gauges, an error-rate gauge, a request
duration histogram) every 60 s over the last 15 minutes, and `system.cpu.utilization` once an hour
over the last 7 days (every 6 hours above 100 hosts, to keep moto's seeding bearable). The 7-day
history is SPARSE (an agent pushing every 10 s writes one DynamoDB chunk item per host every 2
minutes, 5,040 a week; here 167 or 28): reads of the 7-day window scale with
the real item count, so the per-tick DynamoDB figure for the 7-day rule is a lower bound — the result
also gives `items_7d_real_per_host` for the arithmetic. The tick measured is the second one (the
first creates alert states). On SQLite each configuration with the 7-day rule is also timed the way
ticks read before per-window reads (`..._tick_ms_if_one_read_over_7d`: every rule's metrics over 7
days); only CPU has 7 days of history here, so that comparison understates what a real week of every
metric would cost the old way. Must not be imported by tests (prints figures; it is not a timed test).

Run one size while iterating: `python -m bench.bench_evaluation 20 [sqlite|dynamodb]`; `run()` does all.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

T0 = 1_764_000_000.0
SAMPLES, META = "bench-eval-samples", "bench-eval-meta"
WEEK = 7 * 86400
WEEKLY_RULE = {
    "id": "weekly-cpu",
    "name": "CPU over the week",
    "metric": "system.cpu.utilization",
    "agg": "avg",
    "window": "7d",
    "op": ">",
    "threshold": 0.9,
}
EXTRA_METRICS = (
    "system.disk.io",
    "system.network.io",
    "system.network.connections",
    "db.client.connections.usage",
)


class Recorder:
    def __init__(self) -> None:
        self.messages = 0

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages += 1


def _points(host: str, now: float, weekly_step_h: int) -> list[Any]:
    from vigil.domain.models import Histogram, Point

    out = []
    for ts in range(int(now - 900), int(now), 60):
        t = float(ts)
        out.append(Point(host, "system.cpu.utilization", (), t, 0.35))
        out.append(Point(host, "system.memory.utilization", (), t, 0.5))
        out.append(Point(host, "http.server.error_rate", (), t, 0.01))
        for metric in EXTRA_METRICS:
            out.append(Point(host, metric, (), t, 3.0))
        hist = Histogram(bounds=(0.1, 0.5, 1.0), counts=(50, 8, 2, 0), sum=9.0, count=60)
        out.append(Point(host, "http.server.request.duration", (), t, None, hist))
    for hour in range(1, 168, weekly_step_h):
        out.append(Point(host, "system.cpu.utilization", (), float(now - hour * 3600), 0.3))
    return out


def _rules(extra_short: int, weekly: bool) -> list[Any]:
    from vigil.config import Config
    from vigil.domain.rules import Rule, default_rules

    config = Config()
    rules = default_rules(config.thresholds, config.interval_seconds)
    for i in range(extra_short):
        metric = EXTRA_METRICS[i % len(EXTRA_METRICS)]
        rules.append(
            Rule.model_validate(
                {
                    "id": f"extra-{i}",
                    "name": f"Extra {i}",
                    "metric": metric,
                    "agg": ("avg", "max", "p95")[i % 2],
                    "window": ("5m", "10m", "15m")[i % 3],
                    "op": ">",
                    "threshold": 1000.0 + i,
                }
            )
        )
    if weekly:
        rules.append(Rule.model_validate(WEEKLY_RULE))
    return rules


def _measure(store: Any, rules: list[Any], count: Counter[str] | None) -> dict[str, float | int]:
    from vigil.alerting.repo import save_rule
    from vigil.alerting.service import run_evaluation

    for rule in rules:
        save_rule(store, rule)
    recorder = Recorder()
    if count is None and any(r.window > WEEK / 2 for r in rules):  # SQLite: also the old way, once
        out_old = _tick_with_shared_read(store)
    else:
        out_old = None
    run_evaluation(store, recorder, None, T0)  # first tick: states
    if count is not None:
        count.clear()
    started = time.perf_counter()
    report = run_evaluation(store, recorder, None, T0 + 60)
    seconds = time.perf_counter() - started
    assert not report.failed, report.failed
    out: dict[str, float | int] = {"tick_ms": round(seconds * 1000, 1), "rules": len(rules)}
    if count is not None:
        out["ddb_requests"] = sum(count.values())
        out["ddb_queries"] = count["Query"]
    if out_old is not None:
        out["tick_ms_if_one_read_over_7d"] = out_old
    return out


def _tick_with_shared_read(store: Any) -> float:
    """One tick the way evaluation read before per-window reads: every rule's metrics over the longest
    window (what `SHARED_WINDOW_SECONDS` above 7 days reproduces)."""
    from vigil.alerting import service

    saved = service.SHARED_WINDOW_SECONDS
    service.SHARED_WINDOW_SECONDS = float(WEEK + 1)
    try:
        service.run_evaluation(store, Recorder(), None, T0)
        started = time.perf_counter()
        service.run_evaluation(store, Recorder(), None, T0 + 30)
        return round((time.perf_counter() - started) * 1000, 1)
    finally:
        service.SHARED_WINDOW_SECONDS = saved


def weekly_step(hosts: int) -> int:
    """Hours between the seeded 7-day samples: hourly up to 100 hosts, every 6 h beyond (moto's speed)."""
    return 1 if hosts <= 100 else 6


def _dynamo(hosts: int, configs: list[tuple[str, int, bool]]) -> dict[str, dict[str, float | int]]:
    import boto3
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore, create_tables

    out = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, SAMPLES, META)
        store = DynamoStore(SAMPLES, META, float(WEEK), client=client)
        for h in range(hosts):
            host = f"host-{h:04d}"
            store.put_samples(host, _points(host, T0, weekly_step(hosts)), None, T0)
        count: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: count.update([model.name]))
        for name, extra, weekly in configs:
            for doc in store.list_docs("rule"):
                store.delete_doc("rule", str(doc["id"]))
            out[name] = _measure(store, _rules(extra, weekly), count)
    return out


def _sqlite(hosts: int, configs: list[tuple[str, int, bool]]) -> dict[str, dict[str, float | int]]:
    from vigil.adapters.store.sqlite import SqliteStore

    out = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-eval-") as tmp:
        store = SqliteStore(Path(tmp) / "vigil.sqlite3", float(WEEK))
        for h in range(hosts):
            host = f"host-{h:04d}"
            store.put_samples(host, _points(host, T0, weekly_step(hosts)), None, T0)
        for name, extra, weekly in configs:
            for doc in store.list_docs("rule"):
                store.delete_doc("rule", str(doc["id"]))
            out[name] = _measure(store, _rules(extra, weekly), None)
        store.close()
    return out


def sizes(hosts: int) -> list[tuple[str, int, bool]]:
    configs = [("defaults", 0, False), ("defaults+7d", 0, True)]
    if hosts <= 100:
        configs += [("20rules", 14, False), ("20rules+7d", 13, True)]
    return configs


def run(
    host_counts: tuple[int, ...] = (100, 1000), stores: tuple[str, ...] = ("dynamodb", "sqlite")
) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(var, "testing")
    import logging

    logging.getLogger("vigil").setLevel(logging.WARNING)
    results: dict[str, Any] = {
        "method": "second evaluator tick, rules+states from the store, publish to a recorder; data per host: "
        "default metrics every 60 s for 15 min + hourly CPU for 7 days (sparse: see items_7d_real_per_host)",
        "items_7d_real_per_host": WEEK // 120,  # one chunk item per 2 minutes at any agent cadence
    }
    for hosts in host_counts:
        results[f"items_7d_seeded_per_host_{hosts}h"] = len(range(1, 168, weekly_step(hosts)))
        for store_name, fn in (("dynamodb", _dynamo), ("sqlite", _sqlite)):
            if store_name not in stores:
                continue
            for config, figures in fn(hosts, sizes(hosts)).items():
                for key, value in figures.items():
                    results[f"{store_name}_{hosts}h_{config}_{key}"] = value
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = tuple(a for a in args if not a.isdigit()) or ("dynamodb", "sqlite")
    counts = tuple(int(a) for a in args if a.isdigit()) or (100, 1000)
    print(json.dumps(run(counts, chosen), indent=2))
