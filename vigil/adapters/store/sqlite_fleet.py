"""The fleet half of `SqliteStore`: fleet rollups, the latest value per host and the newest sample time.

Table `fleet` (WITHOUT ROWID, key (resolution, metric, bucket start, labels)): one row per fleet record
(`vigil.domain.fleet`), the whole `Rollup.to_json` in `body`. A 24 h fleet chart of one metric reads
1,440 rows whatever the host count, where `summarise(fleet=True)` over raw samples reads one row per
sample of every host (1.4 million at 1,000 hosts x 60 s). Minute rows are kept for the raw retention,
hourly rows 400 days. `latest_by_host` and `last_ingest` answer from the `series`/`samples` tables
directly (index seeks: SQLite has no per-request price, unlike DynamoDB where the fleet job keeps an
item for them). Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence

import orjson

from vigil.adapters.store.sqlite_blocks import BlockTables
from vigil.domain.fleet import FLEET_HOST
from vigil.domain.models import LABEL_KEY_RE, Point
from vigil.domain.rollups import RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup

FLEET_SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet (
  res TEXT NOT NULL, metric TEXT NOT NULL, start REAL NOT NULL, labels TEXT NOT NULL, body BLOB NOT NULL,
  PRIMARY KEY (res, metric, start, labels)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fleet_start ON fleet(res, start);
CREATE INDEX IF NOT EXISTS series_last_seen ON series(last_seen);
"""


def fleet_kept(resolution: str, retention_seconds: float) -> float:
    """How long fleet records of `resolution` are kept after their bucket: minutes as long as raw
    samples, hours as long as rollups."""
    return retention_seconds if resolution == "1m" else ROLLUP_RETENTION_SECONDS


class FleetTables(BlockTables):
    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        buckets = {(r.resolution, r.start) for r in rollups}
        with self._write() as conn:
            conn.executemany("DELETE FROM fleet WHERE res = ? AND start = ?", sorted(buckets))
            conn.executemany(
                "INSERT OR REPLACE INTO fleet(res, metric, start, labels, body) VALUES (?,?,?,?,?)",
                [
                    (r.resolution, r.metric, r.start, json.dumps(dict(r.labels), sort_keys=True), _body(r))
                    for r in rollups
                ],
            )

    def query_fleet(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        if now is not None:
            start = max(start, now - fleet_kept(resolution, self.retention_seconds))
        wanted = set((labels or {}).items())
        sql = "SELECT metric, body FROM fleet WHERE res = ? AND start >= ? AND start <= ?"
        args: list[object] = [resolution, start, end]
        if metric is not None:
            sql += " AND metric = ?"
            args.append(metric)
        for name, body in self._conn().execute(sql, args):
            d = orjson.loads(body)
            if wanted <= set(d["labels"].items()):
                yield Rollup.from_json({**d, "metric": name, "host": FLEET_HOST, "resolution": resolution})

    def purge_fleet(self, now: float) -> None:
        with self._write() as conn:
            for res, width in RESOLUTION_SECONDS.items():
                kept = fleet_kept(res, self.retention_seconds)
                conn.execute("DELETE FROM fleet WHERE res = ? AND start < ?", (res, now - kept - width))

    def record_latest(self, points: Sequence[Point], now: float) -> None:
        """Nothing to keep: `latest_by_host` reads the newest sample of each series directly."""

    def latest_by_host(
        self, metric: str, since: float, labels: dict[str, str] | None = None
    ) -> dict[str, float]:
        per_host: dict[str, list[float]] = {}
        # One statement: each series' newest sample is an index seek SQLite does itself (a statement per
        # series cost ~15 ms at 1,000 hosts, two thirds of it in 1,000 `execute` calls).
        # The label filter runs before the seek, so series it excludes cost no sample read.
        if labels and not all(LABEL_KEY_RE.match(k) for k in labels):
            return {}  # no stored series has such a label (and it could not be put in a JSON path)
        wanted = "".join(" AND json_extract(s.labels, ?) = ?" for _ in labels or {})
        args: list[object] = [since, metric, since]
        for k, v in (labels or {}).items():
            args += [f'$."{k}"', v]
        conn = self._conn()
        rows = conn.execute(
            "SELECT s.id, s.host, x.ts, x.value, x.hist FROM series s JOIN samples x ON x.series_id = s.id"
            " AND x.ts = (SELECT max(ts) FROM samples WHERE series_id = s.id AND ts >= ?)"
            " WHERE s.metric = ? AND s.last_seen >= ?" + wanted,
            args,
        ).fetchall()
        head = {sid: ts for sid, _h, ts, _v, _x in rows}
        # the newest sample may sit in a block instead (compacted, or bulk-loaded later): blocks'
        # `last` column says so without decoding; only those blocks are decoded
        in_blocks = conn.execute(
            "SELECT s.id, s.host FROM series s JOIN blocks b ON b.series_id = s.id"
            " AND b.start = (SELECT max(start) FROM blocks WHERE series_id = s.id) AND b.last >= ?"
            " WHERE s.metric = ? AND s.last_seen >= ?" + wanted,
            args,
        ).fetchall()
        newer = []
        for sid, host in in_blocks:
            found = self.newest_in_blocks(sid, since, head.get(sid, -math.inf))
            if found is not None:
                head.pop(sid, None)
                newer.append((host, found[1], None))
        for host, raw, hist in [(h, v, x) for sid, h, _t, v, x in rows if sid in head] + newer:
            value = _value(raw, hist)
            if value is not None:
                per_host.setdefault(host, []).append(value)
        return {h: sum(v) / len(v) for h, v in sorted(per_host.items())}

    def last_ingest(self) -> float | None:
        (newest,) = self._conn().execute("SELECT max(last_seen) FROM series").fetchone()
        return None if newest is None else float(newest)


def _body(r: Rollup) -> bytes:
    d = r.to_json()
    for f in ("metric", "host", "resolution"):
        del d[f]
    return orjson.dumps(d)


def _value(value: float | None, hist: str | None) -> float | None:
    """A plain sample's value, or a histogram sample's mean observation."""
    if value is not None:
        return float(value)
    if hist:
        h = json.loads(hist)
        return h["sum"] / h["count"] if h.get("count") else None
    return None
