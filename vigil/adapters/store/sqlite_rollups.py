"""Rollups of `SqliteStore` and the summaries (count/sum/min/max per series and step bucket) for the
series API: a part the store owns (`Rollups`).

Hourly and daily rollups are columnar blocks (`sqlite_rollup_blocks.RollupBlocks`, a part this one
owns): `summarise_arrays` reads their count/sum/min/max as arrays without a record object, and does
the same over raw samples (blocks and head merged, `arrays.bucket_cells`): the 7-day fleet-wide
average reads one cell per (series, step bucket) instead of every sample. `summarise_histograms`
merges histogram samples or fine-tier (5-minute) rollups per step bucket straight from their bodies,
without building a `Point` per row. The fine tier stays in table `rollups` (`sqlite_fine`), replaced
per host-hour (the rollup job recomputes whole hours) and kept for the raw retention. Must not import
boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from vigil.adapters.store.arrays import BucketArrays, bucket_cells, rollup_cells
from vigil.adapters.store.sqlite_db import Database
from vigil.adapters.store.sqlite_fine import NAN, fine_entries, fine_records, fine_row, unit
from vigil.adapters.store.sqlite_parts import RawSamples, SeriesIdCache, SeriesLookup
from vigil.adapters.store.sqlite_rollup_blocks import BLOCK_SECONDS, RollupBlocks
from vigil.domain import histograms
from vigil.domain.records import Histogram
from vigil.domain.rollups import FINE, RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup


class Rollups:
    """Tables `rollups` (the fine tier) and `rollup_blocks` (through its `RollupBlocks`); owned by
    `SqliteStore`, given the file, the series-id cache, the series lookup and the raw samples it
    summarises. `retention_seconds` is the raw retention (the fine tier's too)."""

    def __init__(
        self,
        db: Database,
        series_ids: SeriesIdCache,
        series: SeriesLookup,
        raw: RawSamples,
        retention_seconds: float,
    ) -> None:
        self.db = db
        self.series_ids = series_ids
        self.series = series
        self.raw = raw
        self.retention_seconds = retention_seconds
        self.blocks = RollupBlocks(db)

    def migrate(self) -> None:
        """Schema version 3: a schema-2 file's hourly and daily JSON rows into rollup blocks."""
        self.blocks.migrate()

    def purge(self, conn: sqlite3.Connection, now: float) -> None:
        """Rollups 400 days after their bucket ends (the fine tier: the raw retention), in the
        caller's transaction."""
        for res, width in RESOLUTION_SECONDS.items():
            kept = self.retention_seconds if res == FINE else ROLLUP_RETENTION_SECONDS
            if res in BLOCK_SECONDS:  # a block goes once its last bucket has
                self.blocks.purge(conn, res, now - kept - width)
                continue
            width = 3600.0 if res == FINE else width  # fine-tier rows hold a whole hour
            conn.execute("DELETE FROM rollups WHERE res = ? AND start < ?", (res, now - kept - width))

    # -- rollups ---------------------------------------------------------------------------------
    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        # a recomputed host-bucket replaces the old one whole (the fine tier: its whole host-hour)
        fine = [r for r in rollups if r.resolution == FINE]
        with self.db.write() as conn:
            coarse = [r for r in rollups if r.resolution != FINE]
            self.blocks.put(conn, [(r.host, self._rollup_series_id(conn, r, now), r) for r in coarse])
            for host, hour in {(r.host, unit(r.start)) for r in fine}:
                conn.execute(
                    "DELETE FROM rollups WHERE res = ? AND start >= ? AND start <= ?"
                    " AND series_id IN (SELECT id FROM series WHERE host = ?)",
                    (FINE, hour, hour + 3599.0, host),
                )
            hours: dict[tuple[int, float], list[Rollup]] = {}
            for r in fine:
                hours.setdefault((self._rollup_series_id(conn, r, now), unit(r.start)), []).append(r)
            conn.executemany(
                "INSERT OR REPLACE INTO rollups(series_id, res, start, count, sum, min, max, hist, body)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [fine_row(sid, hour, rs) for (sid, hour), rs in hours.items()],
            )

    def _rollup_series_id(self, conn: sqlite3.Connection, r: Rollup, now: float) -> int:
        skey = r.series_key
        sid = self.series_ids.ids.get(skey)
        if sid is not None:
            return sid
        # rollups are computed from stored samples, so the row normally exists; imported history may not
        conn.execute(
            "INSERT OR IGNORE INTO series(host, metric, labels, skey, first_seen, last_seen)"
            " VALUES (?,?,?,?,?,?)",
            (r.host, r.metric, json.dumps(dict(r.labels)), skey, r.start, r.start),
        )
        (found,) = conn.execute("SELECT id FROM series WHERE skey = ?", (skey,)).fetchone()
        return int(found)

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
        start = self._floor(start, resolution, now)
        conn = self.db.conn()
        for sid, host, metric_, labels_ in self.series.rows(
            None if metric is None else [metric], hosts, labels
        ):
            if resolution == FINE:
                for hour, count, body in conn.execute(
                    "SELECT start, count, body FROM rollups"
                    " WHERE series_id = ? AND res = ? AND start >= ? AND start <= ?",
                    (sid, resolution, unit(start), end),
                ):
                    for r in fine_records(metric_, host, labels_, hour, count, body):
                        if start <= r.start <= end:
                            yield r
                continue
            yield from self.blocks.records(sid, metric_, host, labels_, resolution, start, end)

    def _floor(self, start: float, resolution: str, now: float | None) -> float:
        """Buckets that ended more than their retention before `now` are never returned: 400 days, or
        the raw retention for the fine tier."""
        if now is None:
            return start
        kept = self.retention_seconds if resolution == FINE else ROLLUP_RETENTION_SECONDS
        return max(start, now - kept - RESOLUTION_SECONDS[resolution])

    # -- SQL-side summaries (SummaryStore) --------------------------------------------------------
    def summarise(
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
    ) -> Iterator[Rollup] | None:
        """count/sum/min/max per (series, step bucket) as `Rollup` records starting on multiples of
        `step` — per step bucket only, across all series (host "", no labels), with `fleet`; None when
        histogram samples are involved (their min/max need the buckets), in which case the caller takes
        the general path. The cells of `summarise_arrays`, one record each."""
        found = self.summarise_arrays(metric, resolution, start, end, step, hosts, labels, now, fleet)
        if found is None:
            return None
        cells = zip(
            found.index.tolist(),
            found.start.tolist(),
            found.count.tolist(),
            found.total.tolist(),
            found.lo.tolist(),
            found.hi.tolist(),
            strict=True,
        )
        series = found.series
        return (  # a NULL min/max came through numpy as NaN
            Rollup(metric, series[i][0], series[i][1], resolution, t, int(count), total, _num(lo), _num(hi))
            for i, t, count, total, lo, hi in cells
            if count
        )

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
        """`summarise` as whole arrays (`capabilities.ArraySummaryStore`), no record per cell: raw samples
        (blocks and head merged) bucketed by numpy (`arrays.bucket_cells`); rollups summed by SQL per
        (series, step bucket), the rows going straight into numpy columns."""
        ids: list[Any]
        if fleet and not hosts and not labels:
            # every series of the metric, chosen by SQL: no series row decoded (the fleet tier's raw
            # tail at 1,000 hosts spent more time listing the series than summing their samples)
            series: list[tuple[str, tuple[tuple[str, str], ...]]] = [("", ())]
            marks, ids = "SELECT id FROM series WHERE metric = ?", [metric]
        else:
            rows = self.series.rows([metric], hosts, labels)
            if not rows:
                return BucketArrays.empty([])
            series = [("", ())] if fleet else [(host, labels_) for _sid, host, _m, labels_ in rows]
            marks, ids = ",".join("?" * len(rows)), [sid for sid, *_ in rows]
        if resolution == "raw":
            if now is not None:
                start = max(start, now - self.retention_seconds)
            raw = self.raw.raw_columns(marks, ids, start, end)
            if raw is None:
                return None
            return bucket_cells(series, None if fleet else ids, *raw, step)
        start = self._floor(start, resolution, now)
        found = self.blocks.summaries(marks, ids, resolution, start, end)
        if found is None:
            return None
        return rollup_cells(series, None if fleet else ids, *found, step)

    def histogram_sample_times(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> list[tuple[str, float, bool]] | None:
        """`capabilities.HistogramPresenceStore`: SQLite reads each histogram's count (JSON1, in C),
        not the histogram, so the probe costs a row per sample instead of a parse and merge."""
        series = self.series.rows([metric], hosts, labels)
        if not series:
            return []
        host_of = {sid: host for sid, host, _m, _labels in series}
        marks = ",".join("?" * len(host_of))
        if now is not None:
            start = max(start, now - self.retention_seconds)
        if self.raw.has_plain_stored(marks, list(host_of), start, end):
            return None
        rows = (
            self.db.conn()
            .execute(
                "SELECT series_id, ts, hist IS NULL, json_extract(hist, '$.count') > 0 FROM samples"
                f" WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ?",
                [*host_of, start, end],
            )
            .fetchall()
        )
        if any(plain for _sid, _ts, plain, _observed in rows):
            return None
        return [(host_of[sid], ts, bool(observed)) for sid, ts, _plain, observed in rows]

    def summarise_histograms(
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
    ) -> list[Rollup] | None:
        """Histogram samples ("raw") or fine-tier rollups (`FINE`) of [start, end] merged per (series,
        `step` bucket), or per bucket only with `fleet`, as `Rollup` records (count/sum/min/max and the
        merged histogram; no `last`). Exact: the same merge as `histograms.merge_all`. None when a plain
        value (or a fine-tier plain marker) is among them: the caller takes the general path."""
        series = self.series.rows([metric], hosts, labels)
        if not series:
            return []
        by_id = {sid: (host, labels_) for sid, host, _m, labels_ in series}
        marks = ",".join("?" * len(by_id))
        if resolution == "raw":
            if now is not None:
                start = max(start, now - self.retention_seconds)
            if self.raw.has_plain_stored(marks, list(by_id), start, end):
                return None  # plain values (only those are packed in the head or compacted into blocks)
            sql = (
                "SELECT series_id, ts, hist FROM samples"
                f" WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ?"
            )
            args: list[Any] = [*by_id, start, end]
        elif resolution == FINE:
            start = self._floor(start, resolution, now)
            sql = (
                "SELECT series_id, CASE hist WHEN 0 THEN NULL ELSE body END FROM rollups"
                f" WHERE series_id IN ({marks}) AND res = ? AND start >= ? AND start <= ?"
            )
            args = [*by_id, resolution, unit(start), end]
        else:
            raise ValueError(f"summarise_histograms reads raw samples or {FINE} rollups, not {resolution}")
        # The loop only sorts entries into cells keyed (bucket, series or None, bounds id); the sums
        # are done at the end by C builtins over each cell's entries. Entries are the fine tier's
        # `(start, count, sum, min, max, last_ts, last, *counts)` (see `_fine_row`); raw samples are
        # made alike.
        cells: dict[tuple[int, int | None, int], list[tuple[Any, ...]]] = {}
        bound_ids: dict[tuple[float, ...], int] = {}
        loads = orjson.loads
        rows = self.db.conn().execute(sql, args).fetchall()
        if resolution == FINE:
            for sid, body in rows:
                if body is None:  # a plain marker
                    return None
                skey = None if fleet else sid
                for bounds, entries in fine_entries(body):
                    bid = bound_ids.setdefault(bounds, len(bound_ids))
                    for e in entries:
                        t = e[0]
                        if t < start or t > end:
                            continue
                        key = (int(t // step), skey, bid)
                        cell = cells.get(key)
                        if cell is None:
                            cells[key] = [e]
                        else:
                            cell.append(e)
        else:
            for sid, ts, text in rows:
                if text is None:
                    return None
                h = loads(text)
                lo, hi = h.get("min"), h.get("max")
                e = (
                    ts,
                    h["count"],
                    h["sum"],
                    NAN if lo is None else lo,
                    NAN if hi is None else hi,
                    NAN,
                    NAN,
                )
                e += tuple(h["counts"])
                bid = bound_ids.setdefault(tuple(h["bounds"]), len(bound_ids))
                key = (int(ts // step), None if fleet else sid, bid)
                cell = cells.get(key)
                if cell is None:
                    cells[key] = [e]
                else:
                    cell.append(e)
        bounds_of = {i: b for b, i in bound_ids.items()}
        per_bucket: dict[tuple[int, int | None], list[Histogram]] = {}
        for (b, sid, bid), entries in cells.items():
            los = [e[3] for e in entries if e[3] == e[3]]  # NaN (no min recorded) != NaN
            his = [e[4] for e in entries if e[4] == e[4]]
            per_bucket.setdefault((b, sid), []).append(
                Histogram(
                    bounds_of[bid],
                    tuple(map(sum, zip(*[e[7:] for e in entries], strict=True))),
                    sum(e[2] for e in entries),
                    sum(e[1] for e in entries),
                    min(los) if los else None,
                    max(his) if his else None,
                )
            )
        out: list[Rollup] = []
        for (b, sid), parts in per_bucket.items():
            merged = histograms.merge_all(parts)
            assert merged is not None
            host, labs = ("", ()) if sid is None else by_id[sid]
            out.append(
                Rollup(
                    metric,
                    host,
                    labs,
                    resolution,
                    b * step,
                    merged.count,
                    merged.sum,
                    merged.min,
                    merged.max,
                    histogram=merged,
                )
            )
        return out


def _num(x: float) -> float | None:
    return None if x != x else x
