"""SQLite implementation of the `TraceStore` port (local mode, tests).

Its own tables in the same SQLite file as `SqliteStore`: `spans` (one row per span, the span as JSON,
keyed by trace and span id so a retried export is stored once) and `traces` (one summary row per
trace, recomputed with `domain.traces.summarize` from the trace's stored spans whenever spans of it
arrive, since children usually arrive before their root). WAL mode and one connection per thread, as
`SqliteStore`. Expired rows are hidden from reads and deleted by `purge_expired`.

Must not import boto3 or anything from `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from vigil.adapters.private_files import private_database
from vigil.adapters.store.sqlite_space import DiskSpace, is_disk_full
from vigil.domain.errors import Unavailable
from vigil.domain.traces import TRACE_TTL_SECONDS, Span, TraceSummary, span_from_json, summarize

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, start REAL NOT NULL, body TEXT NOT NULL,
  expires_at REAL NOT NULL, PRIMARY KEY (trace_id, span_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spans_expiry ON spans(expires_at);
CREATE TABLE IF NOT EXISTS traces (
  trace_id TEXT PRIMARY KEY, service TEXT NOT NULL, name TEXT NOT NULL, route TEXT, start REAL NOT NULL,
  duration_ms REAL NOT NULL, span_count INTEGER NOT NULL, error INTEGER NOT NULL, http_status INTEGER,
  has_root INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS traces_start ON traces(start);
CREATE INDEX IF NOT EXISTS traces_service ON traces(service, start);
"""


class SqliteTraceStore:
    """Spans and trace summaries in the SQLite file at `path`."""

    def __init__(self, path: Path, ttl_seconds: float = TRACE_TTL_SECONDS) -> None:
        self.path = Path(path)
        self.ttl_seconds = ttl_seconds
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_database(self.path)  # 0600, and so the -wal/-shm SQLite creates beside it
        self._local = threading.local()
        self._space = DiskSpace(self.path.parent)
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise Unavailable(f"cannot open the SQLite trace store at {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def put_spans(self, spans: Sequence[Span], now: float) -> None:
        if not spans:
            return
        expires = now + self.ttl_seconds
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise Unavailable(f"the SQLite trace store is busy: {exc}") from exc
        try:
            conn.executemany(
                "INSERT INTO spans(trace_id, span_id, start, body, expires_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(trace_id, span_id) DO UPDATE SET body = excluded.body,"
                " start = excluded.start, expires_at = excluded.expires_at",
                [(s.trace_id, s.span_id, s.start, json.dumps(s.to_json()), expires) for s in spans],
            )
            for trace_id in sorted({s.trace_id for s in spans}):
                stored = [
                    span_from_json(json.loads(body))
                    for (body,) in conn.execute("SELECT body FROM spans WHERE trace_id = ?", (trace_id,))
                ]
                t = summarize(stored)
                conn.execute(
                    "INSERT OR REPLACE INTO traces(trace_id, service, name, route, start, duration_ms,"
                    " span_count, error, http_status, has_root, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        t.trace_id,
                        t.service,
                        t.name,
                        t.route,
                        t.start,
                        t.duration_ms,
                        t.span_count,
                        int(t.error),
                        t.http_status_code,
                        int(t.has_root),
                        expires,
                    ),
                )
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # SQLite may have rolled back by itself on a full disk
                conn.execute("ROLLBACK")
            if is_disk_full(exc):
                raise self._space.full(exc) from exc
            raise

    def list_traces(
        self,
        service: str | None = None,
        route: str | None = None,
        status: str | None = None,
        min_duration_ms: float | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 50,
        now: float | None = None,
    ) -> list[TraceSummary]:
        where = ["expires_at > ?"]
        args: list[object] = [time.time() if now is None else now]
        for clause, value in (
            ("service = ?", service),
            ("route = ?", route),
            ("duration_ms >= ?", min_duration_ms),
            ("start >= ?", start),
            ("start <= ?", end),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        if status in ("error", "ok"):
            where.append("error = ?")
            args.append(1 if status == "error" else 0)
        rows = self._conn().execute(
            "SELECT trace_id, service, name, route, start, duration_ms, span_count, error, http_status,"
            f" has_root FROM traces WHERE {' AND '.join(where)} ORDER BY start DESC LIMIT ?",
            (*args, max(0, limit)),
        )
        return [
            TraceSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], bool(r[9])) for r in rows
        ]

    def get_trace(self, trace_id: str, now: float | None = None) -> list[Span]:
        rows = self._conn().execute(
            "SELECT body FROM spans WHERE trace_id = ? AND expires_at > ? ORDER BY start, span_id",
            (trace_id, time.time() if now is None else now),
        )
        return [span_from_json(json.loads(body)) for (body,) in rows]

    def purge_expired(self, now: float) -> int:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed = conn.execute("DELETE FROM spans WHERE expires_at <= ?", (now,)).rowcount
            conn.execute("DELETE FROM traces WHERE expires_at <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(removed)

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
