"""The series registry of `DynamoStore`: which hosts, series and metric label keys exist (meta table).

Items (docs/data-model.md, "Meta table"): `HOST`/`<host>` (first and last seen, series count, push gaps),
`SERIES#<host>`/`<series key>` (conditional puts, so concurrent instances count a series once) and
`METRIC`/`<metric>` (label keys, ADDed). Per-instance caches — known series per host, metric label keys,
when the host item was last refreshed — keep steady-state ingest at its chunk write; the host's
reporting cadence is learned at the host item's refresh from the chunks' receipt times (`r`), so it
costs no write of its own either. An owned part of the store (`dynamodb_parts`). Must not import
boto3 at module level.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Collection, Iterable, Sequence

from vigil.adapters.store.dynamodb_io import ConditionFailed, Item, n, s
from vigil.adapters.store.dynamodb_parts import Tables
from vigil.domain.cadence import from_receipts
from vigil.domain.identity import series_key
from vigil.domain.records import Point

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


class SeriesRegistry:
    """Hosts, series and the metric catalogue; satisfies `dynamodb_parts.SeriesCatalog`."""

    def __init__(self, tables: Tables) -> None:
        self.io = tables.io
        self.samples_table = tables.samples
        self.meta_table = tables.meta
        self._lock = threading.Lock()
        self._series: dict[str, tuple[float, set[str]]] = {}  # host → (monotonic load time, keys)
        self._metric_keys: dict[str, frozenset[str]] = {}
        self._host_refreshed: dict[str, float] = {}  # host → the `seen` this instance last wrote
        self._cadence_known: set[str] = set()  # hosts whose item holds an established cadence

    def host_names(self) -> list[str]:
        return [it["sk"]["S"] for it in self.io.query(self.meta_table, "HOST", projection="sk")]

    def list_metrics(self) -> dict[str, list[str]]:
        found = {
            it["sk"]["S"]: sorted(it.get("label_keys", {}).get("SS", []))
            for it in self.io.query(self.meta_table, "METRIC")
        }
        return dict(sorted(found.items()))

    def series_count(self, host: str) -> int:
        return len(self.known(host))

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        """May miss series another instance added in the last `SERIES_CACHE_SECONDS`."""
        return set(self.known(host, wanted))

    def known(self, host: str, wanted: Collection[str] = ()) -> set[str]:
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

    def register(self, host: str, points: Sequence[Point], seen: float, declared: float | None) -> None:
        """Series, metric catalogue and host items for a batch; writes only what this instance has
        not written (or loaded) before, so a steady-state batch writes none of them."""
        known = self.known(host, {p.series_key for p in points})
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

    def _register_metrics(self, points: Iterable[Point]) -> None:
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


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
