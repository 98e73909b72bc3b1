"""Fixtures shared by every test folder: a fresh local Vigil (SQLite in tmp_path) behind the real
gateway and the real function handlers, with an admin token, an ingest key and a viewer token."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from vigil.adapters import aws
from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway
from vigil.wiring import AppContext

# No per-example deadline: property tests check what is computed, not how fast (speed is measured in
# bench/); on a loaded 2-core CI machine a 200 ms deadline only makes them flaky.
settings.register_profile("vigil", deadline=None)
settings.load_profile("vigil")

ADMIN_TOKEN = "va_test-admin-token"


class FrozenClock:
    """A clock tests move by hand (alerting, retention, health freshness)."""

    def __init__(self, start: float | None = None) -> None:
        self.t = time.time() if start is None else start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(autouse=True)
def _fresh_aws_session() -> None:
    """Each test's AWS clients come from a session of its own, made under its moto mock if it has one
    (a session made by an earlier test, before moto was imported, is not intercepted)."""
    aws.forget_session()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, interval_seconds=10.0)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def ctx(config: Config, clock: FrozenClock) -> Iterator[AppContext]:
    context = AppContext(config, clock=clock)
    yield context
    context.store.close()


@pytest.fixture
def gateway(ctx: AppContext) -> Gateway:
    return Gateway(ctx)


@pytest.fixture
def admin(gateway: Gateway) -> GatewayClient:
    return GatewayClient(gateway, token=ADMIN_TOKEN)


@pytest.fixture
def anonymous(gateway: Gateway) -> GatewayClient:
    return GatewayClient(gateway, token="")


@pytest.fixture
def ingest_key(admin: GatewayClient) -> str:
    response = admin.post("/api/keys", json={"name": "web-1"})
    assert response.status == 201, response.body
    key: str = json_of(response)["key"]
    return key


@pytest.fixture
def ingest(gateway: Gateway, ingest_key: str) -> GatewayClient:
    return GatewayClient(gateway, token=ingest_key)


@pytest.fixture
def viewer(admin: GatewayClient, gateway: Gateway) -> GatewayClient:
    response = admin.post("/api/keys", json={"name": "wallboard", "role": "viewer"})
    assert response.status == 201, response.body
    return GatewayClient(gateway, token=json_of(response)["key"])
