"""`GET /api/metrics` lists every up host's CPU and memory beside the fleet KPIs, worst first, through
the real gateway and metrics handler."""

from __future__ import annotations

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of


def push(ingest: GatewayClient, host: str, cpu: float, mem: float, ts: float) -> None:
    samples = [
        {"metric": "system.cpu.utilization", "value": cpu, "labels": {"cpu": "total"}, "ts": ts},
        {"metric": "system.memory.utilization", "value": mem, "labels": {"state": "used"}, "ts": ts},
        {"metric": "system.memory.utilization", "value": 1 - mem, "labels": {"state": "free"}, "ts": ts},
    ]
    assert ingest.post("/v1/samples", json={"host": host, "samples": samples}).status == 202


def test_the_snapshot_names_the_hot_host_first_beside_the_fleet_average(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    for host, cpu in (("web-1", 0.2), ("web-2", 0.25), ("hot-1", 0.93)):
        push(ingest, host, cpu, 0.5, clock.now() - 5)
    push(ingest, "gone-1", 0.99, 0.99, clock.now() - 3600)  # down: not a current value
    body = json_of(admin.get("/api/metrics"))
    cpu = body["by_host"]["cpu"]
    assert cpu["unit"] == "%"
    assert [h["host"] for h in cpu["hosts"]] == ["hot-1", "web-2", "web-1"]
    assert cpu["hosts"][0]["value"] == 93.0
    assert body["system"]["cpu"]["value"] < 50  # the fleet average that hides it
    assert [h["value"] for h in body["by_host"]["memory"]["hosts"]] == [50.0, 50.0, 50.0]
