"""Retried `POST /v1/samples` batches through the real gateway and metrics handler, on both stores
(SQLite file; DynamoDB on moto): a client key is remembered for 24 h whatever the timestamps, content
counts only when every sample has a `ts` (`docs/api.md`, "Ingest"). The clock is injected: a retry
"hours later" is a clock step, not a sleep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.both_stores import STORES, app_on
from tests.conftest import FrozenClock
from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext


@pytest.fixture(params=STORES)
def ctx(request: pytest.FixtureRequest, config: Config, clock: FrozenClock) -> Iterator[AppContext]:
    """The shared fixtures' app, on SQLite or on a DynamoStore over moto (this module only)."""
    with app_on(request, config, clock) as context:
        yield context


def cpu(value: float, core: str = "0", **extra: Any) -> dict[str, Any]:
    return {"metric": "system.cpu.utilization", "value": value, "labels": {"cpu": core}, **extra}


def count(admin: GatewayClient, window: str = "-8h") -> float:
    params = {"metric": "system.cpu.utilization", "from": window, "step": "60", "agg": "count"}
    body = json_of(admin.get("/api/metrics/series", params=params))
    return sum(v for s in body["series"] for v in s["values"] if v)


@pytest.mark.parametrize("key", [{"batch_id": "agent-9"}, {"header": "agent-9"}], ids=["batch_id", "header"])
def test_a_batch_without_ts_retried_minutes_and_hours_later_is_stored_once(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock, key: dict[str, str]
) -> None:
    body: dict[str, Any] = {"host": "web-1", "samples": [cpu(0.1, "0"), cpu(0.2, "1")]}
    if "batch_id" in key:
        body["batch_id"] = key["batch_id"]
    headers = {"Idempotency-Key": key["header"]} if "header" in key else None
    answers = []
    for wait in (0, 60, 3600, 6 * 3600):  # each retry's samples are stamped with its receipt time
        clock.advance(wait)
        answers.append(json_of(ingest.post("/v1/samples", json=body, headers=headers)))
    assert answers == [{"accepted": 2, "duplicate": d} for d in (False, True, True, True)]
    assert count(admin) == 2


@pytest.mark.parametrize(
    "key", ["k" * 129, "two words", "schlüssel", ""], ids=["long", "space", "unicode", "empty"]
)
def test_an_idempotency_key_outside_its_bounds_is_a_400_naming_the_header_and_nothing_is_stored(
    ingest: GatewayClient, admin: GatewayClient, key: str
) -> None:
    body = {"host": "web-1", "samples": [cpu(0.1)]}
    answer = ingest.post("/v1/samples", json=body, headers={"Idempotency-Key": key})
    assert answer.status == 400, answer.body
    assert json_of(answer)["error"]["field"] == "Idempotency-Key"
    assert count(admin) == 0


def test_a_retry_that_dropped_its_oldest_samples_is_still_a_duplicate(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    start = clock.now() // 60 * 60 - 70  # second 50 of a minute: the kept sample is in the next one
    samples = [cpu(0.1, ts=start), cpu(0.2, ts=start + 40)]
    first = ingest.post("/v1/samples", json={"host": "web-1", "batch_id": "b-1", "samples": samples})
    clock.advance(600)
    trimmed = ingest.post("/v1/samples", json={"host": "web-1", "batch_id": "b-1", "samples": samples[1:]})
    assert [json_of(r)["duplicate"] for r in (first, trimmed)] == [False, True]


def test_identical_content_is_a_retry_only_when_every_sample_has_a_ts(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    timed = {"host": "web-1", "samples": [cpu(0.1, ts=clock.now()), cpu(0.2, ts=clock.now() - 1)]}
    untimed = {"host": "web-1", "samples": [cpu(0.3, "1")]}  # stamped on receipt
    first = [json_of(ingest.post("/v1/samples", json=b))["duplicate"] for b in (timed, untimed)]
    clock.advance(3600)
    again = [json_of(ingest.post("/v1/samples", json=b))["duplicate"] for b in (timed, untimed)]
    assert (first, again) == ([False, False], [True, False])
    assert count(admin) == 2 + 2


def test_a_label_value_with_commas_and_equals_is_selected_by_its_escaped_filter_and_exported_so(
    ingest: GatewayClient, admin: GatewayClient
) -> None:
    tricky = {"path": "/a,b=c", "x": "1"}
    plain = {"path": "/a", "b": "c"}
    for labels, value in ((tricky, 0.25), (plain, 0.75)):
        sample = {"metric": "system.cpu.utilization", "value": value, "labels": labels}
        assert ingest.post("/v1/samples", json={"host": "web-1", "samples": [sample]}).status == 202
    escaped = "path=/a\\,b\\=c,x=1"
    params = {"metric": "system.cpu.utilization", "from": "-1h", "labels": escaped, "agg": "max"}
    body = json_of(admin.get("/api/metrics/series", params=params))
    assert [s["labels"] for s in body["series"]] == [tricky]
    assert max(v for v in body["series"][0]["values"] if v is not None) == 0.25
    everything = {k: v for k, v in params.items() if k != "labels"}
    csv_text = admin.get("/api/export", params={**everything, "format": "csv"}).body.decode()
    assert escaped in csv_text  # the export's labels column is the filter that selects the series
