"""Raw-sample reads of `DynamoStore` over the chunk items `R#<host>` (`chunks`, docs/data-model.md,
"Raw chunks"): points of one metric, the newest points of a few metrics, and one metric's samples as
numpy columns summed per step bucket (`chunk_arrays`, imported only by that read). Reads always drop
points older than the retention because TTL deletes lag (up to two days; moto never deletes). An owned
part of the store (`dynamodb_parts`). Must not import boto3 or numpy at module level.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from vigil.adapters.store.chunks import (
    CHUNK_SPAN_SECONDS,
    decode_points,
    minute_from_sk,
    minute_of,
    minute_prefix,
)
from vigil.adapters.store.dynamodb_io import Item, s
from vigil.adapters.store.dynamodb_parts import SeriesCatalog, Tables
from vigil.adapters.store.fanout import ordered_map
from vigil.domain.identity import parse_series_key
from vigil.domain.records import Point

if TYPE_CHECKING:  # numpy's types: the module is imported on the array read path only
    from vigil.adapters.store.arrays import BucketArrays


class SampleReads:
    """Reads of raw chunk items; the hosts and their series come from the `catalog`."""

    def __init__(self, tables: Tables, catalog: SeriesCatalog) -> None:
        self.tables = tables
        self.io = tables.io
        self.samples_table = tables.samples
        self.retention_seconds = tables.retention_seconds
        self.catalog = catalog

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
        for host in hosts or self.catalog.host_names():
            # Two batches may carry the same sample (a resend under a new batch id): return it once.
            found: dict[tuple[tuple[tuple[str, str], ...], float], Point] = {}
            for item in self.chunks_between(host, lo, end):
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
        names = list(hosts or self.catalog.host_names()) if lo <= end else []

        def read(host: str) -> list[Item]:
            return list(self.chunks_between(host, lo, end))

        found = zip(names, ordered_map(read, names, self.tables.read_concurrency), strict=True)
        return chunk_arrays.summarise(found, metric, lo, end, step, labels, now, fleet)

    def chunks_between(self, host: str, start: float, end: float) -> Iterator[Item]:
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
        for host in self.catalog.host_names() if wanted else []:
            target = {k for k in self.catalog.known(host) if parse_series_key(k)[1] in wanted}
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
