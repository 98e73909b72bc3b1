"""The fleet tier of `SqliteStore` (`FleetRecords`, a part the store owns): fleet rollups, the latest
value per host and the newest sample time.

Table `fleet_blocks` (WITHOUT ROWID, key (resolution, metric, labels, block start)): the fleet records
(`vigil.domain.fleet`) of half an hour of minutes or a day of hours in one body packed by
`rollup_codec` (about 40 bytes a minute record, against ~210 for the JSON row and its index entry of
schema 2's table `fleet`, moved here by `migrate` on open). A 24 h fleet chart of one metric
reads 48 blocks whatever the host count, where `summarise(fleet=True)` over raw samples reads every
sample of every host (1.4 million at 1,000 hosts x 60 s). Minute records are kept for the raw
retention, hourly ones 400 days. `latest_by_host` and `last_ingest` answer from the `series`/`samples` tables
directly (index seeks: SQLite has no per-request price, unlike DynamoDB where the fleet job keeps an
item for them). Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator, Sequence

import orjson

from vigil.adapters.store import rollup_codec
from vigil.adapters.store.sqlite_db import Database
from vigil.adapters.store.sqlite_parts import HeadReads, RawSamples
from vigil.adapters.store.sqlite_series import SEEN_SLACK_SECONDS
from vigil.domain.fleet import FLEET_HOST, FLEET_HOUR, FLEET_MINUTE
from vigil.domain.limits import LABEL_KEY_RE
from vigil.domain.records import Point
from vigil.domain.rollups import RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup

FLEET_SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet_blocks (
  res TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL, start REAL NOT NULL, last REAL NOT NULL,
  body BLOB NOT NULL, PRIMARY KEY (res, metric, labels, start)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS series_last_seen ON series(last_seen);
"""
FLEET_BLOCK_SECONDS = {FLEET_MINUTE: 1800.0, FLEET_HOUR: 86400.0}  # bodies under ~2,000 bytes
MIGRATE_ROWS = 50_000


def fleet_kept(resolution: str, retention_seconds: float) -> float:
    """How long fleet records of `resolution` are kept after their bucket: minutes as long as raw
    samples, hours as long as rollups."""
    return retention_seconds if resolution == "1m" else ROLLUP_RETENTION_SECONDS


class FleetRecords:
    """Table `fleet_blocks`, and the newest samples per host; owned by `SqliteStore`, given the file and
    the raw samples (whose blocks may hold a series' newest). `retention_seconds` is the raw retention
    (the minute records')."""

    def __init__(self, db: Database, raw: RawSamples, head: HeadReads, retention_seconds: float) -> None:
        self.db = db
        self.raw = raw
        self.head = head
        self.retention_seconds = retention_seconds

    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        """Each (resolution, bucket) present replaces that bucket of every metric whole."""
        with self.db.write() as conn:
            self._put_fleet(conn, rollups, replace=True)

    def _put_fleet(self, conn: sqlite3.Connection, rollups: Sequence[Rollup], replace: bool) -> None:
        gone: dict[tuple[str, float], set[float]] = {}
        new: dict[tuple[str, float], dict[tuple[str, str], list[Rollup]]] = {}
        for r in rollups:
            key = (r.resolution, _block(r.start, r.resolution))
            gone.setdefault(key, set()).add(r.start)
            labels = json.dumps(dict(r.labels), sort_keys=True)
            new.setdefault(key, {}).setdefault((r.metric, labels), []).append(r)
        for (res, start), adding in new.items():
            stored = conn.execute(
                "SELECT metric, labels, body FROM fleet_blocks WHERE res = ? AND start = ?", (res, start)
            ).fetchall()
            blocks = {(m, lab): rollup_codec.decode(body, m, FLEET_HOST, (), res) for m, lab, body in stored}
            dropped = gone[(res, start)] if replace else {r.start for rs in adding.values() for r in rs}
            for one in {*blocks, *adding}:  # (metric, labels)
                fresh = adding.get(one, [])
                kept = [r for r in blocks.get(one, []) if r.start not in dropped]
                records = sorted(kept + fresh, key=lambda r: r.start)
                if not records:
                    conn.execute(
                        "DELETE FROM fleet_blocks WHERE res = ? AND metric = ? AND labels = ? AND start = ?",
                        (res, *one, start),
                    )
                    continue
                conn.execute(
                    "INSERT OR REPLACE INTO fleet_blocks(res, metric, labels, start, last, body)"
                    " VALUES (?,?,?,?,?,?)",
                    (res, *one, start, records[-1].start, rollup_codec.encode(records)),
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
        sql = "SELECT metric, labels, body FROM fleet_blocks WHERE res = ? AND start >= ? AND start <= ?"
        args: list[object] = [resolution, _block(start, resolution), end]
        if metric is not None:
            sql += " AND metric = ?"
            args.append(metric)
        found = []
        for name, labels_json, body in self.db.conn().execute(sql + " AND last >= ?", [*args, start]):
            label_map: dict[str, str] = json.loads(labels_json)
            if not wanted <= set(label_map.items()):
                continue
            ltuple = tuple(sorted(label_map.items()))
            for r in rollup_codec.decode(body, name, FLEET_HOST, ltuple, resolution):
                if start <= r.start <= end:
                    found.append((name, r.start, labels_json, r))
        found.sort(key=lambda f: f[:3])  # as schema 2's key ordered them: metric, start, labels
        return iter([r for *_, r in found])

    def migrate(self, rows_per_transaction: int = MIGRATE_ROWS) -> int:
        """Move schema 2's JSON rows (table `fleet`, when there) into blocks, in transactions of rows
        read, merged and deleted together; returns how many moved."""
        conn = self.db.conn()
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'fleet'").fetchone() is None:
            return 0
        moved = 0
        while True:
            with self.db.write() as tx:
                rows = tx.execute(
                    "SELECT res, metric, start, labels, body FROM fleet LIMIT ?", (rows_per_transaction,)
                ).fetchall()
                if not rows:
                    tx.execute("DROP TABLE fleet")
                    return moved
                records = [
                    Rollup.from_json({**orjson.loads(b), "metric": m, "host": FLEET_HOST, "resolution": res})
                    for res, m, _t, _l, b in rows
                ]
                self._put_fleet(tx, records, replace=False)
                tx.executemany(
                    "DELETE FROM fleet WHERE res = ? AND metric = ? AND start = ? AND labels = ?",
                    [row[:4] for row in rows],
                )
                moved += len(rows)

    def purge(self, now: float) -> None:
        with self.db.write() as conn:
            for res, width in RESOLUTION_SECONDS.items():
                kept = fleet_kept(res, self.retention_seconds)
                conn.execute("DELETE FROM fleet_blocks WHERE res = ? AND last < ?", (res, now - kept - width))

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
        # the series a sample at or after `since` may be in: `SeriesCatalog.rows`' candidates
        args: list[object] = [since, metric, since - SEEN_SLACK_SECONDS]
        for k, v in (labels or {}).items():
            args += [f'$."{k}"', v]
        conn = self.db.conn()
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
        newest = {sid: (ts, host, v, x) for sid, host, ts, v, x in rows}
        for sid, host in in_blocks:
            found = self.raw.newest_in_blocks(sid, since, head.get(sid, -math.inf))
            if found is not None:
                newest[sid] = (found[0], host, found[1], None)
        # the packed head's newest: the latest pack ending last, which wins a tie with the others
        hosts = dict(
            conn.execute(
                "SELECT s.id, s.host FROM series s WHERE s.metric = ? AND s.last_seen >= ?" + wanted, args[1:]
            ).fetchall()
        )
        for sid, (pack_ts, pack_value) in self.head.newest_many(hosts, since).items():
            if sid not in newest or pack_ts >= newest[sid][0]:
                newest[sid] = (pack_ts, hosts[sid], pack_value, None)
        for _ts, host, raw, hist in newest.values():
            value = _value(raw, hist)
            if value is not None:
                per_host.setdefault(host, []).append(value)
        return {h: sum(v) / len(v) for h, v in sorted(per_host.items())}

    def last_ingest(self) -> float | None:
        newest, pushed = (
            self.db.conn()
            .execute("SELECT (SELECT max(last_seen) FROM series), (SELECT max(seen) FROM host_pushes)")
            .fetchone()
        )  # a host's `seen` is exact where its series' `last_seen` may lag (`SEEN_SLACK_SECONDS`)
        if newest is None:
            return None
        return float(newest if pushed is None else max(newest, pushed))


def _block(start: float, resolution: str) -> float:
    width = FLEET_BLOCK_SECONDS.get(resolution, RESOLUTION_SECONDS[resolution])
    return start - start % width


def _value(value: float | None, hist: str | None) -> float | None:
    """A plain sample's value, or a histogram sample's mean observation."""
    if value is not None:
        return float(value)
    if hist:
        h = json.loads(hist)
        return h["sum"] / h["count"] if h.get("count") else None
    return None
