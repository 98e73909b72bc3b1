"""The local (SQLite) store at fleet scale, through the real gateway and metrics handler over real SQLite
files filled by the one-pass back-fill (`vigil.services.backfill`): the overview's answer stays bounded
at 1,000 hosts (the worst hosts, every host's count and threshold levels; every host only on request),
and a back-filled week answers the 7-day fleet chart from the fleet tier with the hosts' own values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import FrozenClock
from vigil.config import Config
from vigil.domain.models import SeriesBlock
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway
from vigil.services.backfill import backfill
from vigil.services.snapshot import BY_HOST_LIMIT
from vigil.wiring import AppContext

END = 1_764_028_800.0  # the newest sample's minute
CPU, MEM = "system.cpu.utilization", "system.memory.utilization"


def context(tmp_path: Any, clock: FrozenClock) -> tuple[Config, AppContext]:
    config = Config(data_dir=tmp_path, admin_token="t", interval_seconds=60.0)
    return config, AppContext(config, clock=clock)


def test_the_overview_of_1000_hosts_lists_the_worst_hosts_with_every_hosts_count_and_levels(
    tmp_path: Any,
) -> None:
    clock = FrozenClock(END + 60.0)
    config, ctx = context(tmp_path, clock)
    ts = [END - 60.0 * i for i in range(9, -1, -1)]
    blocks = []
    for h in range(1000):  # host h's CPU is (h % 100) %, memory half of it
        blocks.append(SeriesBlock(f"host-{h:04d}", CPU, (), ts, [(h % 100) / 100] * len(ts)))
        blocks.append(
            SeriesBlock(f"host-{h:04d}", MEM, (("state", "used"),), ts, [(h % 100) / 200] * len(ts))
        )
    done = backfill(ctx.store, blocks, END, retention_seconds=config.retention_seconds)
    assert done["one_pass"] and done["hosts"] == 1000
    client = GatewayClient(Gateway(ctx), token="t")
    body = json_of(client.get("/api/metrics"))
    cpu, mem = body["by_host"]["cpu"], body["by_host"]["memory"]
    assert len(cpu["hosts"]) == BY_HOST_LIMIT and cpu["count"] == 1000
    assert [h["value"] for h in cpu["hosts"][:11]] == [99.0] * 10 + [98.0]  # worst first, ties by name
    assert cpu["hosts"][0]["host"] == "host-0099"
    # CPU threshold 80 %: above it 81 to 99 %, near it (over 64 %) 65 to 80 %, in every hundred hosts
    assert cpu["levels"] == {"bad": 190, "warn": 160, "ok": 650}
    assert mem["levels"] == {"bad": 0, "warn": 0, "ok": 1000}  # memory threshold 90 %, values ≤ 49.5 %
    assert body["system"]["cpu"]["value"] == pytest.approx(49.5)
    every = json_of(client.get("/api/metrics", params={"hosts": "all"}))["by_host"]["cpu"]
    assert len(every["hosts"]) == every["count"] == 1000 and every["levels"] == cpu["levels"]
    assert every["hosts"][:BY_HOST_LIMIT] == cpu["hosts"]
    bad = client.get("/api/metrics", params={"hosts": "some"})
    assert bad.status == 400 and json_of(bad)["error"]["field"] == "hosts"
    ctx.store.close()


def test_a_backfilled_week_answers_the_7_day_fleet_chart_from_the_tier_with_the_hosts_rollups_values(
    tmp_path: Any,
) -> None:
    clock = FrozenClock(END + 60.0)
    config, ctx = context(tmp_path, clock)
    n = 7 * 1440  # a week of minutes: as much as the raw retention keeps
    ts = [END - 60.0 * (n - 1 - i) for i in range(n)]
    blocks = [
        SeriesBlock(f"h{h}", CPU, (), ts, [((7 * i + 13 * h) % 100) / 100 for i in range(n)])
        for h in range(5)
    ]
    assert backfill(ctx.store, blocks, END, retention_seconds=config.retention_seconds)["one_pass"]
    client = GatewayClient(Gateway(ctx), token="t")
    params = {"metric": CPU, "from": "-7d", "group_by": "none", "agg": "avg,min,max,count"}
    tier = json_of(client.get("/api/metrics/series", params=params))
    state = ctx.store.get_doc("fleet_state", "watermark")
    assert state is not None
    ctx.store.put_doc("fleet_state", "watermark", {"until": state["until"]})  # no `from`: the hosts' data
    hosts = json_of(client.get("/api/metrics/series", params=params))
    assert tier["timestamps"] == hosts["timestamps"] and len(tier["timestamps"]) == 169
    for a, b in zip(tier["series"], hosts["series"], strict=True):
        assert a["agg"] == b["agg"]
        # the first hour began before the retention: partial in the tier, not rolled up for the hosts
        assert a["values"][0] is not None and b["values"][0] is None
        assert a["values"][1:] == pytest.approx(b["values"][1:], rel=1e-9)
        assert all(v is not None and math.isfinite(v) for v in a["values"][1:-1])
    ctx.store.close()
