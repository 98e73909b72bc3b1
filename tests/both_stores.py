"""The app on either store, for modules whose `ctx` fixture runs every test on SQLite and on DynamoDB
(moto): `@pytest.fixture(params=STORES)` + `with app_on(request, config, clock) as ctx: yield ctx`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import FrozenClock
from vigil.config import Config
from vigil.wiring import AppContext

STORES = ["sqlite", "dynamodb"]


@contextmanager
def app_on(request: pytest.FixtureRequest, config: Config, clock: FrozenClock) -> Iterator[AppContext]:
    """The shared fixtures' app on `request.param`'s store: SQLite in tmp_path, or a DynamoStore over moto."""
    if request.param == "sqlite":
        context = AppContext(config, clock=clock)
        try:
            yield context
        finally:
            context.store.close()
        return
    import boto3
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore, create_tables

    monkeypatch = request.getfixturevalue("monkeypatch")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, "samples", "meta")
        store = DynamoStore("samples", "meta", config.retention_seconds, client=client)
        yield AppContext(config, clock=clock, _store=store)
