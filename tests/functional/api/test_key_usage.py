"""`last_used_at` of ingest keys and viewer tokens through the real gateway: written when the key is
used, at most once a minute per key (a push keeps its single write), and shown by `GET /api/keys`."""

from __future__ import annotations

from typing import Any

from tests.conftest import FrozenClock
from vigil.domain.timeparse import iso
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext


def last_used(admin: GatewayClient, name: str) -> Any:
    keys = json_of(admin.get("/api/keys"))
    listed = keys["keys"] if isinstance(keys, dict) else keys
    return next(k["last_used_at"] for k in listed if k["name"] == name)


def push(ingest: GatewayClient, clock: FrozenClock) -> None:
    batch = {"host": "web-1", "samples": [{"metric": "m", "value": 1.0, "ts": clock.now()}]}
    assert ingest.post("/v1/samples", json=batch).status == 202


def test_a_key_shows_when_it_was_last_used_updated_at_most_once_a_minute(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock, ctx: AppContext
) -> None:
    assert last_used(admin, "web-1") is None
    first = clock.now()
    push(ingest, clock)
    assert last_used(admin, "web-1") == iso(first)
    writes: list[str] = []
    touch = ctx.store.touch_key
    ctx.store.touch_key = lambda key_id, at: (writes.append(key_id), touch(key_id, at))[1]  # type: ignore[method-assign]
    for _ in range(5):  # pushes within the minute: no write beyond the batches themselves
        clock.advance(10)
        push(ingest, clock)
    assert writes == [] and last_used(admin, "web-1") == iso(first)
    clock.advance(15)  # 65 s after the first use
    push(ingest, clock)
    assert len(writes) == 1 and last_used(admin, "web-1") == iso(clock.now())


def test_a_viewer_token_records_its_use_too(
    admin: GatewayClient, viewer: GatewayClient, clock: FrozenClock
) -> None:
    assert viewer.get("/api/hosts").status == 200
    assert last_used(admin, "wallboard") == iso(clock.now())
