"""Evaluation cost per tick: one evaluator tick through the real alerts function (its scheduled event
through the local gateway's handler, `AppContext` on the store, in-process publisher) — wall time,
and on moto DynamoDB the requests and RRU it sends (`bench_cost.Meter`: botocore hooks, capacity from
item sizes) — for 100 and 1,000 hosts x the default rules, x the defaults + one 7-day rule
(`avg(system.cpu.utilization)` over 7 d), and at 100 hosts x 20 rules including the 7-day rule. The
same on SQLite (wall time). The tick measured is the second at its time (the first creates states).

Data per host — exactly what a tick reads, seeded through each store's bulk path (`put_samples` with
one batch per host and range: one chunk item per 2 minutes on DynamoDB, written with BatchWriteItem;
`put_rollups`: one item per host-hour, BatchWriteItem): 9 series (CPU, memory, error rate, 4 extra
gauges at one sample a minute, the request and DB duration histograms) over the last 1.5 hours (the
raw tail after the settled rollups) and over the 7-day window's partial first hour (its raw head),
the rollups of those series a 7-day rule reads (`windows.rollup_pieces`: daily records for the whole
days of its settled hours, hourly ones for the up to 46 hours around them; one representative hour's
records replicated, their item size is what counts), and the rollup job's watermark at this hour.
Nothing else is seeded (older raw samples, the hourly rollups inside whole days): a tick does not
read it (`vigil.alerting.windows`, docs/alerting.md "Evaluation cost"), so the counts are those of a
full store.

moto: its base-table Query scans the whole table (`bench_cost.fast_moto_queries` makes it read
only the partition asked for: same answers and counts); moto's wall times are not AWS times.

Sizes: `make bench` runs 100 and 1,000 hosts (`VIGIL_BENCH_EVAL_HOSTS=100,1000`); one size while
iterating: `python -m bench.bench_evaluation 20 [sqlite|dynamodb]`. Must not be imported by tests.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

HOUR = 3600.0
WEEK = 7 * 86400.0
T0 = math.floor(1_764_000_000.0 / HOUR) * HOUR + 1800.0  # half past an hour
WEEKLY_RULE = {
    "id": "weekly-cpu",
    "name": "CPU over the week",
    "metric": "system.cpu.utilization",
    "agg": "avg",
    "window": "7d",
    "op": ">",
    "threshold": 0.9,
}
GAUGES = {
    "system.cpu.utilization": 0.35,
    "system.memory.utilization": 0.5,
    "http.server.error_rate": 0.01,
    "system.disk.io": 3.0,
    "system.network.io": 3.0,
    "system.network.connections": 3.0,
    "db.client.connections.usage": 3.0,
}
EXTRA_METRICS = tuple(list(GAUGES)[3:])
HISTOGRAMS = ("http.server.request.duration", "db.client.operation.duration")


def _minute_points(host: str, start: float, end: float) -> list[Any]:
    from vigil.domain.models import Histogram, Point

    hist = Histogram(bounds=(0.1, 0.5, 1.0), counts=(50, 8, 2, 0), sum=9.0, count=60)
    out = []
    for ts in range(int(start), int(end), 60):
        out.extend(Point(host, metric, (), float(ts), value) for metric, value in GAUGES.items())
        out.extend(Point(host, metric, (), float(ts), None, hist) for metric in HISTOGRAMS)
    return out


def _rollup_templates() -> tuple[list[Any], list[Any]]:
    """One representative hour's records, and the day 24 of them make (what the rollup job stores)."""
    from vigil.domain.rollups import coarsen, rollup_points

    hour = math.floor(T0 / HOUR) * HOUR
    hourly = rollup_points(_minute_points("h", hour - HOUR, hour), "1h")
    day = coarsen([_moved(r, "h", i * HOUR) for i in range(24) for r in hourly], "1d")
    return hourly, day


def _moved(r: Any, host: str, start: float) -> Any:
    return replace(r, host=host, start=start, last_ts=start + (r.last_ts or 0) % _width(r))


def _width(r: Any) -> float:
    return 86400.0 if r.resolution == "1d" else HOUR


def _rollups(host: str, templates: tuple[list[Any], list[Any]]) -> list[Any]:
    """The rollups a 7-day rule reads at these ticks (`windows.rollup_pieces` of the window's settled
    whole hours: whole days from daily records, the hours around them from hourly ones)."""
    from vigil.alerting.windows import rollup_pieces

    hourly, daily = templates
    first = math.floor((T0 - WEEK) / HOUR) * HOUR + HOUR
    last = math.floor(T0 / HOUR) * HOUR - HOUR  # the watermark's hour minus one: settled
    out = []
    for resolution, a, b in rollup_pieces(first, last):
        step, records = (86400.0, daily) if resolution == "1d" else (HOUR, hourly)
        for i in range(int((b - a) // step) + 1):
            out.extend(_moved(r, host, a + i * step) for r in records)
    return out


def seed(store: Any, hosts: int) -> float:
    """Seeds every host (see the module); returns the seconds it took."""
    from vigil.services.rollups import STATE_KIND, WATERMARK_ID

    started = time.perf_counter()
    hour = math.floor(T0 / HOUR) * HOUR
    templates = _rollup_templates()
    head = math.floor((T0 - WEEK) / HOUR) * HOUR + HOUR
    for h in range(hosts):
        host = f"host-{h:04d}"
        points = _minute_points(host, T0 - WEEK + 60, head) + _minute_points(host, hour - HOUR, T0)
        store.put_samples(host, points, f"{host}-seed", T0)
        store.put_rollups(_rollups(host, templates), T0)
    store.put_doc(STATE_KIND, WATERMARK_ID, {"hour": hour, "ran_at": hour + 60, "fine_from": hour})
    return time.perf_counter() - started


def _rules(extra_short: int, weekly: bool) -> list[Any]:
    from vigil.domain.rules import Rule

    rules = []
    for i in range(extra_short):
        rules.append(
            Rule.model_validate(
                {
                    "id": f"extra-{i}",
                    "name": f"Extra {i}",
                    "metric": EXTRA_METRICS[i % len(EXTRA_METRICS)],
                    "agg": ("avg", "max", "p95")[i % 3],
                    "window": ("5m", "10m", "15m")[i % 3],
                    "op": ">",
                    "threshold": 1000.0 + i,
                }
            )
        )
    if weekly:
        rules.append(Rule.model_validate(WEEKLY_RULE))
    return rules


def sizes(hosts: int) -> list[tuple[str, int, bool]]:
    """(name, extra short-window rules, with the 7-day rule) on top of the 6 default rules."""
    configs = [("defaults", 0, False), ("defaults+7d", 0, True)]
    if hosts <= 100:
        configs.append(("20rules+7d", 13, True))
    return configs


class Ticks:
    """The alerts function's scheduled event through the local gateway, at a settable time."""

    def __init__(self, config: Any, store: Any) -> None:
        from vigil.local.gateway import Gateway
        from vigil.wiring import AppContext

        self.clock = _Clock(T0)
        self.ctx = AppContext(config, clock=self.clock, _store=store)
        self.gateway = Gateway(self.ctx)

    def tick(self, at: float) -> float:
        from vigil.local.gateway import LocalLambdaContext
        from vigil.wiring import bind

        self.clock.t = at
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        with bind(self.ctx):
            started = time.perf_counter()
            result = self.gateway.handler_for("alerts")(event, LocalLambdaContext("alerts"))
            seconds = time.perf_counter() - started
        assert not (result or {}).get("failed_rules"), result
        return seconds


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


def _measure(
    store: Any, ticks: Ticks, hosts: int, phase: Callable[[str], None] = lambda _: None
) -> dict[str, float]:
    """Milliseconds of the measured tick per configuration, in order, each adding rules to the
    previous one's: one tick that creates the new rules' states (the very first also seeds the default
    rules), then the measured tick; `phase(name)` is told which tick is which ("warmup" or the name)."""
    from vigil.alerting.repo import save_rule

    out = {}
    for n, (name, extra, weekly) in enumerate(sizes(hosts)):
        at = T0 + 600 * n
        for rule in _rules(extra, weekly):
            save_rule(store, rule)
        phase("warmup")
        ticks.tick(at)
        phase(name)
        out[name] = round(ticks.tick(at + 60) * 1000, 1)
    phase("warmup")
    return out


def _dynamo(hosts: int) -> dict[str, Any]:
    from moto import mock_aws

    from bench.bench_cost import META, SAMPLES, fast_moto_queries, metered_dynamodb
    from vigil.adapters.store.dynamodb import DynamoStore

    out: dict[str, Any] = {}
    with mock_aws(), fast_moto_queries():
        client, shadow, meter, config = metered_dynamodb("vigil-bench-eval-")
        # seeded through an unhooked client on the same backend: the meter counts only the ticks
        out["seed_s"] = round(seed(DynamoStore(SAMPLES, META, WEEK, client=shadow), hosts), 1)
        store = DynamoStore(SAMPLES, META, WEEK, client=client)
        ticks = Ticks(config, store)
        for name, ms in _measure(store, ticks, hosts, lambda name: setattr(meter, "phase", name)).items():
            keys = [k for k in meter.requests if k.startswith(name + ":")]
            out[f"{name}_tick_ms"] = ms
            out[f"{name}_requests"] = sum(meter.requests[k] for k in keys)
            out[f"{name}_queries"] = meter.requests.get(f"{name}:Query", 0)
            out[f"{name}_rru"] = round(sum(v for k, v in meter.rru.items() if k.startswith(name + ":")), 1)
            out[f"{name}_rru_raw_chunks"] = round(meter.rru.get(f"{name}:Query:R#", 0.0), 1)
            out[f"{name}_wru"] = round(sum(v for k, v in meter.wru.items() if k.startswith(name + ":")), 1)
    return out


def _sqlite(hosts: int) -> dict[str, Any]:
    from vigil.adapters.store.sqlite import SqliteStore
    from vigil.config import Config

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-eval-") as tmp:
        store = SqliteStore(Path(tmp) / "vigil.sqlite3", WEEK)
        out["seed_s"] = round(seed(store, hosts), 1)
        ticks = Ticks(Config(data_dir=Path(tmp), admin_token="bench"), store)
        out.update({f"{name}_tick_ms": ms for name, ms in _measure(store, ticks, hosts).items()})
        store.close()
    return out


def run(
    host_counts: tuple[int, ...] | None = None, stores: tuple[str, ...] = ("dynamodb", "sqlite")
) -> dict[str, Any]:
    from bench.bench_cost import quiet_moto_env

    quiet_moto_env()
    import logging

    logging.getLogger("vigil").setLevel(logging.WARNING)
    counts = host_counts or tuple(
        int(x) for x in os.environ.get("VIGIL_BENCH_EVAL_HOSTS", "100,1000").split(",")
    )
    results: dict[str, Any] = {
        "method": "second evaluator tick at its time through the alerts function's scheduled event "
        "(local gateway, AppContext on the store); per host 9 series: raw for the last 1.5 h and the "
        "7-day window's first partial hour, the daily and hourly rollups a 7-day rule reads (what a "
        "tick reads); moto with partition-only Query scans and direct JSON answers (same answers and "
        "counts); wall times on a shared machine are noisy (bench/NOTES.md gives the load)",
        "rules": "defaults = the 6 default rules; +7d = avg(system.cpu.utilization) over 7 d; "
        "20rules+7d = defaults + 13 short-window rules + the 7-day rule",
    }
    started = time.perf_counter()
    for hosts in counts:
        for store_name, fn in (("dynamodb", _dynamo), ("sqlite", _sqlite)):
            if store_name in stores:
                for key, value in fn(hosts).items():
                    results[f"{store_name}_{hosts}h_{key}"] = value
    results["total_wall_s"] = round(time.perf_counter() - started, 1)
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = tuple(a for a in args if not a.isdigit()) or ("dynamodb", "sqlite")
    given = tuple(int(a) for a in args if a.isdigit()) or None
    print(json.dumps(run(given, chosen), indent=2))
