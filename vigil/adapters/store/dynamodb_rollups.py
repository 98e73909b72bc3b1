"""The rollup half of `DynamoStore` (and `query_many`): hourly and daily rollup items, see
`docs/data-model.md`.

One item per host and bucket packs every series of that host: `H#<host>` / `<hour start, 10 digits>`
and `D#<host>` / `<day start, 10 digits>` in the samples table, `d` = zlib-compressed JSON
`[1, [rollup record without host/resolution/start, ...]]`, `expires_at` = bucket end + 400 days. A
recomputed host-bucket is written whole with one PutItem (BatchWriteItem), so a repeated run rewrites
identical items; past `sizing.MAX_ITEM_BYTES` encoded it is split into parts (`rollup_items`) that
readers merge. The fine tier (`FINE`, 5-minute rollups of histogram series and plain-series markers)
packs a whole host-hour into one `F#<host>` / `<hour start>` item (each record keeps its own `start`),
expiring with the raw retention: twelve 5-minute items per hour would cost twelve write units, one
costs one or two. Reads filter `expires_at` (TTL deletes lag). Must not import boto3 at module level.
"""

from __future__ import annotations

import hashlib
import math
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence

import orjson

from vigil.adapters.store.chunks import (
    CHUNK_SPAN_SECONDS,
    decode_points,
    minute_from_sk,
    minute_of,
    minute_prefix,
)
from vigil.adapters.store.dynamodb_io import Item, n, s
from vigil.adapters.store.dynamodb_parts import HostNames, Tables
from vigil.adapters.store.fanout import ordered_map
from vigil.adapters.store.sizing import MAX_ITEM_BYTES, split_encoded
from vigil.domain.records import Point
from vigil.domain.rollups import FINE, RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup

ROLLUP_FORMAT = 1
PREFIX = {"1h": "H#", "1d": "D#", "1m": "M#", FINE: "F#"}
HOUR = 3600.0
SK_BETWEEN = "sk BETWEEN :lo AND :hi"


def item_span(resolution: str) -> float:
    """Seconds one item covers: its bucket, or a whole hour of fine-tier buckets."""
    return HOUR if resolution == FINE else RESOLUTION_SECONDS[resolution]


def rollup_items(
    host: str,
    resolution: str,
    start: float,
    rollups: Sequence[Rollup],
    *,
    kept: float = ROLLUP_RETENTION_SECONDS,
    limit: int = MAX_ITEM_BYTES,
) -> list[Item]:
    """The items of one host-bucket (fine tier: host-hour); `kept` is how long they live after it ends.

    Usually one item. When the encoded records pass `limit` (a host at the cardinality limit with long
    labels), they are split into parts: part 0 keeps the bucket's sort key and says how many parts
    there are (`np`) and which write they belong to (`g`, a digest of the content, so a repeated run
    rewrites identical items); part k is `<bucket>#<k, 3 digits>`. Readers take part 0's word
    (`_PartFilter`), so parts a larger earlier write left behind are never mixed in."""
    dropped = ("host", "resolution") if resolution == FINE else ("host", "resolution", "start")
    body = []
    for r in sorted(rollups, key=lambda r: (r.series_key, r.start)):
        record = r.to_json()
        for f in dropped:
            del record[f]
        body.append(record)
    parts = [data for data, _ in split_encoded(body, _encode_records, limit)]
    key = _bucket_sk(start)
    expires = n(math.ceil(start + item_span(resolution) + kept))
    pk = s(f"{PREFIX[resolution]}{host}")
    if len(parts) == 1:
        return [{"pk": pk, "sk": s(key), "d": {"B": parts[0]}, "expires_at": expires}]
    gen = s(hashlib.blake2b(b"".join(parts), digest_size=6).hexdigest())
    items = [
        {"pk": pk, "sk": s(f"{key}#{k:03d}" if k else key), "d": {"B": d}, "expires_at": expires, "g": gen}
        for k, d in enumerate(parts)
    ]
    items[0]["np"] = n(len(parts))
    return items


def _encode_records(records: Sequence[dict[str, object]]) -> bytes:
    return zlib.compress(orjson.dumps([ROLLUP_FORMAT, list(records)]), 9)


def decode_rollups(host: str, resolution: str, item: Item, metric: str | None = None) -> Iterator[Rollup]:
    """The item's records (only `metric`'s when given: an item holds every series of its host, and a
    one-metric read, e.g. a 7-day alert rule's, need not build the others)."""
    version, body = orjson.loads(zlib.decompress(item["d"]["B"]))
    if version != ROLLUP_FORMAT:
        raise ValueError(f"unknown rollup format version {version}")
    start = float(item["sk"]["S"][:10])
    for record in body:
        if metric is None or record["metric"] == metric:
            yield Rollup.from_json({"start": start, **record, "host": host, "resolution": resolution})


class _PartFilter:
    """Merges split host-buckets while reading in sort-key order: a bucket's part 0 comes first and
    names its part count and write; later parts count only when they match it."""

    def __init__(self) -> None:
        self._bucket, self._parts, self._gen = "", 0, ""

    def keep(self, item: Item) -> bool:
        sk = item["sk"]["S"]
        bucket, part = sk[:10], int(sk[11:] or 0)
        gen = item.get("g", {}).get("S", "")
        if part == 0:
            self._bucket, self._parts, self._gen = bucket, int(item.get("np", {}).get("N", 1)), gen
            return True
        return bucket == self._bucket and part < self._parts and gen == self._gen


def _bucket_sk(start: float) -> str:
    return f"{max(int(start), 0):010d}"


class RollupItems:
    """Rollup items and `query_many`: an owned part of the store (`dynamodb_parts`); `hosts` lists the
    hosts a read without a host filter covers."""

    def __init__(self, tables: Tables, hosts: HostNames) -> None:
        self.tables = tables
        self.io = tables.io
        self.samples_table = tables.samples
        self.retention_seconds = tables.retention_seconds
        self.hosts = hosts

    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        groups: dict[tuple[str, str, float], list[Rollup]] = {}
        for r in rollups:
            unit = math.floor(r.start / item_span(r.resolution)) * item_span(r.resolution)
            groups.setdefault((r.host, r.resolution, unit), []).append(r)
        items = [
            item
            for (host, res, start), rs in sorted(groups.items())
            for item in rollup_items(
                host, res, start, rs, kept=self.retention_seconds if res == FINE else ROLLUP_RETENTION_SECONDS
            )
        ]
        # Part 0 of a split bucket last: until it lands, readers keep the previous write whole.
        self.io.batch_put(self.samples_table, [it for it in items if "#" in it["sk"]["S"]])
        self.io.batch_put(self.samples_table, [it for it in items if "#" not in it["sk"]["S"]])

    def query_rollups(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        now = time.time() if now is None else now
        kept = self.retention_seconds if resolution == FINE else ROLLUP_RETENTION_SECONDS
        lo = max(start, now - kept - RESOLUTION_SECONDS[resolution])
        if lo > end:
            return
        span = item_span(resolution)
        wanted = set((labels or {}).items())
        bounds = {
            ":lo": s(_bucket_sk(math.floor(lo / span) * span)),
            ":hi": s(_bucket_sk(math.floor(end)) + "~"),
        }

        def read(host: str) -> list[Item]:
            pk = f"{PREFIX[resolution]}{host}"
            return list(self.io.query(self.samples_table, pk, sk_condition=SK_BETWEEN, values=bounds))

        names = hosts or self.hosts.host_names()
        for host, items in zip(names, ordered_map(read, names, self.tables.read_concurrency), strict=True):
            parts = _PartFilter()
            for item in items:
                if float(item["expires_at"]["N"]) < now or not parts.keep(item):
                    continue
                for r in decode_rollups(host, resolution, item, metric):
                    if lo <= r.start <= end and wanted <= set(r.labels):
                        yield r

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        """One Query per host over its chunk items (every metric is in them), filtered in memory."""
        now = time.time() if now is None else now
        lo = max(start, now - self.retention_seconds)
        if lo > end:
            return
        wanted = None if metrics is None else frozenset(metrics)
        bounds = {
            ":lo": s(minute_prefix(minute_of(lo - CHUNK_SPAN_SECONDS))),
            ":hi": s(minute_prefix(minute_of(end)) + "~"),
        }

        def read(host: str) -> list[Item]:
            return list(
                self.io.query(self.samples_table, f"R#{host}", sk_condition=SK_BETWEEN, values=bounds)
            )

        names = hosts or self.hosts.host_names()
        # the Queries run `read_concurrency` at a time (`fanout`); decoding stays here, host by host
        for host, items in zip(names, ordered_map(read, names, self.tables.read_concurrency), strict=True):
            yield from window_points(host, items, lo, end, wanted, now)


def window_points(
    host: str, items: Iterable[Item], lo: float, end: float, wanted: frozenset[str] | None, now: float
) -> Iterable[Point]:
    """The points of `wanted` metrics (None: all) in `[lo, end]` that a host's chunk items hold, a
    sample two batches carry once; items past their retention are skipped (TTL deletes lag)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...], float], Point] = {}
    for item in items:
        if float(item["expires_at"]["N"]) < now:
            continue
        for p in decode_points(host, item["d"]["B"], minute_from_sk(item["sk"]["S"]), wanted):
            if lo <= p.ts <= end:
                found[(p.metric, p.labels, p.ts)] = p
    return found.values()
