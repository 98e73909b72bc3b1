"""DynamoDB implementation of the `Store` port (AWS mode); the item design is `docs/data-model.md`.

Two tables, both `pk`/`sk` strings with TTL on `expires_at`. Samples: one compressed chunk item per
batch and minute (`R#<host>` / `<minute>#<batch hash>#<n>`, see `chunks`), so a 60 s agent batch is one
write unit; rollups: one item per host-hour and host-day (`dynamodb_rollups`); fleet rollups, the
latest value per host and the freshness item (`dynamodb_fleet`); every host's newest push for host
pages (`dynamodb_pushes`). Meta: hosts, series, metric catalogue (`dynamodb_series`), keys, error
groups (`dynamodb_meta`) and JSON documents (`dynamodb_docs`).

This class writes samples; everything else it hands to owned parts (the host listing and the
evaluator's one-read-per-host window to `dynamodb_hosts`), each built here
from one shared `dynamodb_parts.Tables` and seeing another part only through a Protocol there (the
sample reads see the series registry as a `SeriesCatalog`). Each part, and its module, is built on
first use: `/health` (a ping and the freshness item, `dynamodb_freshness`) loads none of them, ~60 M
instructions off the health function's cold start (`bench/bench_coldstart.py`). Must not import
boto3 at module level (cold start) nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from vigil.adapters.store.dynamodb_freshness import Freshness
from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, Item, create_tables, n, s
from vigil.domain.errors import Unavailable
from vigil.ports import FieldSealer

if TYPE_CHECKING:  # the parts' modules load on first use (below); numpy's on the array read path only
    from vigil.adapters.store.arrays import BucketArrays
    from vigil.adapters.store.chunks import Chunk
    from vigil.adapters.store.dynamodb_batches import BatchClaims
    from vigil.adapters.store.dynamodb_docs import DocItems
    from vigil.adapters.store.dynamodb_fleet import FleetItems
    from vigil.adapters.store.dynamodb_hosts import HostListing
    from vigil.adapters.store.dynamodb_meta import MetaItems
    from vigil.adapters.store.dynamodb_parts import Tables
    from vigil.adapters.store.dynamodb_pushes import PushSummary
    from vigil.adapters.store.dynamodb_rollups import RollupItems
    from vigil.adapters.store.dynamodb_samples import SampleReads
    from vigil.adapters.store.dynamodb_series import SeriesRegistry
    from vigil.domain.records import ApiKeyRecord, ErrorEvent, ErrorGroup, HostInfo, Point
    from vigil.domain.rollups import Rollup

__all__ = ["DynamoStore", "create_tables"]
_Part = TypeVar("_Part")


class DynamoStore:
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
        self.samples_table = samples_table
        self.meta_table = meta_table
        self.retention_seconds = retention_seconds
        self.freshness = Freshness(self.io, meta_table)
        self._doc_ttl = dict(doc_ttl or {})
        self._sealer = sealer
        self._parts: dict[str, Any] = {}
        self._parts_lock = threading.RLock()  # a part's build asks for the parts it needs

    def _part(self, name: str, build: Callable[[], _Part]) -> _Part:
        """The part `name`, built (and its module imported) by `build` on first use, once."""
        part = self._parts.get(name)
        if part is None:
            with self._parts_lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = build()
        return part

    @property
    def tables(self) -> Tables:
        from vigil.adapters.store.dynamodb_parts import Tables

        return self._part(
            "tables", lambda: Tables(self.io, self.samples_table, self.meta_table, self.retention_seconds)
        )

    @property
    def claims(self) -> BatchClaims:
        from vigil.adapters.store.dynamodb_batches import BatchClaims

        return self._part("claims", lambda: BatchClaims(self.io, self.samples_table))

    @property
    def pushes(self) -> PushSummary:
        from vigil.adapters.store.dynamodb_pushes import PushSummary

        return self._part("pushes", lambda: PushSummary(self.io, self.samples_table))

    @property
    def series(self) -> SeriesRegistry:
        from vigil.adapters.store.dynamodb_series import SeriesRegistry

        return self._part("series", lambda: SeriesRegistry(self.tables))

    @property
    def samples(self) -> SampleReads:
        from vigil.adapters.store.dynamodb_samples import SampleReads

        return self._part("samples", lambda: SampleReads(self.tables, self.series))

    @property
    def keys(self) -> MetaItems:
        from vigil.adapters.store.dynamodb_meta import MetaItems

        return self._part("keys", lambda: MetaItems(self.tables))

    @property
    def docs(self) -> DocItems:
        from vigil.adapters.store.dynamodb_docs import DocItems

        return self._part("docs", lambda: DocItems(self.tables, self._doc_ttl, self._sealer))

    @property
    def rollups(self) -> RollupItems:
        from vigil.adapters.store.dynamodb_rollups import RollupItems

        return self._part("rollups", lambda: RollupItems(self.tables, self.series))

    @property
    def fleet(self) -> FleetItems:
        from vigil.adapters.store.dynamodb_fleet import FleetItems

        return self._part("fleet", lambda: FleetItems(self.tables))

    @property
    def hosts(self) -> HostListing:
        from vigil.adapters.store.dynamodb_hosts import HostListing

        return self._part("hosts", lambda: HostListing(self.tables, self.pushes))

    @property
    def read_concurrency(self) -> int:
        """Per-host Queries in flight at once in host-wide reads (1: one after another)."""
        return self.tables.read_concurrency

    @read_concurrency.setter
    def read_concurrency(self, value: int) -> None:
        self.tables.read_concurrency = value

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
        from vigil.adapters.store.chunks import plan_chunks
        from vigil.domain.batches import batch_key

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
        self.series.register(host, points, seen, push_interval)
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
        self.freshness.note(seen)
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
        return self.samples.query_points(metric, start, end, hosts, labels, now)

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        return self.samples.latest_points(metrics, since)

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
        """`capabilities.ArraySummaryStore` over raw chunks (`SampleReads.summarise_arrays`)."""
        return self.samples.summarise_arrays(metric, resolution, start, end, step, hosts, labels, now, fleet)

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self.rollups.query_many(metrics, start, end, hosts, now)

    def purge_expired(self, now: float) -> int:
        return 0  # DynamoDB's TTL deletes expired chunks (within ~2 days); reads filter the lag

    # -- rollups and the fleet tier (`dynamodb_rollups`, `dynamodb_fleet`) --------------------------
    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        self.rollups.put_rollups(rollups, now)

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
        return self.rollups.query_rollups(metric, resolution, start, end, hosts, labels, now)

    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        self.fleet.put_fleet(rollups, now)

    def query_fleet(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        return self.fleet.query_fleet(metric, resolution, start, end, labels, now)

    def record_latest(self, points: Sequence[Point], now: float) -> None:
        self.fleet.record_latest(points, now)

    def latest_by_host(
        self, metric: str, since: float, labels: dict[str, str] | None = None
    ) -> dict[str, float]:
        return self.fleet.latest_by_host(metric, since, labels)

    def last_ingest(self) -> float | None:
        return self.freshness.last_ingest()

    # -- keys, error groups, documents (`dynamodb_meta`, `dynamodb_docs`) -----------------------------
    def put_key(self, record: ApiKeyRecord) -> None:
        self.keys.put_key(record)

    def find_key(self, secret_hash: str) -> ApiKeyRecord | None:
        return self.keys.find_key(secret_hash)

    def list_keys(self) -> list[ApiKeyRecord]:
        return self.keys.list_keys()

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        return self.keys.revoke_key(key_id)

    def touch_key(self, key_id: str, at: float) -> None:
        self.keys.touch_key(key_id, at)

    def record_errors(self, events: Sequence[ErrorEvent]) -> None:
        self.keys.record_errors(events)

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        return self.keys.list_error_groups(since, limit)

    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return self.docs.put_doc(kind, doc_id, doc, expected_version=expected_version)

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        return self.docs.get_doc(kind, doc_id)

    def list_docs(self, kind: str) -> list[dict[str, Any]]:
        return self.docs.list_docs(kind)

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        return self.docs.delete_doc(kind, doc_id)

    # -- hosts, series, catalogue (`dynamodb_series`) ------------------------------------------------
    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        return self.hosts.list_hosts(after, limit, only)

    def window_and_hosts(
        self, metrics: Sequence[str] | None, start: float, end: float, now: float
    ) -> tuple[list[Point], list[HostInfo]]:
        return self.hosts.window_and_hosts(metrics, start, end, now)

    def list_metrics(self) -> dict[str, list[str]]:
        return self.series.list_metrics()

    def series_count(self, host: str) -> int:
        return self.series.series_count(host)

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        """May miss series another instance added in the last `dynamodb_series.SERIES_CACHE_SECONDS`."""
        return self.series.known_series(host, wanted)

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
