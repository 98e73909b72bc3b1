"""Weeks of history for the analytics page and the chart overlays, loaded through the store's bulk path
(`vigil.services.backfill`: the samples, then the rollup and fleet jobs over them) into a data
directory before a `vigil serve` with a 40-day raw retention starts on it. Used by
`tests/e2e/test_analytics.py` and `tests/e2e/screenshots.py --only issue16`.

The fleet: web-1..web-4 with a daily CPU wave (web-3 busier this week than last: the top mover) and
memory; db-1's root filesystem filling at 2 % a day (full within 7 days: the forecast); new-1 with 3
days of history (no band yet)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.seeding import Server, push, running_server
from tests.waiting import wait_until
from vigil.config import Config
from vigil.domain.models import SeriesBlock
from vigil.services.backfill import backfill
from vigil.wiring import AppContext

DAY = 86400.0
STEP = 300.0
DAYS = 29  # 4 weeks of baseline and a day
RETENTION_DAYS = 40
FS = "system.filesystem.utilization"


def wave(ts: float, host_index: int) -> float:
    return 0.35 + 0.2 * math.sin(2 * math.pi * (ts % DAY) / DAY + host_index)


def blocks(now: float) -> Iterator[SeriesBlock]:
    start = math.floor((now - DAYS * DAY) / STEP) * STEP
    stamps = [start + STEP * i for i in range(int((now - 120 - start) // STEP))]
    for h in range(1, 5):
        host = f"web-{h}"
        cpu = [min(0.98, wave(t, h) + (0.3 if h == 3 and now - t < 7 * DAY else 0.0)) for t in stamps]
        yield SeriesBlock(host, "system.cpu.utilization", (("cpu", "total"),), stamps, cpu)
        memory = [0.5 + 0.05 * h + 0.02 * math.sin(t / 7200) for t in stamps]
        yield SeriesBlock(host, "system.memory.utilization", (("state", "used"),), stamps, memory)
        yield SeriesBlock(host, FS, (("mountpoint", "/"),), stamps, [0.4 + 0.02 * h] * len(stamps))
    yield SeriesBlock(
        "db-1", FS, (("mountpoint", "/"),), stamps, [0.9 - 0.02 * (now - t) / DAY for t in stamps]
    )
    recent = [t for t in stamps if now - t < 3 * DAY]
    yield SeriesBlock(
        "new-1", "system.cpu.utilization", (("cpu", "total"),), recent, [wave(t, 5) for t in recent]
    )


def load_history(data_dir: Path, now: float) -> dict[str, object]:
    config = Config(data_dir=data_dir, retention_days=RETENTION_DAYS)
    ctx = AppContext(config)
    try:
        return backfill(ctx.store, blocks(now), now, retention_seconds=config.retention_seconds)  # type: ignore[arg-type]
    finally:
        ctx.store.close()


@contextmanager
def history_server(data_dir: Path, now: float) -> Iterator[Server]:
    """A `vigil serve` on a data directory holding the seeded weeks."""
    data_dir.mkdir(parents=True, exist_ok=True)
    load_history(data_dir, now)
    # a 60 s interval: /health calls samples fresh for a few minutes after the one live push below
    settings = {"MONITORING_RETENTION_DAYS": str(RETENTION_DAYS)}
    with running_server(data_dir, interval="60", env=settings) as server:
        key = server.api("POST", "/api/keys", json={"name": "history"}).json()["key"]
        for host in ("web-1", "web-2", "web-3", "web-4", "db-1"):  # and live now (health: ingest is fresh)
            sample = {"metric": FS, "labels": {"mountpoint": "/"}, "value": 0.9 if host == "db-1" else 0.45}
            push(server, key, host, iter([sample]))
        # the server's start-up probe cached the back-fill's newest sample as its freshness (5 s)
        wait_until(lambda: server.api("GET", "/health").status_code == 200, timeout=15, what="fresh samples")
        yield server
