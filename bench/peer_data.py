"""The pure parts of the peer benchmark (`bench/bench_peers.py`): the seeded dataset, its wire bodies
(Prometheus remote-write and Vigil's JSON), the query set as each system asks it, the expected answers
computed from the data, the comparison of an answer with them, and the table with Vigil/best ratios.
No process, socket or clock here, so tests can check it quickly (tests/unit/test_bench_peers.py).

Dataset (issue 18): `hosts` x `metrics` gauges, one sample per `INTERVAL` (60 s) for `days` days,
labels `__name__="bench_metric_MM", host="host-HHH", job="bench"`. Each series is a random walk in
0..100 with one decimal, seeded per series (`SEED`), so every system gets identical samples. The last
sample is one minute before an hour boundary, so the hourly queries cover whole hours only.

Bucket alignment: Vigil's buckets are `[B, B + step)` with `B` a multiple of `step`. A peer answers
the same bucket with `avg_over_time(x[step] offset 1s)` evaluated at `B + step` (the window is
`[B - 1 s, B + step - 1 s]` in Prometheus 2.x, `(B - 1 s, B + step - 1 s]` in VictoriaMetrics: the
samples `B .. B + step - 60` either way), so evaluation times stay multiples of the step, which
VictoriaMetrics may align to.
"""

from __future__ import annotations

import math
import random
import statistics
import struct
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cramjam
import orjson

from tests.prom_wire import delimited, varint

INTERVAL = 60
SEED = 42
HOUR = 3600
DAY = 86400
QUERY_METRIC = "bench_metric_00"
QUERY_HOST_INDEX = 42  # the one-series query's host (modulo the host count)
SAMPLES_PER_SERIES_PER_REQUEST = 4  # remote-write request: a sender's 500 series x 4 samples = 2,000
SENDERS = 4
# senders meet every 30 min of data time: Prometheus refuses samples over 1 h behind its head
SYNC_SECONDS = 1800
JSON_SAMPLES_PER_BATCH = 2000
REMOTE_WRITE_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
SYSTEMS = ("prometheus", "victoriametrics", "vigil")
TITLES = {"prometheus": "Prometheus", "victoriametrics": "VictoriaMetrics", "vigil": "Vigil"}


@dataclass(frozen=True)
class Dataset:
    hosts: int
    metrics: int
    days: int
    end: int  # the newest sample's time (epoch seconds): one minute before an hour boundary

    @property
    def points(self) -> int:
        return self.days * DAY // INTERVAL

    @property
    def start(self) -> int:
        return self.end - (self.points - 1) * INTERVAL

    @property
    def samples(self) -> int:
        return self.hosts * self.metrics * self.points

    def describe(self) -> str:
        return (
            f"{self.hosts} hosts x {self.metrics} gauges @ {INTERVAL} s x {self.days} d = "
            f"{self.samples:,} samples"
        )

    def host(self, h: int) -> str:
        return f"host-{h:03d}"

    def metric(self, m: int) -> str:
        return f"bench_metric_{m:02d}"

    def timestamps(self) -> range:
        return range(self.start, self.end + 1, INTERVAL)

    def values(self, h: int, m: int) -> array[float]:
        """Series (h, m): a random walk in 0..100 with one decimal, seeded by (SEED, h, m)."""
        rng = random.Random(SEED * 1_000_003 + h * 1_009 + m)
        out = array("d")
        v = rng.uniform(20, 80)
        for _ in range(self.points):
            v = min(100.0, max(0.0, v + rng.uniform(-2, 2)))
            out.append(round(v, 1))
        return out


def end_before(now: float) -> int:
    """The newest sample's time for a run at `now`: at least 5 minutes old (VictoriaMetrics hides the
    last 30 s; Prometheus' and VM's last evaluation is one step after it), one minute before an hour."""
    return int((now - 300) // HOUR) * HOUR - INTERVAL


# ------------------------------------------------------------------------------------- wire bodies


def series_labels(labels: Sequence[tuple[str, str]]) -> bytes:
    """The `labels` fields of one protobuf `TimeSeries` (sorted by name, as Prometheus sends them)."""
    return b"".join(
        delimited(1, delimited(1, k.encode()) + delimited(2, v.encode())) for k, v in sorted(labels)
    )


class SampleEncoder:
    """Encodes protobuf `Sample` fields fast: the timestamp part of each minute is built once."""

    _double = struct.Struct("<d").pack

    def __init__(self, timestamps: Sequence[int]) -> None:
        self.tails = {ts: b"\x10" + varint(ts * 1000) for ts in timestamps}

    def samples(self, timestamps: Sequence[int], values: Sequence[float]) -> bytes:
        parts = []
        for ts, v in zip(timestamps, values, strict=True):
            sample = b"\x09" + self._double(v) + self.tails[ts]
            parts.append(b"\x12" + varint(len(sample)) + sample)
        return b"".join(parts)


Bodies = list[list[tuple[bytes, int]]]  # per sender: (request body, samples in it) in sending order


def remote_write_bodies(data: Dataset) -> Bodies:
    """Per sender, its snappy-compressed `WriteRequest`s in time order: sender i owns the hosts with
    `h % SENDERS == i`; each request holds all its series x `SAMPLES_PER_SERIES_PER_REQUEST` samples."""
    encoder = SampleEncoder(data.timestamps())
    ts = list(data.timestamps())
    per_sender: Bodies = []
    k = SAMPLES_PER_SERIES_PER_REQUEST
    for sender in range(SENDERS):
        owned = [
            (series_labels((("__name__", data.metric(m)), ("host", data.host(h)), ("job", "bench"))), h, m)
            for h in range(sender, data.hosts, SENDERS)
            for m in range(data.metrics)
        ]
        values = [data.values(h, m) for _, h, m in owned]
        bodies = []
        for i in range(0, data.points, k):
            raw = b"".join(
                delimited(1, labels + encoder.samples(ts[i : i + k], vals[i : i + k]))
                for (labels, _, _), vals in zip(owned, values, strict=True)
            )
            n = len(owned) * len(ts[i : i + k])
            bodies.append((bytes(cramjam.snappy.compress_raw(raw)), n))
        per_sender.append(bodies)
    return per_sender


def json_bodies(data: Dataset, upto: int) -> Bodies:
    """Per sender, `POST /v1/samples` batches of one host's metrics over consecutive minutes (2,000
    samples each when the metric count divides it), the first `upto` samples of the data at most."""
    per_sender: Bodies = [[] for _ in range(SENDERS)]
    minutes = max(1, JSON_SAMPLES_PER_BATCH // data.metrics)
    ts = list(data.timestamps())
    limit = max(1, upto // (data.hosts * data.metrics))  # minutes of data to encode
    labels = {"job": "bench"}
    for h in range(data.hosts):
        values = [data.values(h, m) for m in range(data.metrics)]
        for i in range(0, min(limit, data.points), minutes):
            samples = [
                {"metric": data.metric(m), "value": values[m][j], "ts": ts[j], "labels": labels}
                for j in range(i, min(i + minutes, data.points, limit))
                for m in range(data.metrics)
            ]
            body = orjson.dumps({"host": data.host(h), "samples": samples})
            per_sender[h % SENDERS].append((body, len(samples)))
    return per_sender


def sync_every(step_seconds: int = INTERVAL * SAMPLES_PER_SERIES_PER_REQUEST) -> int:
    """Requests a sender sends between two barriers (`SYNC_SECONDS` of data time)."""
    return max(1, SYNC_SECONDS // step_seconds)


# ------------------------------------------------------------------------------------- the query set


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    promql: str
    step: int
    first: int  # the first bucket's start (epoch seconds)
    last: int  # the last bucket's start
    vigil: dict[str, str]  # /api/metrics/series parameters besides from/to/step

    def peer_params(self) -> dict[str, str]:
        return {
            "query": self.promql,
            "start": str(self.first + self.step),
            "end": str(self.last + self.step),
            "step": str(self.step),
        }

    def vigil_params(self) -> dict[str, str]:
        return {**self.vigil, "from": str(self.first), "to": str(self.last), "step": str(self.step)}


def queries(data: Dataset) -> list[Query]:
    """The issue's query set at this size: 24 h @ 60 s (one series; per host) and the whole range
    hourly (per host; fleet)."""
    m = QUERY_METRIC
    host = data.host(QUERY_HOST_INDEX % data.hosts)
    last_minute = data.end
    first_minute = last_minute - DAY + INTERVAL
    first_hour, last_hour = data.start, data.end + INTERVAL - HOUR
    window = f"{data.days} d"

    def over(step: int) -> str:
        return "avg_over_time(" + m + '{job="bench"}' + f"[{step}s] offset 1s)"

    return [
        Query(
            "one_host_24h",
            "one host, one metric, 24 h @ 60 s",
            f'avg_over_time({m}{{host="{host}",job="bench"}}[60s] offset 1s)',
            INTERVAL,
            first_minute,
            last_minute,
            {"metric": m, "host": host, "agg": "avg"},
        ),
        Query(
            "avg_by_host_24h",
            f"avg by host across {data.hosts} hosts, 24 h @ 60 s",
            f"avg by (host) ({over(INTERVAL)})",
            INTERVAL,
            first_minute,
            last_minute,
            {"metric": m, "group_by": "host", "agg": "avg"},
        ),
        Query(
            "avg_by_host_hourly",
            f"avg by host, {window}, hourly averages",
            f"avg by (host) ({over(HOUR)})",
            HOUR,
            first_hour,
            last_hour,
            {"metric": m, "group_by": "host", "agg": "avg"},
        ),
        Query(
            "fleet_avg_hourly",
            f"fleet average, {window}, hourly",
            f"avg({over(HOUR)})",
            HOUR,
            first_hour,
            last_hour,
            {"metric": m, "group_by": "none", "agg": "avg"},
        ),
    ]


Answer = dict[str, dict[int, float]]  # series key (host, or "" for one fleet series) → bucket → value


def expected(data: Dataset, query: Query) -> Answer:
    """The answer computed from the generated samples: bucket averages per host (or of the fleet)."""
    m = int(QUERY_METRIC.rsplit("_", 1)[1])
    hosts = [QUERY_HOST_INDEX % data.hosts] if query.vigil.get("host") else list(range(data.hosts))
    per = query.step // INTERVAL
    out: Answer = {}
    fleet: dict[int, list[float]] = {}
    for h in hosts:
        values = data.values(h, m)
        series: dict[int, float] = {}
        for b in range(query.first, query.last + 1, query.step):
            i = (b - data.start) // INTERVAL
            if i < 0 or i >= data.points:
                continue
            chunk = values[i : i + per]
            series[b] = math.fsum(chunk) / len(chunk)
            fleet.setdefault(b, []).extend(chunk)
        out[data.host(h)] = series
    if query.vigil.get("group_by") == "none":
        return {"": {b: math.fsum(v) / len(v) for b, v in fleet.items()}}
    return out


def parse_peer(body: bytes, query: Query) -> Answer:
    """A Prometheus-API `query_range` answer as buckets (evaluation time - step)."""
    result = orjson.loads(body)["data"]["result"]
    return {
        str(r["metric"].get("host", "")): {int(float(t)) - query.step: float(v) for t, v in r["values"]}
        for r in result
    }


def parse_vigil(body: bytes) -> Answer:
    answer = orjson.loads(body)
    stamps = [int(t) for t in answer["timestamps"]]
    out: Answer = {}
    for s in answer["series"]:
        values = {t: float(v) for t, v in zip(stamps, s["values"], strict=True) if v is not None}
        key = s.get("host") or ""
        out.setdefault(key, {}).update(values)
    return out


def compare(got: Answer, want: Answer, rel: float = 1e-9) -> dict[str, int]:
    """Points that differ beyond float tolerance, that are missing, and that are extra."""
    counts = {"points": 0, "wrong": 0, "missing": 0, "extra": 0}
    for key in set(got) | set(want):
        g, w = got.get(key, {}), want.get(key, {})
        counts["points"] += len(w)
        counts["missing"] += sum(1 for t in w if t not in g)
        counts["extra"] += sum(1 for t in g if t not in w)
        counts["wrong"] += sum(
            1 for t, v in w.items() if t in g and not math.isclose(g[t], v, rel_tol=rel, abs_tol=1e-9)
        )
    return counts


def agreement(counts: dict[str, int]) -> str:
    bad = {k: v for k, v in counts.items() if k != "points" and v}
    if not bad:
        return f"exact ({counts['points']:,} points)"
    return ", ".join(f"{v:,} {k}" for k, v in bad.items()) + f" of {counts['points']:,} points"


# ------------------------------------------------------------------------------------- figures, table


def median_p95(times_ms: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(times_ms)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ratio(vigil: float | None, peers: Sequence[float | None], higher_is_better: bool = False) -> float | None:
    """Vigil against the best peer, as "how many times worse" (> 1 means Vigil is behind)."""
    known = [p for p in peers if p]
    if not vigil or not known:
        return None
    if higher_is_better:
        return max(known) / vigil
    return vigil / min(known)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "/s":
        return f"{value / 1e6:.2f} M/s" if value >= 1e6 else f"{value / 1e3:,.1f} k/s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.2f}"


def _times(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.1f}x" if r < 10 else f"{r:.0f}x"


def table_rows(figures: dict[str, Any], data: Dataset) -> list[tuple[str, str, bool, list[str]]]:
    """(title, unit, higher is better, figure key per system) for every row of the table."""
    rows = [(q.title, "ms", False, [f"{s}_{q.name}_p50_ms" for s in SYSTEMS]) for q in queries(data)]

    def each(suffix: str) -> list[str]:
        return [f"{s}_{suffix}" for s in SYSTEMS]

    rows += [
        (f"HTTP ingest, remote-write, {SENDERS} senders", "/s", True, each("rw_samples_per_s")),
        ("HTTP ingest, Vigil JSON /v1/samples", "/s", True, ["", "", "vigil_json_samples_per_s"]),
        ("server CPU-s per 1 M samples (remote-write)", "s", False, each("rw_cpu_s_per_1m")),
        ("server CPU-s per 1 M samples (Vigil JSON)", "s", False, ["", "", "vigil_json_cpu_s_per_1m"]),
        ("bytes on disk per sample", "B", False, each("bytes_per_sample")),
        ("server RSS after the query set", "MiB", False, each("rss_after_queries_mib")),
    ]
    return rows


def table(figures: dict[str, Any], data: Dataset) -> str:
    """The issue's table: one row per query and cost, the three systems, Vigil against the best peer."""
    lines = [
        "| query | Prometheus | VictoriaMetrics | Vigil | Vigil / best |",
        "|---|---|---|---|---|",
    ]
    for title, unit, higher, keys in table_rows(figures, data):
        values = [figures.get(k) if k else None for k in keys]
        if unit == "/s" and not keys[0]:  # Vigil-only ingest row: against the peers' remote-write
            peers = [figures.get(f"{s}_rw_samples_per_s") for s in SYSTEMS[:2]]
        elif unit == "s" and not keys[0]:
            peers = [figures.get(f"{s}_rw_cpu_s_per_1m") for s in SYSTEMS[:2]]
        else:
            peers = values[:2]
        r = ratio(values[2], peers, higher_is_better=higher)
        cells = [_fmt(v, unit) for v in values]
        lines.append(f"| {title} | {' | '.join(cells)} | {_times(r)} |")
    return "\n".join(lines)
