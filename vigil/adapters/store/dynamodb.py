"""DynamoDB implementation of the `Store` port (AWS mode); the item design is `docs/data-model.md`.

Two tables, both `pk`/`sk` strings with TTL on `expires_at`. Samples: one compressed chunk item per
batch and minute (`R#<host>` / `<minute>#<batch hash>#<n>`, see `chunks`), so a 60 s agent batch is one
write unit; rollups: one item per host-hour and host-day (`dynamodb_rollups`); fleet rollups, the
latest value per host and the freshness item (`dynamodb_fleet`); every host's newest push for host
pages (`dynamodb_pushes`). Meta: hosts, series,
metric catalogue, keys, error groups and JSON documents. Reads always drop points older than the
retention because TTL deletes lag (up to two days; moto never deletes).
Per-instance caches (known series, metric label keys, when the host item was last refreshed) keep
steady-state ingest at that single write; the host's reporting cadence is learned at the host item's
refresh from the chunks' receipt times, so it costs no write of its own either. Must not import
boto3 at module level (cold start) nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from vigil.adapters.store.chunks import (
    CHUNK_SPAN_SECONDS,
    Chunk,
    decode_points,
    minute_from_sk,
    minute_of,
    minute_prefix,
    plan_chunks,
)
from vigil.adapters.store.dynamodb_batches import BatchClaims
from vigil.adapters.store.dynamodb_docs import DocItems
from vigil.adapters.store.dynamodb_fleet import FleetItems
from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, Item, create_tables, n, num, s
from vigil.adapters.store.dynamodb_meta import MetaItems
from vigil.adapters.store.dynamodb_pushes import PushSummary
from vigil.adapters.store.dynamodb_rollups import RollupItems
from vigil.adapters.store.fanout import ordered_map
from vigil.domain.batches import batch_key
from vigil.domain.cadence import Cadence, from_receipts
from vigil.domain.errors import Unavailable
from vigil.domain.identity import parse_series_key, series_key
from vigil.domain.records import HostInfo, Point
from vigil.ports import FieldSealer

if TYPE_CHECKING:  # numpy's types: the module is imported on the array read path only
    from vigil.adapters.store.arrays import BucketArrays

__all__ = ["DynamoStore", "create_tables"]

# A host item refresh costs a write unit like the chunk itself; refreshing it on every 60 s batch would
# double the ingest bill. `list_hosts` takes last-seen from the newest chunk, so the host item's copy
# is only a fallback (hosts whose raw data expired) and may be an hour old.
HOST_REFRESH_SECONDS = 3600.0
# The host item's push gaps (`vigil.domain.cadence`) are relearned at that refresh from the receipt
# times (`r`) of the newest chunks, and on every push until a cadence is established; a 300 s agent
# writes ~6 one-minute chunks per push, so 64 chunks still hold the 10 pushes the median needs.
CADENCE_CHUNKS = 64
SERIES_CACHE_SECONDS = 60.0  # how stale another instance's new series may be for the cardinality guard
MAX_SK_BYTES = 1024


class DynamoStore(MetaItems, DocItems, RollupItems, FleetItems):
    """The AWS `Store`. `client` is a low-level boto3 DynamoDB client; built lazily when omitted."""

    def __init__(
        self,
        samples_table: str,
        meta_table: str,
        retention_seconds: float,
        client: Any | None = None,
        *,
        doc_ttl: dict[str, tuple[float, str]] | None = None,
        sealer: FieldSealer | None = None,
    ) -> None:
        """`doc_ttl`: document kind → (seconds kept, timestamp field): such documents get a TTL."""
        self.io = DynamoIO(client)
        self.doc_ttl = dict(doc_ttl or {})
        self.sealer = sealer
        self.samples_table = samples_table
        self.meta_table = meta_table
        self.retention_seconds = retention_seconds
        self.claims = BatchClaims(self.io, samples_table)
        self.pushes = PushSummary(self.io, samples_table)
        self._lock = threading.Lock()
        self._series: dict[str, tuple[float, set[str]]] = {}  # host → (monotonic load time, keys)
        self._metric_keys: dict[str, frozenset[str]] = {}
        self._host_refreshed: dict[str, float] = {}  # host → the `seen` this instance last wrote
        self._cadence_known: set[str] = set()  # hosts whose item holds an established cadence
        self._fresh_written = -math.inf  # when this instance last moved the FRESH item (health)

    # -- samples ---------------------------------------------------------------------------------
    def put_samples(
        self,
        host: str,
        points: Sequence[Point],
        batch_id: str | None,
        now: float,
        timestamped: bool = True,
        *,
        push_interval: float | None = None,
    ) -> bool:
        if not points:
            return True
        bkey = batch_key(host, points, batch_id, timestamped)
        seen = max(now, max(p.ts for p in points))
        pk = f"R#{host}"
        items = [self._chunk_item(pk, chunk, seen) for chunk in plan_chunks(points, bkey)]
        if push_interval is not None:  # rides on the chunks: `list_hosts` reads it from the newest one
            for item in items:
                item["i"] = n(push_interval)
        marker, rest = items[0], items[1:]
        # The first chunk is the batch's commit marker and is written LAST, conditionally: a crash
        # before it leaves only chunks a retry overwrites (or, under a claim, deletes), never a batch
        # that a retry would wrongly call a duplicate.
        sks = [it["sk"]["S"] for it in items]
        if batch_id:  # a client key: its claim recognises retries whatever their timestamps
            if not self.claims.claim(host, bkey or "", sks, now):
                return False
        elif bkey is not None and rest and self.claims.committed(host, sks[0]):
            return False  # several chunks: the marker is checked first so a replay writes nothing
        # Meta before samples: a retry after a crash here still finds the batch new and registers it.
        self._register(host, points, seen, push_interval)
        self.io.batch_put(self.samples_table, rest)
        try:
            self.io.call(
                "put_item",
                TableName=self.samples_table,
                Item=marker,
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        self._note_fresh(seen)
        return True

    def _chunk_item(self, pk: str, chunk: Chunk, seen: float) -> Item:
        return {
            "pk": s(pk),
            "sk": s(chunk.sk),
            "d": {"B": chunk.data},
            "expires_at": n(math.ceil(chunk.max_ts + self.retention_seconds)),
            "r": n(seen),
        }

    def query_points(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        now = time.time() if now is None else now
        lo = max(start, now - self.retention_seconds)
        if lo > end:
            return
        wanted = set((labels or {}).items())
        for host in hosts or self._host_names():
            # Two batches may carry the same sample (a resend under a new batch id): return it once.
            found: dict[tuple[tuple[tuple[str, str], ...], float], Point] = {}
            for item in self._chunks_between(host, lo, end):
                if float(item["expires_at"]["N"]) < now:  # every point in it is past retention
                    continue
                minute = minute_from_sk(item["sk"]["S"])
                for p in decode_points(host, item["d"]["B"], minute, {metric}):
                    if lo <= p.ts <= end and wanted <= set(p.labels):
                        found[(p.labels, p.ts)] = p
            yield from found.values()

    def summarise_arrays(
        self,
        metric: str,
        resolution: str,
        start: float,
        end: float,
        step: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
        fleet: bool = False,
    ) -> BucketArrays | None:
        """Raw samples only (`chunk_arrays`: the metric's sections as numpy columns); None for a
        rollup resolution (the caller reads rollup items) or histogram samples."""
        if resolution != "raw":
            return None
        from vigil.adapters.store import chunk_arrays  # numpy: the series API's reads only

        now = time.time() if now is None else now
        lo = max(start, now - self.retention_seconds)
        names = list(hosts or self._host_names()) if lo <= end else []

        def read(host: str) -> list[Item]:
            return list(self._chunks_between(host, lo, end))

        found = zip(names, ordered_map(read, names, self.read_concurrency), strict=True)
        return chunk_arrays.summarise(found, metric, lo, end, step, labels, now, fleet)

    def _chunks_between(self, host: str, start: float, end: float) -> Iterator[Item]:
        # An item keyed by minute M holds samples up to M*60 + CHUNK_SPAN_SECONDS: widen the lower bound.
        lo = minute_prefix(minute_of(start - CHUNK_SPAN_SECONDS))
        return self.io.query(
            self.samples_table,
            f"R#{host}",
            sk_condition="sk BETWEEN :lo AND :hi",
            values={":lo": s(lo), ":hi": s(minute_prefix(minute_of(end)) + "~")},
        )

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        wanted = set(metrics)
        out: list[Point] = []
        for host in self._host_names() if wanted else []:
            target = {k for k in self._known(host) if parse_series_key(k)[1] in wanted}
            if not target:
                continue
            best: dict[str, Point] = {}
            # Newest windows first. An item keyed by minute M holds nothing at or after
            # M*60 + CHUNK_SPAN_SECONDS, so once every known series has a point at least that new,
            # older items cannot improve on it.
            for item in self.io.query(
                self.samples_table,
                f"R#{host}",
                sk_condition="sk >= :lo",
                values={":lo": s(minute_prefix(minute_of(since - CHUNK_SPAN_SECONDS)))},
                forward=False,
                limit=16,
            ):
                item_minute = minute_from_sk(item["sk"]["S"])
                if (
                    target <= best.keys()
                    and min(best[k].ts for k in target) >= item_minute * 60 + CHUNK_SPAN_SECONDS
                ):
                    break
                for p in decode_points(host, item["d"]["B"], item_minute, wanted):
                    if p.ts >= since:
                        key = p.series_key
                        if key not in best or p.ts > best[key].ts:
                            best[key] = p
            out.extend(best.values())
        return out

    def purge_expired(self, now: float) -> int:
        return 0  # DynamoDB's TTL deletes expired chunks (within ~2 days); reads filter the lag

    # -- hosts, series, catalogue ----------------------------------------------------------------
    def _host_names(self) -> list[str]:
        return [it["sk"]["S"] for it in self.io.query(self.meta_table, "HOST", projection="sk")]

    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        """Pages read newest pushes from the summary full listings save (`dynamodb_pushes`); `only`
        reads those of its own hosts (a shard's share, not every host once per shard)."""
        listing = self.io.query(
            self.meta_table,
            "HOST",
            sk_condition="sk > :after" if after else "",
            values={":after": s(after)} if after else None,
            limit=limit,  # the page size of each Query; islice stops reading after the first page
        )
        full = after is None and limit is None and only is None
        summary = (None if full or only is not None else self.pushes.load()) or {}
        read: dict[str, tuple[float, float | None]] = {}
        out = []
        wanted = listing if only is None else (it for it in listing if only(it["sk"]["S"]))
        listed = list(itertools.islice(wanted, limit))
        # The host item is refreshed only every few minutes; the newest chunk knows better. Hosts the
        # summary lacks (all of them in a full listing) are read READ_CONCURRENCY at a time (`fanout`).
        missing = [it["sk"]["S"] for it in listed if it["sk"]["S"] not in summary]
        found = dict(
            zip(missing, ordered_map(self.pushes.newest, missing, self.read_concurrency), strict=True)
        )
        for it in listed:
            host = it["sk"]["S"]
            last = float(it["last_seen"]["N"])
            newest = read[host] = summary.get(host) or found.get(host) or (last, None)
            last = max(last, newest[0])
            gaps = tuple(json.loads(it["gaps"]["S"])) if "gaps" in it else ()
            cadence = Cadence(newest[0], gaps, newest[1])
            out.append(
                HostInfo(host, float(it["first_seen"]["N"]), last, int(num(it.get("series")) or 0), cadence)
            )
        if full:
            self.pushes.save(read)
        return sorted(out, key=lambda h: h.host)

    def list_metrics(self) -> dict[str, list[str]]:
        found = {
            it["sk"]["S"]: sorted(it.get("label_keys", {}).get("SS", []))
            for it in self.io.query(self.meta_table, "METRIC")
        }
        return dict(sorted(found.items()))

    def series_count(self, host: str) -> int:
        return len(self._known(host))

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        """May miss series another instance added in the last `SERIES_CACHE_SECONDS`."""
        return set(self._known(host, wanted))

    def _known(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        """Cached while young, or at any age holding all of `wanted` (a steady host's batch: no read)."""
        with self._lock:
            cached = self._series.get(host)
        fresh = cached is not None and time.monotonic() - cached[0] < SERIES_CACHE_SECONDS
        if cached is not None and (fresh or (wanted and cached[1].issuperset(wanted))):
            return cached[1]
        loaded_at = time.monotonic()
        # The key is rebuilt from the stored metric and labels rather than read from `k`: items written
        # before keys were escaped hold an ambiguous `k` (see docs/data-model.md, "Series identity").
        keys = {
            series_key(host, it["metric"]["S"], tuple(sorted(json.loads(it["labels"]["S"]).items())))
            for it in self.io.query(
                self.meta_table, f"SERIES#{host}", projection="metric, labels", consistent=True
            )
        }
        with self._lock:
            self._series[host] = (loaded_at, keys)
        return keys

    def _register(self, host: str, points: Sequence[Point], seen: float, declared: float | None) -> None:
        """Series, metric catalogue and host items for a batch; writes only what this instance has
        not written (or loaded) before, so a steady-state batch writes none of them."""
        known = self._known(host, {p.series_key for p in points})
        new = {p.series_key: p for p in points if p.series_key not in known}
        added = 0
        for key, p in new.items():
            sk = key if len(key.encode()) <= MAX_SK_BYTES else "#" + _digest(key)
            try:  # conditional, so concurrent instances count each series exactly once
                self.io.call(
                    "put_item",
                    TableName=self.meta_table,
                    ConditionExpression="attribute_not_exists(pk)",
                    Item={
                        "pk": s(f"SERIES#{host}"),
                        "sk": s(sk),
                        "k": s(key),
                        "metric": s(p.metric),
                        "labels": s(json.dumps(dict(p.labels), sort_keys=True)),
                    },
                )
                added += 1
            except ConditionFailed:
                pass
        with self._lock:
            known.update(new)
        self._register_metrics(new.values())
        with self._lock:
            last = self._host_refreshed.get(host)
            learning = host not in self._cadence_known
        if added or last is None or learning or seen - last > HOST_REFRESH_SECONDS:
            established = self._refresh_host(host, seen, added, declared)
            with self._lock:
                self._host_refreshed[host] = seen
                if established:
                    self._cadence_known.add(host)

    def _register_metrics(self, points: Any) -> None:
        label_keys: dict[str, set[str]] = {}
        for p in points:
            label_keys.setdefault(p.metric, set()).update(k for k, _ in p.labels)
        for metric, keys in label_keys.items():
            with self._lock:
                cached = self._metric_keys.get(metric)
            if cached is not None and keys <= cached:
                continue
            values: Item = {":m": s(metric)}
            expr = "SET metric = :m"
            if keys:  # a string set cannot be empty
                values[":k"] = {"SS": sorted(keys)}
                expr += " ADD label_keys :k"
            self.io.call(
                "update_item",
                TableName=self.meta_table,
                Key={"pk": s("METRIC"), "sk": s(metric)},
                UpdateExpression=expr,
                ExpressionAttributeValues=values,
            )
            with self._lock:
                self._metric_keys[metric] = frozenset(keys | (cached or frozenset()))

    def _refresh_host(self, host: str, seen: float, added: int, declared: float | None) -> bool:
        """Write the host item, with the push gaps learned from the newest chunks' receipt times (this
        batch's chunks are not written yet: `seen` stands for it). True once a cadence is known (a
        declared interval is one: an agent that declares it costs no learning writes)."""
        receipts = [
            float(it["r"]["N"])
            for it in itertools.islice(
                self.io.query(
                    self.samples_table, f"R#{host}", forward=False, limit=CADENCE_CHUNKS, projection="r"
                ),
                CADENCE_CHUNKS,
            )
        ]
        cadence = from_receipts([*receipts, seen], declared)
        key = {"pk": s("HOST"), "sk": s(host)}
        try:  # last_seen only moves forward (DynamoDB has no max(); a condition does it)
            self.io.call(
                "update_item",
                TableName=self.meta_table,
                Key=key,
                UpdateExpression="SET first_seen = if_not_exists(first_seen, :t), last_seen = :t, gaps = :g"
                " ADD series :a",
                ConditionExpression="attribute_not_exists(last_seen) OR last_seen < :t",
                ExpressionAttributeValues={":t": n(seen), ":a": n(added), ":g": s(json.dumps(cadence.gaps))},
            )
        except ConditionFailed:
            if added:
                self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression="ADD series :a",
                    ExpressionAttributeValues={":a": n(added)},
                )
        return cadence.interval is not None

    # -- health ----------------------------------------------------------------------------------
    def ping(self) -> None:
        """One GetItem of a fixed key: needs no DescribeTable permission and costs half a read unit.

        Raises:
            Unavailable: the table does not answer (whatever the reason).
        """
        try:
            self.io.call("get_item", TableName=self.meta_table, Key={"pk": s("PING"), "sk": s("PING")})
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"DynamoDB does not answer: {type(exc).__name__}") from exc

    def close(self) -> None:
        """Nothing to release: the boto3 client holds a connection pool that dies with the process."""


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
