"""GET|HEAD /health for uptime checkers: public, tiny, 200 when healthy and 503 naming the failing check."""

from __future__ import annotations

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of


def push(ingest: GatewayClient) -> None:
    assert (
        ingest.post(
            "/v1/samples",
            json={"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.1}]},
        ).status
        == 202
    )


def test_health_is_ok_before_any_host_reports(anonymous: GatewayClient) -> None:
    response = anonymous.get("/health")
    assert response.status == 200
    assert json_of(response)["status"] == "ok"
    assert len(response.body) < 200


def test_health_is_ok_with_fresh_samples_and_503_when_they_go_stale(
    anonymous: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    push(ingest)
    assert json_of(anonymous.get("/health"))["checks"]["samples"] == "fresh"
    clock.advance(600)
    stale = anonymous.get("/health")
    assert stale.status == 503
    assert json_of(stale)["checks"]["samples"].startswith("stale")


def test_head_health_has_the_status_and_no_body(
    anonymous: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    response = anonymous.request("HEAD", "/health")
    assert response.status == 200 and response.body == b""
    push(ingest)
    clock.advance(600)
    assert anonymous.request("HEAD", "/health").status == 503


def test_health_names_no_hosts_keys_or_paths(
    anonymous: GatewayClient, ingest: GatewayClient, ingest_key: str, config
) -> None:  # type: ignore[no-untyped-def]
    push(ingest)
    body = anonymous.get("/health").body.decode()
    for secret in ("web-1", ingest_key, str(config.data_dir), config.admin_token):
        assert secret not in body


def test_health_is_503_when_the_store_cannot_answer(anonymous: GatewayClient, ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.store.close()
    ctx.store.path.unlink()
    ctx.store.path.mkdir()  # a directory where the database file was: SQLite cannot open it
    response = anonymous.get("/health")
    assert response.status == 503
    assert json_of(response)["checks"]["store"] == "unavailable"
