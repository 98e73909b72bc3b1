"""Fixtures of the store contract suite: every test taking `store` runs against SqliteStore (a real
file) and DynamoStore (moto's in-process DynamoDB, fake credentials, nothing leaves the machine)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

RETENTION = 7 * 86400.0
SAMPLES_TABLE = "vigil-samples"  # each test gets its own pair, suffixed
META_TABLE = "vigil-meta"


@pytest.fixture
def retention() -> float:
    """The raw retention both stores are built with."""
    return RETENTION


@pytest.fixture(scope="module")
def moto_client() -> Iterator[Any]:
    """One mocked AWS (fake credentials) and client per module: building them is the slow part."""
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            mp.setenv(name, value)
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def moto_serves_one_call_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's in-process backend is not thread-safe: a Query iterating a table's items while another
    thread's PutItem adds one raises "dictionary changed size during iteration". DynamoDB itself serves
    every request atomically, so tests with concurrent writers serialise each request moto handles; the
    writers still interleave between requests, which is where the store's own races would be."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    unlocked = BotocoreStubber.process_request

    def process_request(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return unlocked(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", process_request)


@pytest.fixture
def tables(moto_client: Any) -> tuple[str, str]:
    """Fresh, empty samples and meta tables for one test."""
    from vigil.adapters.store.dynamodb import create_tables

    suffix = next(_table_ids)
    names = (f"{SAMPLES_TABLE}-{suffix}", f"{META_TABLE}-{suffix}")
    create_tables(moto_client, *names)
    return names


_table_ids = itertools.count()


def _make_dynamo_store(client: Any, tables: tuple[str, str]) -> Any:
    from vigil.adapters.store.dynamodb import DynamoStore

    store = DynamoStore(*tables, RETENTION, client=client)
    store.io.backoff_base = 0.001  # keep retry tests fast; the schedule itself is tested separately
    return store


@pytest.fixture
def make_dynamo_store() -> Callable[[Any, tuple[str, str]], Any]:
    """`make_dynamo_store(client, tables)`: a DynamoStore over any client (tests wrap moto's)."""
    return _make_dynamo_store


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        from vigil.adapters.store.sqlite import SqliteStore

        sqlite_store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
        yield sqlite_store
        sqlite_store.close()
    else:
        dynamo_store = _make_dynamo_store(
            request.getfixturevalue("moto_client"), request.getfixturevalue("tables")
        )
        yield dynamo_store
        dynamo_store.close()
