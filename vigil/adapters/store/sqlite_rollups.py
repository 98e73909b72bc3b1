"""The rollup half of `SqliteStore`: hourly/daily rollup rows and SQL-side summaries for the series API.

Table `rollups` (WITHOUT ROWID, key (series id, resolution, bucket start)): count, sum, min and max as
columns, so `summarise` can aggregate them with `GROUP BY` without decoding anything, and the whole
record (`Rollup.to_json`, orjson) in `body` for everything else (last, rate, histogram, sketch).
`summarise` does the same over raw samples: the 7-day fleet-wide average reads one row per (series,
step bucket) instead of every sample. Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import orjson

from vigil.domain.rollups import RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS, Rollup

SeriesRow = tuple[int, str, str, tuple[tuple[str, str], ...]]


class _Tx(Protocol):
    def __enter__(self) -> sqlite3.Connection: ...

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...


class RollupTables:
    retention_seconds: float
    _series_ids: dict[str, int]
    _series_lock: threading.Lock

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> _Tx:
        raise NotImplementedError

    def _series_rows(
        self, metrics: Sequence[str] | None, hosts: Sequence[str] | None, labels: dict[str, str] | None
    ) -> list[SeriesRow]:
        raise NotImplementedError

    # -- rollups ---------------------------------------------------------------------------------
    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        buckets = {(r.host, r.resolution, r.start) for r in rollups}
        with self._write() as conn:
            for host, res, start in buckets:  # a recomputed host-bucket replaces the old one whole
                conn.execute(
                    "DELETE FROM rollups WHERE res = ? AND start = ?"
                    " AND series_id IN (SELECT id FROM series WHERE host = ?)",
                    (res, start, host),
                )
            rows = []
            for r in rollups:
                sid = self._rollup_series_id(conn, r, now)
                rows.append(
                    (
                        sid,
                        r.resolution,
                        r.start,
                        r.count,
                        r.sum,
                        r.min,
                        r.max,
                        int(r.histogram is not None),
                        orjson.dumps(r.to_json()),
                    )
                )
            conn.executemany(
                "INSERT OR REPLACE INTO rollups(series_id, res, start, count, sum, min, max, hist, body)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def _rollup_series_id(self, conn: sqlite3.Connection, r: Rollup, now: float) -> int:
        skey = r.series_key
        sid = self._series_ids.get(skey)
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
        start = _rollup_floor(start, resolution, now)
        conn = self._conn()
        for sid, _host, _metric, _labels in self._series_rows(
            None if metric is None else [metric], hosts, labels
        ):
            for (body,) in conn.execute(
                "SELECT body FROM rollups WHERE series_id = ? AND res = ? AND start >= ? AND start <= ?",
                (sid, resolution, start, end),
            ):
                yield Rollup.from_json(orjson.loads(body))

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
        the general path."""
        series = self._series_rows([metric], hosts, labels)
        if not series:
            return iter(())
        by_id = {sid: (host, labels_) for sid, host, _m, labels_ in series}
        marks = ",".join("?" * len(by_id))
        group = "2" if fleet else "1, 2"  # fleet-wide: one row per bucket (sums and counts add up)
        if resolution == "raw":
            if now is not None:
                start = max(start, now - self.retention_seconds)
            sql = (
                "SELECT series_id, CAST(ts / ? AS INTEGER), count(value), total(value), min(value),"
                " max(value), count(hist) FROM samples"
                f" WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? GROUP BY {group}"
            )
            args: list[Any] = [step, *by_id, start, end]
        else:
            start = _rollup_floor(start, resolution, now)
            sql = (
                "SELECT series_id, CAST(start / ? AS INTEGER), total(count), total(sum), min(min), max(max),"
                f" total(hist) FROM rollups WHERE series_id IN ({marks}) AND res = ? AND start >= ?"
                f" AND start <= ? GROUP BY {group}"
            )
            args = [step, *by_id, resolution, start, end]
        rows = self._conn().execute(sql, args).fetchall()
        if any(r[6] for r in rows):
            return None
        label = "raw" if resolution == "raw" else resolution
        if fleet:
            return (
                Rollup(metric, "", (), label, b * step, int(count), total, lo, hi)
                for _s, b, count, total, lo, hi, _h in rows
                if count
            )
        return (
            Rollup(metric, by_id[sid][0], by_id[sid][1], label, b * step, int(count), total, lo, hi)
            for sid, b, count, total, lo, hi, _h in rows
            if count
        )


def _rollup_floor(start: float, resolution: str, now: float | None) -> float:
    """Buckets that ended more than ROLLUP_RETENTION_SECONDS before `now` are never returned."""
    if now is None:
        return start
    return max(start, now - ROLLUP_RETENTION_SECONDS - RESOLUTION_SECONDS[resolution])
