"""Raw samples of `SqliteStore` read back as `Point`s: the evaluator's and exports' path (`query_points`,
`query_many`, `latest_points`), where the series API reads arrays (`sqlite_rollups.Rollups`). Blocks,
head packs and `samples` rows merged per series; at one time the latest pack's sample wins, then a
`samples` row's, then the block's. Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.adapters.store.sqlite_db import Database
from vigil.adapters.store.sqlite_parts import HeadReads, RawSamples, SeriesLookup, SeriesRow
from vigil.adapters.store.sqlite_series import SEEN_SLACK_SECONDS
from vigil.domain.records import Histogram, Point

_SERIES_PER_READ = 500  # series per read of each table: parameters far under SQLite's limit
# ...and fewer for a long window, so a read holds at most ~12 h of 500 series' samples at once (a 7-day
# export at 10 s: 35 series, ~2 M samples), not a week of 500 (30 M): the live snapshot's and the fleet
# job's windows (minutes to an hour) still read their 500 together
_SERIES_SECONDS_PER_READ = _SERIES_PER_READ * 12 * 3600.0
_Row = tuple[float, float | None, str | None]  # ts, value, histogram JSON
_NO_SAMPLES: tuple[npt.NDArray[Any], ...] = (np.empty(0), np.empty(0), np.empty(0, np.int64))


def _by_series(
    sid: npt.NDArray[np.int64], *columns: npt.NDArray[Any]
) -> dict[int, tuple[npt.NDArray[Any], ...]]:
    """`columns` (aligned with `sid`) split per series id, each series' values in their given order."""
    order = np.argsort(sid, kind="stable")
    sid = sid[order]
    ordered = [c[order] for c in columns]
    cuts = (np.flatnonzero(np.diff(sid)) + 1).tolist()
    return {
        int(sid[a]): tuple(c[a:b] for c in ordered)
        for a, b in zip([0, *cuts], [*cuts, len(sid)], strict=True)
        if b > a
    }


class RawPoints:
    """Point reads; owned by `SqliteStore`, given the file, the series lookup, the raw samples (blocks)
    and the head. `retention_seconds` bounds what a read with `now` returns."""

    def __init__(
        self, db: Database, series: SeriesLookup, raw: RawSamples, head: HeadReads, retention_seconds: float
    ) -> None:
        self.db = db
        self.series = series
        self.raw = raw
        self.head = head
        self.retention_seconds = retention_seconds

    def query_points(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self._points(self.series.rows([metric], hosts, labels, since=start), start, end, now)

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        # silent series are not read: a live overview of 100 hosts of which one still reports read 100
        return self._points(self.series.rows(metrics, hosts, None, since=start), start, end, now)

    def _points(
        self, series: list[SeriesRow], start: float, end: float, now: float | None
    ) -> Iterator[Point]:
        if now is not None:
            start = max(start, now - self.retention_seconds)
        span = end - start
        per_read = (
            _SERIES_PER_READ if span <= 0 else int(min(_SERIES_PER_READ, _SERIES_SECONDS_PER_READ / span))
        )
        per_read = max(1, per_read)  # an infinite span: one series at a time
        for i in range(0, len(series), per_read):
            yield from self._points_of(series[i : i + per_read], start, end)

    def _points_of(self, series: list[SeriesRow], start: float, end: float) -> Iterator[Point]:
        """The points of a group of series: one read of each table for all of them,
        then merged per series. A host's packs hold every series of its batches, so a read per
        series decoded the host's packs once per series (a live overview of 100 hosts: ~2,000 decodes
        of the same packs, and ~3,500 statements)."""
        sids = [sid for sid, *_ in series]
        marks = ",".join("?" * len(sids))
        rows_of: dict[int, list[_Row]] = {}
        sql = f"SELECT series_id, ts, value, hist FROM samples WHERE series_id IN ({marks})"
        for sid, ts, value, hist in self.db.conn().execute(
            sql + " AND ts >= ? AND ts <= ? ORDER BY series_id, ts", [*sids, start, end]
        ):
            rows_of.setdefault(sid, []).append((ts, value, hist))
        blocks = _by_series(*self.raw.block_samples(marks, sids, start, end))
        packs = _by_series(*self.head.columns(marks, sids, start, end))
        for sid, host, metric, ltuple in series:
            head = rows_of.get(sid, [])
            ts_col, value_col = blocks.get(sid, _NO_SAMPLES)[:2]
            pack_ts, pack_values, pack_ids = packs.get(sid, _NO_SAMPLES)
            rows = head
            if len(ts_col) or len(pack_ts):
                stored: dict[float, _Row] = {
                    ts: (ts, v, None) for ts, v in zip(ts_col.tolist(), value_col.tolist(), strict=True)
                }
                stored.update((row[0], row) for row in head)  # the head's sample wins (it is newer)
                in_order = np.argsort(pack_ids, kind="stable")  # and the latest pack's over all
                stored.update(
                    (ts, (ts, v, None))
                    for ts, v in zip(pack_ts[in_order].tolist(), pack_values[in_order].tolist(), strict=True)
                )
                rows = [stored[ts] for ts in sorted(stored)]
            for ts, value, hist in rows:
                yield Point(
                    host, metric, ltuple, ts, value, Histogram.from_json(json.loads(hist)) if hist else None
                )

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        if not metrics:
            return []
        conn = self.db.conn()
        out: list[Point] = []
        rows = conn.execute(
            f"SELECT id, host, metric, labels FROM series WHERE metric IN ({','.join('?' * len(metrics))})"
            " AND last_seen >= ?",
            [*metrics, since - SEEN_SLACK_SECONDS],  # the candidates: `SeriesCatalog.rows`
        ).fetchall()
        packs = self.head.newest_many({sid: host for sid, host, *_ in rows}, since)
        for sid, host, metric, labels_json in rows:
            row = conn.execute(
                "SELECT ts, value, hist FROM samples WHERE series_id = ? AND ts >= ?"
                " ORDER BY ts DESC LIMIT 1",
                (sid, since),
            ).fetchone()
            newest = self.raw.newest_in_blocks(sid, since, -math.inf if row is None else row[0])
            if newest is not None:  # compacted already, or bulk-loaded after the head's newest
                row = (*newest, None)
            packed = packs.get(sid)
            if packed is not None and (row is None or packed[0] >= row[0]):  # a pack wins ties
                row = (*packed, None)
            if row:
                ts, value, hist = row
                out.append(
                    Point(
                        host,
                        metric,
                        tuple(sorted(json.loads(labels_json).items())),
                        ts,
                        value,
                        Histogram.from_json(json.loads(hist)) if hist else None,
                    )
                )
        return out
