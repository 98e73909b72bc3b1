"""Conditional GETs through the real gateway: a read answers with an ETag of its body, the same
request sent with that ETag is a 304 without a body, and a changed answer gets a new ETag (the
dashboard's refresh moves no body while nothing changed)."""

from __future__ import annotations

import os

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of

# Powertools Metrics flushes every 100 metrics and then needs a namespace even when disabled.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Vigil")
PARAMS = {"metric": "system.cpu.utilization", "host": "web-0", "from": "-1h", "to": "now", "step": "60"}


def push(ingest: GatewayClient, ts: float, value: float) -> None:
    body = {"host": "web-0", "samples": [{"metric": "system.cpu.utilization", "value": value, "ts": ts}]}
    assert ingest.post("/v1/samples", json=body).status == 202


def test_a_repeated_read_with_its_etag_is_a_304_until_the_answer_changes(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    push(ingest, clock.now() - 600, 0.125)
    first = admin.get("/api/metrics/series", params=PARAMS)
    etag = first.header("ETag")
    assert first.status == 200 and etag and etag.startswith('"') and len(etag) == 26

    again = admin.get("/api/metrics/series", params=PARAMS, headers={"if-none-match": etag})
    assert (again.status, again.body, again.header("ETag")) == (304, b"", etag)

    push(ingest, clock.now() - 300, 0.4)
    changed = admin.get("/api/metrics/series", params=PARAMS, headers={"if-none-match": etag})
    assert changed.status == 200 and changed.body != first.body
    assert changed.header("ETag") not in (None, etag)


def test_the_live_overview_snapshot_is_a_304_while_no_new_sample_arrived(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    # a small fleet's snapshot is read live; its `timestamp` was the time of the request, so every
    # 10 s revalidation answered a new body although no value in it had changed
    push(ingest, clock.now() - 5, 0.125)
    first = admin.get("/api/metrics")
    etag = first.header("ETag")
    assert first.status == 200 and json_of(first)["system"]["cpu"]["value"] == 12.5

    clock.advance(7)  # the next refresh: the sample still inside the snapshot's window
    again = admin.get("/api/metrics", headers={"if-none-match": etag})
    assert (again.status, again.body) == (304, b"")

    push(ingest, clock.now() - 1, 0.5)
    changed = admin.get("/api/metrics", headers={"if-none-match": etag})
    assert changed.status == 200 and json_of(changed)["timestamp"] > json_of(first)["timestamp"]
