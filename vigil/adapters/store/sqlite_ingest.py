"""The ingest half of `SqliteStore`: batches written in one transaction each — or several hosts' in
one (`put_series_batches`) — as the batch's key (`sqlite_batch_keys`: a repeated key or content is
refused, and key and samples commit together), the host's cadence record (`host_pushes`) and
one packed head row per host and batch (`sqlite_head`; histogram samples as `samples` rows). Per sample only
two list appends; the series id is looked up once per series of the batch (`sqlite_series`). Must not
import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from vigil.adapters.store import sqlite_batch_keys as batch_keys
from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.adapters.store.sqlite_head import HeadPacks, Pack, host_pack, pack, packed_host_pack
from vigil.adapters.store.sqlite_series import SEEN_SLACK_SECONDS, Labels, SeriesIds
from vigil.domain.batches import batch_key
from vigil.domain.cadence import Cadence, observe_push
from vigil.domain.records import Point
from vigil.domain.series_batch import HostBatch, SeriesSamples

_KEYS_PER_READ = 200  # ids or hosts per statement: far under SQLite's parameter limit
Docs = Sequence[tuple[str, str, dict[str, Any]]]  # (kind, id, body), as `Store.put_doc` takes them
Marks = Callable[[list[HostBatch]], Docs]  # the documents the stored batches call for


class SampleWriter:
    """Writes pushed batches; owned by `SqliteStore`, sharing its database, head and series ids."""

    def __init__(
        self,
        db: SqliteDatabase,
        head: HeadPacks,
        series: SeriesIds,
        write_docs: Callable[[sqlite3.Connection, Docs], None],
    ) -> None:
        self.db = db
        self.head = head
        self.series = series
        self.write_docs = write_docs  # documents in the caller's transaction (`MetaRecords.write_docs`)
        self.written: dict[int, float] = {}  # series id -> the last `last_seen` this process committed

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
        """`Store.put_samples`: the batch key, the cadence record and the samples in one transaction."""
        new_ids: dict[str, int] = {}
        written: dict[int, float] = {}
        with self.db.write() as conn:
            key = batch_key(host, points, batch_id, timestamped)
            stored = batch_keys.record_new(
                conn, [(host, key, max((p.ts for p in points), default=now))], now
            )[0]
            if stored:
                seen = max(now, max(p.ts for p in points)) if points else None
                self._observe_pushes(conn, [(host, push_interval, seen)], now)
                self._put_points(conn, points, now, new_ids, written)
        self.series.remember(new_ids)
        self.written.update(written)
        return stored

    def put_series_batches(
        self,
        batches: Sequence[HostBatch],
        now: float,
        marks: Marks | None = None,
    ) -> list[bool]:
        """`capabilities.SeriesBatchStore`: every batch in one transaction, each host one pack, with
        a fixed number of statements per call rather than per host (a remote-write request carries
        25 hosts or more: four statements each cost more than their samples); `marks(stored batches)`
        documents (late-sample markers) in the same transaction, versioned as `put_docs` does."""
        new_ids: dict[str, int] = {}
        written: dict[int, float] = {}
        with self.db.write() as conn:
            keys = [(b.host, b.key, b.newest() if b.series else now) for b in batches]
            stored = batch_keys.record_new(conn, keys, now)
            kept = [b for b, s in zip(batches, stored, strict=True) if s]
            packs: list[Pack] = []
            last: dict[int, float] = {}
            pushes = []
            for b in kept:
                newest = self._pack_host(conn, b.host, b.series, now, new_ids, packs, last)
                pushes.append((b.host, b.push_interval, None if newest is None else max(now, newest)))
            self._observe_pushes(conn, pushes, now)
            self.head.append(conn, packs)
            self._seen(conn, last, now, written)
            if marks is not None:
                self.write_docs(conn, marks(kept))
        self.series.remember(new_ids)
        self.written.update(written)
        return stored

    def _put_points(
        self,
        conn: sqlite3.Connection,
        points: Sequence[Point],
        now: float,
        new_ids: dict[str, int],
        written: dict[int, float],
    ) -> None:
        """A batch's points in the caller's transaction: plain values grouped per series for
        `_put_series`, histogram samples as rows of `samples`."""
        by_series: dict[tuple[str, str, Labels], SeriesSamples] = {}
        hist_rows: list[tuple[int, float, None, str]] = []
        last: dict[int, float] = {}
        for p in points:
            if p.histogram is None:
                group = by_series.get((p.host, p.metric, p.labels))
                if group is None:
                    group = by_series[p.host, p.metric, p.labels] = SeriesSamples(p.metric, p.labels, [], [])
                group.ts.append(p.ts)
                group.values.append(p.value)  # type: ignore[arg-type]  # a plain sample has a value
            else:
                sid = self.series.id_for(conn, p.host, p.metric, p.labels, now, new_ids)
                hist_rows.append((sid, p.ts, None, json.dumps(p.histogram.to_json())))
                last[sid] = max(last.get(sid, p.ts), p.ts)
        if hist_rows:
            conn.executemany(
                "INSERT OR REPLACE INTO samples(series_id, ts, value, hist) VALUES (?,?,?,?)", hist_rows
            )
            self._seen(conn, last, now, written)
        if by_series:
            host = points[0].host  # a batch is one host's
            self._put_series(conn, host, list(by_series.values()), now, new_ids, written)

    def _put_series(
        self,
        conn: sqlite3.Connection,
        host: str,
        series: Sequence[SeriesSamples],
        now: float,
        new_ids: dict[str, int],
        written: dict[int, float],
    ) -> None:
        """The host's series as one packed head row (`sqlite_head`), in the caller's transaction."""
        packs: list[Pack] = []
        last: dict[int, float] = {}
        self._pack_host(conn, host, series, now, new_ids, packs, last)
        self.head.append(conn, packs)
        self._seen(conn, last, now, written)

    def _pack_host(
        self,
        conn: sqlite3.Connection,
        host: str,
        series: Sequence[SeriesSamples],
        now: float,
        new_ids: dict[str, int],
        packs: list[Pack],
        last: dict[int, float],
    ) -> float | None:
        """The host's series as one head pack appended to `packs` (a series sent twice in the batch is
        one run, its later samples winning, as a later pack's would), each series' newest time to
        `last`; the newest of them (None without samples)."""
        id_for = self.series.id_for
        sids = [id_for(conn, host, s.metric, s.labels, now, new_ids) for s in series]
        if series and len(set(sids)) == len(sids) and all(s.packed is not None for s in series):
            # every series packed by its decoder (remote-write, whole JSON scrapes): the pack is their
            # bytes as they are, no run tuple per series
            newest = [s.ts[-1] for s in series]
            for sid, hi in zip(sids, newest, strict=True):
                last[sid] = max(last.get(sid, hi), hi)
            packs.append(packed_host_pack(host, sids, series))
            return max(newest, default=None)
        if len(set(sids)) == len(sids):
            runs = [(sid, *pack(s.ts, s.values, s.packed)) for sid, s in zip(sids, series, strict=True)]
        else:
            by_id: dict[int, list[SeriesSamples]] = {}
            for sid, s in zip(sids, series, strict=True):
                by_id.setdefault(sid, []).append(s)
            runs = [
                (sid, *pack([t for s in sent for t in s.ts], [v for s in sent for v in s.values]))
                for sid, sent in by_id.items()
            ]
        for sid, _lo, hi, _n, _body in runs:
            last[sid] = max(last.get(sid, hi), hi)
        if not runs:
            return None
        packs.append(host_pack(host, runs))
        return max(run[2] for run in runs)

    def _seen(
        self, conn: sqlite3.Connection, last: dict[int, float], now: float, written: dict[int, float]
    ) -> None:
        """Each series' `last_seen` raised to max(its newest sample, `now`) where the value this
        process last wrote for it (`self.written`, a lower bound of the stored one) is more than
        `SEEN_SLACK_SECONDS` older — a series pushed every few seconds rewrote its row and index
        entry on every request, ~10 % of a remote-write request's time — the values to `written`
        (remembered once committed). One statement per value (nearly always `now` alone) over up to
        `_KEYS_PER_READ` ids, not one per series (~1.4-2.1 against ~0.15 ms per 500-series request)."""
        by_value: dict[float, list[int]] = {}
        known = self.written
        for sid, hi in last.items():
            value = max(hi, now)
            if known.get(sid, -math.inf) < value - SEEN_SLACK_SECONDS:
                by_value.setdefault(value, []).append(sid)
                written[sid] = value
        for value, sids in by_value.items():
            for i in range(0, len(sids), _KEYS_PER_READ):
                part = sids[i : i + _KEYS_PER_READ]
                marks = ",".join("?" * len(part))
                sql = f"UPDATE series SET last_seen = ? WHERE last_seen < ? AND id IN ({marks})"
                conn.execute(sql, [value, value, *part])

    @staticmethod
    def _observe_pushes(
        conn: sqlite3.Connection, pushes: Sequence[tuple[str, float | None, float | None]], now: float
    ) -> None:
        """Each (host, declared interval, seen) push's cadence record, in order, in the caller's
        transaction: one read of the hosts' records and one write of the new ones. `seen`, the
        push's newest sample or `now` if later (None: it stored no sample), raises the host's
        `seen`: exact where its series' `last_seen` may lag (`SEEN_SLACK_SECONDS`)."""
        if not pushes:
            return
        hosts = sorted({h for h, _, _ in pushes})
        records: dict[str, Cadence] = {}
        seen: dict[str, float | None] = {}
        for i in range(0, len(hosts), _KEYS_PER_READ):
            part = hosts[i : i + _KEYS_PER_READ]
            marks = ",".join("?" * len(part))
            sql = f"SELECT host, last_push, gaps, declared, seen FROM host_pushes WHERE host IN ({marks})"
            for host, last_push, gaps, declared, was in conn.execute(sql, part):
                records[host] = Cadence(last_push, tuple(orjson.loads(gaps)), declared)
                seen[host] = was
        for host, declared, newest in pushes:
            records[host] = observe_push(records.get(host, Cadence()), now, declared)
            was = seen.get(host)
            seen[host] = newest if was is None else was if newest is None else max(was, newest)
        conn.executemany(
            "INSERT OR REPLACE INTO host_pushes(host, last_push, gaps, declared, seen) VALUES (?,?,?,?,?)",
            [
                (h, records[h].last_push, _gaps_text(records[h].gaps), records[h].declared, seen.get(h))
                for h in hosts
            ],
        )


def _gaps_text(gaps: Sequence[float]) -> str:
    """A cadence record's gaps as stored JSON: orjson's, a fifth of `json.dumps`' time (25 records a
    remote-write request), where every gap is a finite float (they are receipt-time differences);
    `json.dumps` for anything else, as before."""
    if all(type(g) is float and math.isfinite(g) for g in gaps):
        return orjson.dumps(gaps).decode()
    return json.dumps(gaps)
