"""A 24 h one-host one-metric chart over DynamoDB raw chunks (issue 18, "in AWS"): format v1 (every
metric of the host in one zlib JSON document per item) against v2 (`chunk_sections`: a section per
metric), for a host with 20 series (20 gauges, an agent's) and one with 1,000 (50 metrics x 20 label
sets of two labels). One sample per series per minute, one 60 s push = one item, 1,440 items a day.

The same samples are stored twice on moto's loopback server (`ThreadedMotoServer`), as v1 items under
one host and v2 items under another (same keys otherwise), then:
- `<n>_series_item_bytes_v1|v2`: mean `d` bytes per item (what DynamoDB bills writes and reads by);
- `<n>_series_decode_cpu_ms_v1`: CPU to decode the metric's points from the day's items as main does
  (`decode_points` with the metric filter over v1 items: every item inflated and parsed whole);
  `..._v2_points`: the same over v2 items (only the metric's section); `..._v2_arrays`: the array
  path (`chunk_arrays.summarise`: the section as numpy columns, bucketed per minute) — the items
  fetched beforehand, so moto's and botocore's time is not in these;
- `<n>_series_chart_ms_v1|v2`: the whole chart (`services.queries.run_series`, 60 s steps, avg)
  through the store on moto: v1 items by the decoding path (what main runs), v2 by the array path.
Medians of `VIGIL_BENCH_RUNS` (default 5) runs; `VIGIL_BENCH_HOURS` (default 24) shortens the day.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
import zlib
from collections.abc import Callable
from typing import Any

import orjson

from bench.bench_cost import quiet_moto_env
from vigil.adapters.store import chunk_arrays
from vigil.adapters.store.chunks import decode_points, minute_of, plan_chunks
from vigil.domain.records import Point

RUNS = int(os.environ.get("VIGIL_BENCH_RUNS", "5"))
HOURS = float(os.environ.get("VIGIL_BENCH_HOURS", "24"))
NOW = 1_764_201_600.0 + 37  # a midnight + 37 s: pushes are not minute-aligned
STEP = 60.0


def host_series(n: int) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """20: an agent's 20 gauges; 1,000: 50 metrics x 20 label sets (`core`, `mode`)."""
    if n == 20:
        return [(f"system.metric{m:02d}", ()) for m in range(20)]
    return [
        (f"app.metric{m:02d}", (("core", str(k % 10)), ("mode", "user" if k < 10 else "system")))
        for m in range(50)
        for k in range(20)
    ]


def v1_body(points: list[Point], minute: int) -> bytes:
    """Format v1 exactly as main's `chunks.encode_points` wrote it (plain values)."""
    base = minute * 60
    series: dict[Any, tuple[list[float], list[Any]]] = {}
    for p in points:
        offsets, values = series.setdefault((p.metric, p.labels), ([], []))
        offset = p.ts - base
        offsets.append(int(offset) if offset.is_integer() else offset)
        values.append(p.value)
    body = [[m, [x for pair in lab for x in pair], o, v] for (m, lab), (o, v) in series.items()]
    return zlib.compress(orjson.dumps([1, body]), 9)


def day_items(host: str, n: int, v1: bool) -> list[dict[str, Any]]:
    """The day's chunk items of `host` (one per push), as the store writes them."""
    items = []
    series = host_series(n)
    pushes = int(HOURS * 60)
    for i in range(pushes):
        t = NOW - (pushes - i) * 60.0
        points = [
            Point(host, m, lab, t, round((i * 7 + k) % 1000 / 10.0, 1)) for k, (m, lab) in enumerate(series)
        ]
        for chunk in plan_chunks(points, f"{host}-{i}"):
            data = v1_body(points, minute_of(t)) if v1 else chunk.data
            items.append(
                {
                    "pk": {"S": f"R#{host}"},
                    "sk": {"S": chunk.sk},
                    "d": {"B": data},
                    "expires_at": {"N": str(int(NOW + 7 * 86400))},
                    "r": {"N": str(t)},
                }
            )
    return items


def median_ms(work: Callable[[], object], clock: Callable[[], float] = time.process_time) -> float:
    """Median over `RUNS` runs of `work`, in ms of `clock` (CPU by default, `time.perf_counter`: wall)."""
    times = []
    for _ in range(RUNS):
        c = clock()
        work()
        times.append((clock() - c) * 1000)
    return round(statistics.median(times), 1)


def run() -> dict[str, Any]:
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.functional.history.test_daily_view_summaries import Plain
    from vigil.adapters.store.dynamodb import DynamoStore, create_tables
    from vigil.config import Config
    from vigil.services.queries import plan_series, run_series

    quiet_moto_env()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    out: dict[str, Any] = {
        "hours": HOURS,
        "runs": RUNS,
        "load_average_1m_at_start": round(os.getloadavg()[0], 1),
    }
    try:
        address, port = server.get_host_and_port()
        client = boto3.client("dynamodb", endpoint_url=f"http://{address}:{port}", region_name="us-east-1")
        create_tables(client, "bench-samples", "bench-meta")
        store = DynamoStore("bench-samples", "bench-meta", 7 * 86400.0, client=client)
        config = Config(retention_days=7)
        start = NOW - HOURS * 3600
        for n in (20, 1000):
            metric = host_series(n)[0][0]
            for fmt in ("v1", "v2"):
                host = f"{fmt}-{n}"
                items = day_items(host, n, fmt == "v1")
                store.io.batch_put("bench-samples", items)
                out[f"{n}_series_items"] = len(items)
                out[f"{n}_series_item_bytes_{fmt}"] = round(
                    statistics.mean(len(it["d"]["B"]) for it in items)
                )
                fetched = list(store.samples.chunks_between(host, start, NOW))
                assert len(fetched) == len(items)
                minutes = [(it["d"]["B"], int(it["sk"]["S"][:10])) for it in fetched]

                def points(
                    host: str = host, minutes: list[tuple[bytes, int]] = minutes, metric: str = metric
                ) -> int:
                    return sum(
                        1 for data, minute in minutes for _ in decode_points(host, data, minute, {metric})
                    )

                out[f"{n}_series_decode_cpu_ms_{fmt}{'_points' if fmt == 'v2' else ''}"] = median_ms(points)
                if fmt == "v2":

                    def arrays(
                        host: str = host, fetched: list[Any] = fetched, metric: str = metric
                    ) -> object:
                        return chunk_arrays.summarise(
                            [(host, fetched)], metric, start, NOW, STEP, None, NOW, False
                        )

                    out[f"{n}_series_decode_cpu_ms_v2_arrays"] = median_ms(arrays)
                q = plan_series(
                    config,
                    NOW,
                    metric=metric,
                    host=host,
                    labels=None,
                    start=f"-{int(HOURS)}h",
                    end="now",
                    agg="avg",
                    step="60s",
                    group_by=None,
                )
                chart_store = Plain(store) if fmt == "v1" else store
                out[f"{n}_series_chart_ms_{fmt}"] = median_ms(
                    lambda s=chart_store, q=q: run_series(s, q, NOW, q.start, q.end), time.perf_counter
                )
        out["load_average_1m_at_end"] = round(os.getloadavg()[0], 1)
        return out
    finally:
        server.stop()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
