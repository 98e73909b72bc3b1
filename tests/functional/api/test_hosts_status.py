"""`GET /api/hosts` through the real gateway and metrics handler: each host's `status` follows its own
reporting cadence learned from its pushes (`interval_s`), a host that pushed once is `stale`, and the
`up` boolean stays `status == "up"`."""

from __future__ import annotations

from typing import Any

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of


def push(ingest: GatewayClient, host: str, **extra: Any) -> None:
    body = {"host": host, "samples": [{"metric": "system.cpu.utilization", "value": 0.3}], **extra}
    response = ingest.post("/v1/samples", json=body)
    assert response.status == 202, response.body


def hosts(admin: GatewayClient) -> dict[str, dict[str, Any]]:
    return {h["host"]: h for h in json_of(admin.get("/api/hosts"))["hosts"]}


def test_hosts_show_learned_interval_and_up_down_stale_by_their_own_cadence(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    push(ingest, "curl-1")
    for _ in range(5):  # a 300 s agent: five pushes give four gaps
        push(ingest, "slow-1")
        clock.advance(300)
    clock.advance(-300)  # back to the last push
    seen = {h: (s["status"], s["interval_s"], s["up"]) for h, s in hosts(admin).items()}
    assert seen == {"slow-1": ("up", 300.0, True), "curl-1": ("stale", None, False)}

    clock.advance(3 * 300 + 10)  # three missed 300 s intervals are not down yet (grace)
    assert hosts(admin)["slow-1"]["status"] == "up"
    clock.advance(300)
    assert (hosts(admin)["slow-1"]["status"], hosts(admin)["slow-1"]["up"]) == ("down", False)
    assert hosts(admin)["curl-1"]["status"] == "stale"  # never down: one push promised nothing


def test_a_declared_push_interval_is_shown_from_the_first_push(
    admin: GatewayClient, ingest: GatewayClient
) -> None:
    push(ingest, "agent-1", push_interval=60)
    assert hosts(admin)["agent-1"]["interval_s"] == 60.0


def test_a_bad_push_interval_is_refused_naming_the_field(ingest: GatewayClient) -> None:
    body = {"host": "h", "push_interval": -5, "samples": [{"metric": "m", "value": 1}]}
    response = ingest.post("/v1/samples", json=body)
    assert response.status in (400, 422)
    assert "push_interval" in json_of(response)["error"]["field"]
