"""Back-fill (`vigil.services.backfill`) on real SQLite files: samples loaded through the store's bulk
path read, through the real gateway, exactly like the same samples ingested live while the rollup and
fleet jobs ran; the bulk path skips what the retention would drop, reloads idempotently and refuses a
malformed block naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import FrozenClock
from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain.errors import Invalid
from vigil.domain.models import Point, SeriesBlock
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway
from vigil.services.backfill import backfill
from vigil.services.fleet import run_fleet
from vigil.services.rollups import run_rollups
from vigil.wiring import AppContext

HOUR = 3600.0
HOURS = 30
HOSTS = ("web-1", "web-10", "db")


def samples(end: float) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """(host, metric) → (timestamps, values) for HOURS: a cpu gauge every 60 s, a request counter
    every 20 s (a rate needs two samples in a minute)."""
    out = {}
    for h, host in enumerate(HOSTS):
        ts = [end - HOURS * HOUR + 60 * i for i in range(HOURS * 60)]
        out[host, "system.cpu.utilization"] = (ts, [((7 * i + 13 * h) % 100) / 100 for i in range(len(ts))])
        ts = [end - HOURS * HOUR + 20 * i for i in range(HOURS * 180)]
        out[host, "app.requests"] = (ts, [float(5 * i * (h + 1)) for i in range(len(ts))])
    return out


def batches(
    data: dict[tuple[str, str], tuple[list[float], list[float]]],
) -> dict[tuple[str, float], list[Point]]:
    """The same samples as the 60 s batches an agent would push: (host, minute) → points."""
    out: dict[tuple[str, float], list[Point]] = {}
    for (host, metric), (ts, values) in data.items():
        for t, v in zip(ts, values, strict=True):
            out.setdefault((host, t // 60 * 60), []).append(Point(host, metric, (), t, v))
    return out


def answer(client: GatewayClient, **params: str) -> dict[str, Any]:
    r = client.get("/api/metrics/series", params=params)
    assert r.status == 200, r.body
    return dict(json_of(r))


def test_a_backfilled_range_reads_like_the_same_samples_ingested_while_the_jobs_ran(
    tmp_path: Any, clock: FrozenClock
) -> None:
    end = math.floor(clock.now() / HOUR) * HOUR
    data = samples(end)
    stores = {}
    for name in ("live", "backfilled"):
        config = Config(data_dir=tmp_path / name, admin_token="t", interval_seconds=60.0)
        stores[name] = (config, AppContext(config, clock=clock))
    live = stores["live"][1].store
    retention = stores["live"][0].retention_seconds
    pushes = batches(data)
    for hour in range(HOURS):  # an hour of 60 s batches per host, then the jobs as the scheduler runs them
        t = end - (HOURS - hour) * HOUR
        for host in HOSTS:
            for minute in range(60):
                at = t + 60 * minute
                live.put_samples(host, pushes[host, at], f"{host}-{at}", at + 65)
        run_rollups(live, t + HOUR + 5, retention_seconds=retention)
        run_fleet(live, t + HOUR + 5, retention_seconds=retention)
    done = backfill(
        stores["backfilled"][1].store,
        (SeriesBlock(h, m, (), ts, vs) for (h, m), (ts, vs) in data.items()),
        end + 5,
        retention_seconds=retention,
    )
    assert done["rows"] == sum(len(ts) for ts, _ in data.values()) and done["skipped"] == 0
    for name in stores:
        run_fleet(stores[name][1].store, end + 5, retention_seconds=retention)
    filled = stores["backfilled"][1].store  # the jobs built its tiers (else reads would fall back to raw)
    first = end - HOURS * HOUR
    minutes = filled.query_fleet("system.cpu.utilization", "1m", first, end, now=end + 5)
    assert len(list(minutes)) == HOURS * 60 - 2  # every minute but the two still settling
    assert len(list(filled.query_rollups("app.requests", "1h", first, end, hosts=["db"], now=end))) == HOURS
    assert filled.get_doc("fleet_state", "watermark")["from"] == first  # type: ignore[index]
    clock.t = end + 10
    queries = [
        {"metric": "system.cpu.utilization", "from": "-24h", "group_by": "none", "agg": "avg,min,max,count"},
        {"metric": "app.requests", "from": "-24h", "group_by": "none", "agg": "rate"},
        {"metric": "system.cpu.utilization", "from": "-24h", "step": "3600", "group_by": "none"},
        {"metric": "system.cpu.utilization", "from": "-28h", "host": "web-10", "step": "3600"},
    ]
    for q in queries:
        got = [answer(GatewayClient(Gateway(ctx), token="t"), **q) for _, ctx in stores.values()]
        assert got[0]["resolution"] == got[1]["resolution"], q
        assert got[0]["timestamps"] == got[1]["timestamps"], q
        assert any(v is not None for s in got[1]["series"] for v in s["values"]), q
        for a, b in zip(got[0]["series"], got[1]["series"], strict=True):
            assert b["values"] == pytest.approx(a["values"], rel=1e-9), q
    for _, ctx in stores.values():
        ctx.store.close()


def test_a_bulk_load_skips_samples_past_the_retention_and_loading_again_changes_nothing(
    tmp_path: Any,
) -> None:
    store = SqliteStore(tmp_path / "v.sqlite3", retention_seconds=86400.0)
    now = 1_764_028_800.0
    ts = [now - 86400.0 - 120 + 60 * i for i in range(10)]  # two before the retention, eight inside
    block = SeriesBlock("h", "m", (("k", "v"),), ts, [float(i) for i in range(10)])
    first = store.put_series_bulk([block], now)
    again = store.put_series_bulk([block], now)
    assert (first.rows, first.skipped, first.first, first.last) == (8, 2, ts[2], ts[-1])
    assert (again.rows, again.skipped) == (8, 2)
    stored = list(store.query_points("m", 0, now * 2, now=now))
    assert [(p.ts, p.value, p.labels) for p in stored] == [
        (t, float(i + 2), (("k", "v"),)) for i, t in enumerate(ts[2:])
    ]
    store.close()


def test_a_bulk_load_extends_a_live_series_without_counting_as_a_push(tmp_path: Any) -> None:
    store = SqliteStore(tmp_path / "v.sqlite3", retention_seconds=7 * 86400.0)
    now = 1_764_028_800.0
    store.put_samples("h", [Point("h", "m", (), now - 30, 1.0)], "b1", now)
    (before,) = store.list_hosts()
    store.put_series_bulk([SeriesBlock("h", "m", (), [now - 7200.0, now - 3600.0], [2.0, 3.0])], now + 50)
    (after,) = store.list_hosts()
    assert store.series_count("h") == 1
    assert after.first_seen == now - 7200.0 and after.last_seen == before.last_seen
    assert after.cadence == before.cadence
    assert [p.value for p in store.query_points("m", 0, now, now=now)] == [2.0, 3.0, 1.0]
    store.close()


@pytest.mark.parametrize(
    ("timestamps", "values", "field"),
    [
        ([1.0, 2.0], [1.0], "values"),
        ([2.0, 1.0], [1.0, 2.0], "timestamps"),
        ([1.0, 2.0], [1.0, math.nan], "values"),
        ([1.0, 2.0], [1.0, math.inf], "values"),
    ],
)
def test_a_malformed_block_is_refused_naming_the_field_after_storing_the_blocks_before_it(
    tmp_path: Any, timestamps: list[float], values: list[float], field: str
) -> None:
    store = SqliteStore(tmp_path / "v.sqlite3", retention_seconds=7 * 86400.0)
    now = 1_764_028_800.0
    good = SeriesBlock("h", "ok", (), [now - 60.0], [1.0])
    bad = SeriesBlock("h", "bad", (), [now - 120 + t for t in timestamps], values)
    with pytest.raises(Invalid) as raised:
        store.put_series_bulk([good, bad, good], now)
    assert raised.value.field == field
    assert store.list_metrics() == {"ok": []}
    store.close()
