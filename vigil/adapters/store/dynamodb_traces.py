"""DynamoDB implementation of the `TraceStore` port, in the samples table (pk/sk strings, TTL).

Items (all with `expires_at` = ingest time + 7 days, and hidden from reads once past it because
DynamoDB's TTL deletes lag by up to two days and moto never deletes):

- span: `T#<trace_id>` / `<span_id>`, the span as JSON in `d`;
- trace pointer: `T#<trace_id>` / `#summary`, which index item currently lists the trace (`ik`);
- list index: `TI#<yyyy-mm-dd>#<service>` / `<start ms, 13 digits>#<trace_id>`, the summary JSON in `d`;
  the day and service are the trace's start day (UTC) and root service;
- services of a day: `TS#<yyyy-mm-dd>` / `<service>`, so an unfiltered list knows which partitions to read.

Spans of one trace arrive over several exports (children first), so each `put_spans` re-reads the
trace's spans (one consistent Query per trace), recomputes the summary with `domain.traces.summarize`
and moves the index item when its key changed. Must not import boto3 at module level nor `vigil.api`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from vigil.adapters.store.dynamodb_io import DynamoIO, Item, n, s
from vigil.domain.traces import (
    TRACE_TTL_SECONDS,
    Span,
    TraceSummary,
    matches,
    span_from_json,
    summarize,
    summary_from_json,
)

SUMMARY_SK = "#summary"  # '#' sorts before every hex span id


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _start_key(ts: float) -> str:
    return f"{max(0, int(ts * 1000)):013d}"


def _index_key(t: TraceSummary) -> tuple[str, str]:
    return f"TI#{_day(t.start)}#{t.service}", f"{_start_key(t.start)}#{t.trace_id}"


class DynamoTraceStore:
    """`client` is a low-level boto3 DynamoDB client; built lazily when omitted."""

    def __init__(self, table: str, client: Any | None = None, ttl_seconds: float = TRACE_TTL_SECONDS) -> None:
        self.io = DynamoIO(client)
        self.table = table
        self.ttl_seconds = ttl_seconds

    def put_spans(self, spans: Sequence[Span], now: float) -> None:
        if not spans:
            return
        expires = n(math.ceil(now + self.ttl_seconds))
        self.io.batch_put(
            self.table,
            [
                {
                    "pk": s(f"T#{sp.trace_id}"),
                    "sk": s(sp.span_id),
                    "d": s(json.dumps(sp.to_json())),
                    "expires_at": expires,
                }
                for sp in {(sp.trace_id, sp.span_id): sp for sp in spans}.values()  # BatchWrite refuses dupes
            ],
        )
        items: list[Item] = []
        for trace_id in sorted({sp.trace_id for sp in spans}):
            stored: list[Span] = []
            old_key: tuple[str, str] | None = None
            for it in self.io.query(self.table, f"T#{trace_id}", consistent=True):
                if it["sk"]["S"] == SUMMARY_SK:
                    old_key = (it["ipk"]["S"], it["isk"]["S"])
                else:
                    stored.append(span_from_json(json.loads(it["d"]["S"])))
            summary = summarize(stored)
            ipk, isk = _index_key(summary)
            if old_key is not None and old_key != (ipk, isk):
                self.io.call(
                    "delete_item", TableName=self.table, Key={"pk": s(old_key[0]), "sk": s(old_key[1])}
                )
            items.append(
                {"pk": s(ipk), "sk": s(isk), "d": s(json.dumps(summary.to_json())), "expires_at": expires}
            )
            items.append(
                {
                    "pk": s(f"T#{trace_id}"),
                    "sk": s(SUMMARY_SK),
                    "ipk": s(ipk),
                    "isk": s(isk),
                    "expires_at": expires,
                }
            )
            items.append(
                {"pk": s(f"TS#{_day(summary.start)}"), "sk": s(summary.service), "expires_at": expires}
            )
        unique = {(it["pk"]["S"], it["sk"]["S"]): it for it in items}
        self.io.batch_put(self.table, list(unique.values()))

    def list_traces(
        self,
        service: str | None = None,
        route: str | None = None,
        status: str | None = None,
        min_duration_ms: float | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 50,
        now: float | None = None,
    ) -> list[TraceSummary]:
        now = time.time() if now is None else now
        hi = now if end is None else end
        lo = max(now - self.ttl_seconds, start if start is not None else 0.0)
        if limit <= 0 or hi < lo:
            return []
        found: list[TraceSummary] = []
        day_ts = hi
        # Newest day first; a day's traces are all older than the next day's, so once `limit` are
        # found no earlier day can contribute.
        while len(found) < limit and _day(day_ts) >= _day(lo):
            day = _day(day_ts)
            services = (
                [service]
                if service is not None
                else [it["sk"]["S"] for it in self.io.query(self.table, f"TS#{day}", projection="sk")]
            )
            for svc in services:
                found.extend(
                    self._read_partition(
                        f"TI#{day}#{svc}", lo, hi, now, limit, route, status, min_duration_ms
                    )
                )
            day_ts -= 86400.0
        found.sort(key=lambda t: (t.start, t.trace_id), reverse=True)
        return found[:limit]

    def _read_partition(
        self,
        pk: str,
        lo: float,
        hi: float,
        now: float,
        limit: int,
        route: str | None,
        status: str | None,
        min_duration_ms: float | None,
    ) -> list[TraceSummary]:
        out: list[TraceSummary] = []
        values = {":lo": s(_start_key(lo)), ":hi": s(_start_key(hi) + "$")}  # '$' > '#': includes hi
        for it in self.io.query(
            self.table, pk, sk_condition="sk BETWEEN :lo AND :hi", values=values, forward=False
        ):
            if float(it["expires_at"]["N"]) <= now:
                continue
            t = summary_from_json(json.loads(it["d"]["S"]))
            if matches(
                t, service=None, route=route, status=status, min_duration_ms=min_duration_ms, start=lo, end=hi
            ):
                out.append(t)
                if len(out) >= limit:  # the partition is newest first: the rest cannot make the cut
                    break
        return out

    def get_trace(self, trace_id: str, now: float | None = None) -> list[Span]:
        now = time.time() if now is None else now
        spans = [
            span_from_json(json.loads(it["d"]["S"]))
            for it in self.io.query(self.table, f"T#{trace_id}")
            if it["sk"]["S"] != SUMMARY_SK and float(it["expires_at"]["N"]) > now
        ]
        return sorted(spans, key=lambda sp: (sp.start, sp.span_id))

    def purge_expired(self, now: float) -> int:
        """DynamoDB's TTL deletes expired items; reads already hide them. Nothing to do."""
        return 0
