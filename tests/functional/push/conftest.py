"""The Web Push tests' push service (`tests.webpush_receiver`) and a local Vigil whose VAPID key it
knows, plus the dispatcher the evaluator publishes to (real delivery contexts, real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webpush_receiver import PushService, push_service
from vigil.alerting import push
from vigil.alerting.local_delivery import LocalDispatcher
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext


@pytest.fixture(autouse=True)
def fresh_key_cache() -> Iterator[None]:
    """Each test's data dir gets its own key pair; the per-process cache must not carry one over."""
    push._keys.clear()
    yield
    push._keys.clear()


@pytest.fixture
def service(admin: GatewayClient) -> Iterator[PushService]:
    with push_service() as svc:
        response = admin.get("/api/push/vapid-public-key")
        assert response.status == 200, response.body
        svc.public_key = json_of(response)["public_key"]
        yield svc
        assert not svc.errors, svc.errors  # every push verified and decrypted


@pytest.fixture
def dispatcher(ctx: AppContext) -> LocalDispatcher:
    return LocalDispatcher(ctx.store, ctx.config)
