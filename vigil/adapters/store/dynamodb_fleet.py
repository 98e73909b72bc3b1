"""The fleet half of `DynamoStore`: fleet rollups and the latest value per host.

Items (docs/data-model.md, "Fleet tier"):
  - `FL#<resolution>` / `<bucket start:10 digits>#<part:2 digits>` (samples table): every fleet record
    (`vigil.domain.fleet`, all metrics) of one minute or hour, zlib-compressed JSON, cut into parts of at
    most `PART_BYTES` compressed; every part carries the bucket's write generation `g`, and readers keep
    only the parts of part 0's generation (a rewrite with fewer parts leaves stale ones to the TTL).
  - `LH#<metric>` / `<part:2 digits>` (samples table): per host and label set, the newest (ts, value)
    the fleet job saw; `latest_by_host` is one `Query` whatever the fleet size.
The newest-sample item (`/health`) is `dynamodb_freshness`'s.
Must not import boto3 at module level.
"""

from __future__ import annotations

import hashlib
import math
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from vigil.adapters.store.dynamodb_io import Item, n, s
from vigil.adapters.store.dynamodb_parts import Tables
from vigil.domain.fleet import FLEET_HOST
from vigil.domain.records import Point
from vigil.domain.rollups import RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup

FLEET_FORMAT = 1
PART_BYTES = 300_000  # compressed bytes per part: well under DynamoDB's 400 KB item limit


def encode_parts(body: list[Any]) -> list[bytes]:
    """`body` as zlib-compressed `[format, records]` blobs of at most PART_BYTES each (records are never
    cut; a single record over the bound is a bug upstream).

    Raises:
        ValueError: one record alone compresses to more than PART_BYTES.
    """
    blob = zlib.compress(orjson.dumps([FLEET_FORMAT, body]), 6)
    if len(blob) <= PART_BYTES:
        return [blob]
    if len(body) == 1:
        raise ValueError("one fleet record exceeds the item size bound")
    half = len(body) // 2
    return encode_parts(body[:half]) + encode_parts(body[half:])


def decode_part(item: Item) -> list[Any]:
    version, body = orjson.loads(zlib.decompress(item["d"]["B"]))
    if version != FLEET_FORMAT:
        raise ValueError(f"unknown fleet format version {version}")
    return list(body)


def current_parts(items: Sequence[Item]) -> list[Item]:
    """The parts of each key prefix (bucket) written by its latest generation (part 0's `g`)."""
    generation: dict[str, str] = {}
    for it in items:
        prefix, _, part = it["sk"]["S"].rpartition("#")
        if part == "00":
            generation[prefix] = it["g"]["S"]
    return [it for it in items if generation.get(it["sk"]["S"].rpartition("#")[0]) == it["g"]["S"]]


def _generation(blobs: list[bytes]) -> str:
    return hashlib.blake2b(b"".join(blobs), digest_size=8).hexdigest()


class FleetItems:
    """Fleet rollups and latest values: an owned part of the store (`dynamodb_parts`)."""

    def __init__(self, tables: Tables) -> None:
        self.io = tables.io
        self.samples_table = tables.samples
        self.meta_table = tables.meta
        self.retention_seconds = tables.retention_seconds

    def _kept(self, resolution: str) -> float:
        return self.retention_seconds if resolution == "1m" else ROLLUP_RETENTION_SECONDS

    def _parts(self, pk: str, prefix: str, body: list[Any], expires_at: float) -> list[Item]:
        blobs = encode_parts(body)
        g = _generation(blobs)
        return [
            {
                "pk": s(pk),
                "sk": s(f"{prefix}{i:02d}"),
                "g": s(g),
                "d": {"B": blob},
                "expires_at": n(math.ceil(expires_at)),
            }
            for i, blob in enumerate(blobs)
        ]

    # -- fleet rollups ---------------------------------------------------------------------------
    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
        for r in sorted(rollups, key=lambda r: (r.series_key, r.start)):
            record = r.to_json()
            for f in ("host", "resolution", "start"):
                del record[f]
            groups.setdefault((r.resolution, r.start), []).append(record)
        items: list[Item] = []
        for (res, start), body in sorted(groups.items()):
            ends = start + RESOLUTION_SECONDS[res] + self._kept(res)
            items.extend(self._parts(f"FL#{res}", f"{int(start):010d}#", body, ends))
        self.io.batch_put(self.samples_table, items)

    def query_fleet(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        now = time.time() if now is None else now
        lo = max(start, now - self._kept(resolution) - RESOLUTION_SECONDS[resolution])
        if lo > end:
            return
        wanted = set((labels or {}).items())
        items = list(
            self.io.query(
                self.samples_table,
                f"FL#{resolution}",
                sk_condition="sk BETWEEN :lo AND :hi",
                values={":lo": s(f"{max(int(lo), 0):010d}#"), ":hi": s(f"{int(end):010d}#~")},
            )
        )
        for item in current_parts(items):
            if float(item["expires_at"]["N"]) < now:
                continue
            start_of = float(item["sk"]["S"].partition("#")[0])
            for record in decode_part(item):
                if (metric is None or record["metric"] == metric) and wanted <= set(record["labels"].items()):
                    yield Rollup.from_json(
                        {**record, "host": FLEET_HOST, "resolution": resolution, "start": start_of}
                    )

    # -- latest value per host ---------------------------------------------------------------------
    def record_latest(self, points: Sequence[Point], now: float) -> None:
        """Merge the newest point of each (host, series) in `points` into the metric's `LH#` item;
        entries older than the raw retention are dropped."""
        newest: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
        for p in points:
            value = p.value if p.value is not None else _mean(p)
            if value is None:
                continue
            key = (p.host, orjson.dumps(dict(p.labels), option=orjson.OPT_SORT_KEYS).decode())
            seen = newest.setdefault(p.metric, {})
            if key not in seen or p.ts > seen[key][0]:
                seen[key] = (p.ts, value)
        for metric, fresh in sorted(newest.items()):
            merged = {(h, lab): (ts, v) for h, lab, ts, v in self._latest_entries(metric)}
            for key, (ts, v) in fresh.items():
                if key not in merged or ts >= merged[key][0]:
                    merged[key] = (ts, v)
            cutoff = now - self.retention_seconds
            body = sorted([h, lab, ts, v] for (h, lab), (ts, v) in merged.items() if ts >= cutoff)
            self.io.batch_put(self.samples_table, self._parts(f"LH#{metric}", "", body, now + 2 * 86400))

    def _latest_entries(self, metric: str) -> list[tuple[str, str, float, float]]:
        items = list(self.io.query(self.samples_table, f"LH#{metric}"))
        return [
            (h, lab, float(ts), float(v)) for it in current_parts(items) for h, lab, ts, v in decode_part(it)
        ]

    def latest_by_host(
        self, metric: str, since: float, labels: dict[str, str] | None = None
    ) -> dict[str, float]:
        wanted = set((labels or {}).items())
        per_host: dict[str, list[float]] = {}
        for host, lab, ts, value in self._latest_entries(metric):
            if ts >= since and wanted <= set(orjson.loads(lab).items()):
                per_host.setdefault(host, []).append(value)
        return {h: sum(v) / len(v) for h, v in sorted(per_host.items())}


def _mean(p: Point) -> float | None:
    h = p.histogram
    return h.sum / h.count if h is not None and h.count else None
