"""The goals the issues set for benchmark figures, so `bench/README.md` can say beside each figure
what it had to reach and whether this run met it. A goal is read from the figure as the bench wrote it
(numbers, or `"10: 27 · 100: 16 · 1000: 16 · fit …"` strings for per-size figures: `at(1000)`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    text: str  # what the issue asks, as a reader checks it
    met: Callable[[Any, dict[str, Any]], bool]  # (the figure, all figures of that bench) → met?


def at(size: int) -> Callable[[Any], float]:
    """The value for `size` in a per-size figure ("10: 27 · 100: 16 · 1000: 16 · fit …")."""

    def pick(value: Any) -> float:
        match = re.search(rf"(?:^|· ){size}: ([-0-9.,]+)", str(value))
        if match is None:
            raise KeyError(size)
        return float(match.group(1).replace(",", ""))

    return pick


def below(limit: float, of: Callable[[Any], float] = float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: of(value) < limit


def at_most(limit: float, of: Callable[[Any], float] = float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: of(value) <= limit


def at_least(limit: float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: float(value) >= limit


def _scale_cost(value: Any, figures: dict[str, Any]) -> bool:
    return float(value) < 0.10 and float(value) <= float(figures["usd_host_month_100"])


_QUERY_P95 = Goal("< 50 ms (SQLite)", below(50))
_COLD = {"health": 300, "metrics": 600, "alerts": 500, "notify": 500}
_SERVER_READS = ("metrics", "hosts", "series_24h")
_SCALE_OPS = (
    "ingest_minute",
    "evaluator_tick",
    "forecast_run",
    "fleet_run",
    "rollup_run",
    "overview",
    "fleet_chart_24h",
    "fleet_chart_7d",
    "host_list",
)

GOALS: dict[str, dict[str, Goal]] = {
    "bench_absence": {
        "false_firings_total": Goal("0 over the grid", at_most(0)),
        "missed_detections_total": Goal("0 over the grid", at_most(0)),
    },
    "bench_alert_latency": {"max_s": Goal("≤ 15 s breach → webhook", at_most(15))},
    "bench_checks": {
        "checks_run_in_budget": Goal("≥ 500 checks in one 60 s run", at_least(500)),
        "run_seconds": Goal("≤ 60 s", at_most(60)),
    },
    "bench_coldstart": {
        f"{name}_cold_cpu_ms": Goal(f"≤ {ms} ms import + first invocation (CPU)", at_most(ms))
        for name, ms in _COLD.items()
    },
    "bench_dashboard": {
        "load_ms": Goal("< 300 ms navigation → charts drawn", below(300)),
        "js_css_gzip_kb": Goal("< 100 KB gzipped", below(100)),
        "render_60k_ms": Goal("< 30 ms", below(30)),
        "refresh_ms": Goal("< 100 ms", below(100)),
    },
    "bench_peers": {  # issue 18: ratios to VictoriaMetrics in the same run (median latency)
        "one_host_24h_vigil_over_vm": Goal("≤ 3x VictoriaMetrics", at_most(3)),
        "avg_by_host_24h_vigil_over_vm": Goal("≤ 2x VictoriaMetrics", at_most(2)),
        "avg_by_host_hourly_vigil_over_vm": Goal("≤ 2x VictoriaMetrics (7-day hourly)", at_most(2)),
        "fleet_avg_hourly_vigil_over_vm": Goal("≤ 2x VictoriaMetrics (7-day hourly)", at_most(2)),
        "vigil_rw_samples_per_s": Goal("≥ 250,000 samples/s (remote-write, 4 senders)", at_least(250_000)),
        "vigil_json_samples_per_s": Goal("≥ 100,000 samples/s (JSON, 4 senders)", at_least(100_000)),
        "vigil_rw_cpu_s_per_1m": Goal("≤ 5 CPU-s per 1 M samples", at_most(5)),
        "vigil_json_cpu_s_per_1m": Goal("≤ 5 CPU-s per 1 M samples", at_most(5)),
        "vigil_bytes_per_sample": Goal("≤ 4 bytes per sample on disk", at_most(4)),
        "vigil_rss_after_queries_mib": Goal("≤ 256 MiB after the query set", at_most(256)),
        "days": Goal("the issue's 7-day dataset", at_least(7)),
    },
    "bench_queries": {
        key: _QUERY_P95
        for key in (
            "one_host_24h_p95_ms",
            "one_host_7d_p95_ms",
            "fleet_avg_7d_p95_ms",
            "fleet_p95_latency_24h_p95_ms",
            "daily_365d_fleet_p95_ms",
        )
    },
    "bench_scale": {
        "overview_requests": Goal("≤ 50 at 1,000 hosts", at_most(50, at(1000))),
        "fleet_chart_24h_requests": Goal("≤ 50 at 1,000 hosts", at_most(50, at(1000))),
        "fleet_chart_24h_rru": Goal("≤ 2,000 at 1,000 hosts", at_most(2000, at(1000))),
        **{f"{op}_largest": Goal("< 350 KB at 1,000 hosts", below(350_000, at(1000))) for op in _SCALE_OPS},
        "usd_host_month_10000": Goal("< US$0.10 and ≤ the 100-host figure", _scale_cost),
        **{
            f"{op}_wall_vs_timeout": Goal("≤ 0.8 of its timeout at 10,000 hosts", at_most(0.8, at(10_000)))
            for op in ("evaluator_tick", "forecast_run", "fleet_run", "rollup_run")
        },
    },
    "bench_scale_local": {
        **{
            f"{view}_p95_ms_1000": Goal("< 100 ms at 1,000 hosts x 7 days", below(100))
            for view in ("fleet_chart_24h", "fleet_chart_7d", "overview_snapshot", "overview_chart")
        },
        **{
            f"{view}_p95_ratio_1000_vs_100": Goal("well under 10 (≤ 5)", at_most(5))
            for view in ("fleet_chart_24h", "fleet_chart_7d", "overview_snapshot", "overview_chart")
        },
        "days": Goal("7 days loaded", at_least(7)),
    },
    "bench_server_load": {
        "ingest_b1000_x16_samples_per_s": Goal("≥ 26,000 (2 x the 13 k before)", at_least(26_000)),
        # issue 18: JSON ≥ 100 k/s and remote-write ≥ 250 k/s at 4 senders, ≤ 5 CPU-s per 1 M samples
        "ingest_b1000_x4_samples_per_s": Goal("≥ 100,000", at_least(100_000)),
        "ingest_b1000_x4_cpu_s_per_m": Goal("≤ 5 CPU-s per 1 M samples", at_most(5)),
        "remote_write_b1000_x4_samples_per_s": Goal("≥ 250,000", at_least(250_000)),
        "remote_write_b1000_x4_cpu_s_per_m": Goal("≤ 5 CPU-s per 1 M samples", at_most(5)),
        "ingest_b1000_x16_timeouts": Goal("0", at_most(0)),
        "ingest_b1000_x64_timeouts": Goal("0", at_most(0)),
        "health_p99_ms_500_slowloris": Goal("< 100 ms", below(100)),
        **{f"read_{read}_ratio": Goal("≤ 2 x idle", at_most(2)) for read in _SERVER_READS},
    },
}


def judge(bench: str, figure: str, value: Any, figures: dict[str, Any]) -> tuple[str, str]:
    """(goal text, "yes"/"**no**"/"") for one figure; "" when no goal applies or it cannot be read."""
    goal = GOALS.get(bench, {}).get(figure)
    if goal is None:
        return "", ""
    try:
        return goal.text, "yes" if goal.met(value, figures) else "**no**"
    except (KeyError, TypeError, ValueError):
        return goal.text, "?"
