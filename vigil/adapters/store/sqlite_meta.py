"""Keys, error groups and documents of `SqliteStore` (`MetaRecords`, a part the store owns; tables
`keys`, `error_groups`, `error_hours`, `docs`, created by the store's schema). Must not import boto3 nor
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from vigil.adapters.store.sqlite_db import Database
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.occurrences import WINDOW_HOURS, hour_of
from vigil.domain.records import ApiKeyRecord, ErrorEvent, ErrorGroup

_KEY_COLUMNS = "SELECT id, name, role, secret_hash, created_at, revoked, last_used_at FROM keys"
_DOCS_PER_READ = 200  # (kind, id) pairs per read: 400 parameters, far under SQLite's limit


class MetaRecords:
    """Tables `keys`, `error_groups`/`error_hours` and `docs`; owned by `SqliteStore`, given the file."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- keys ------------------------------------------------------------------------------------
    def put_key(self, record: ApiKeyRecord) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO keys(id, name, role, secret_hash, created_at, revoked, last_used_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    record.id,
                    record.name,
                    record.role,
                    record.secret_hash,
                    record.created_at,
                    int(record.revoked),
                    record.last_used_at,
                ),
            )

    def find_key(self, secret_hash: str) -> ApiKeyRecord | None:
        row = (
            self.db.conn()
            .execute(
                _KEY_COLUMNS + " WHERE secret_hash = ?",
                (secret_hash,),
            )
            .fetchone()
        )
        return _key(row) if row else None

    def list_keys(self) -> list[ApiKeyRecord]:
        rows = self.db.conn().execute(_KEY_COLUMNS + " ORDER BY created_at")
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        with self.db.write() as conn:
            if conn.execute("UPDATE keys SET revoked = 1 WHERE id = ?", (key_id,)).rowcount == 0:
                raise NotFound(f"no key with id {key_id!r}", field="id")
            row = conn.execute(
                _KEY_COLUMNS + " WHERE id = ?",
                (key_id,),
            ).fetchone()
        return _key(row)

    def touch_key(self, key_id: str, at: float) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE keys SET last_used_at = ?"
                " WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                (at, key_id, at),
            )

    # -- errors ----------------------------------------------------------------------------------
    def record_errors(self, events: Sequence[ErrorEvent]) -> None:
        hours = Counter((e.fingerprint, hour_of(e.ts)) for e in events)
        with self.db.write() as conn:
            conn.executemany(
                """INSERT INTO error_groups(fingerprint, type, message, service, count, first_seen, last_seen,
                                            sample_stack, last_host, last_trace_id)
                   VALUES (?,?,?,?,1,?,?,?,?,?)
                   ON CONFLICT(fingerprint) DO UPDATE SET
                     count = count + 1, first_seen = min(first_seen, excluded.first_seen),
                     last_seen = max(last_seen, excluded.last_seen),
                     message = CASE WHEN excluded.last_seen >= last_seen THEN excluded.message
                               ELSE message END,
                     sample_stack = coalesce(sample_stack, excluded.sample_stack),
                     last_host = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_host
                                 ELSE last_host END,
                     last_trace_id = coalesce(excluded.last_trace_id, last_trace_id)""",
                [
                    (e.fingerprint, e.type, e.message, e.service, e.ts, e.ts, e.stack, e.host, e.trace_id)
                    for e in events
                ],
            )
            conn.executemany(
                "INSERT INTO error_hours(fingerprint, hour, count) VALUES (?,?,?)"
                " ON CONFLICT(fingerprint, hour) DO UPDATE SET count = count + excluded.count",
                [(fp, hour, count) for (fp, hour), count in hours.items()],
            )
            # Keep each group's 24 h up to its newest hour (`occurrences`): older hours are never shown.
            conn.executemany(
                "DELETE FROM error_hours WHERE fingerprint = ?"
                " AND hour < (SELECT max(hour) FROM error_hours WHERE fingerprint = ?) - ?",
                [(fp, fp, WINDOW_HOURS - 1) for fp in {fp for fp, _ in hours}],
            )

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        # One statement (one snapshot): each group's hours come along as "hour:count,hour:count".
        rows = self.db.conn().execute(
            """SELECT fingerprint, type, message, service, count, first_seen, last_seen, sample_stack,
                      last_host, last_trace_id,
                      (SELECT group_concat(hour || ':' || count) FROM error_hours h
                        WHERE h.fingerprint = g.fingerprint)
               FROM error_groups g WHERE last_seen >= ?
               ORDER BY last_seen DESC LIMIT ?""",
            (since, limit),
        )
        return [replace(ErrorGroup(*r[:10]), hourly=_hours(r[10])) for r in rows]

    # -- documents -------------------------------------------------------------------------------
    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT version FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            current = int(row[0]) if row else 0
            if expected_version is not None and expected_version != current:
                raise Conflict(
                    f"{kind} {doc_id!r} was changed by someone else "
                    f"(version {current}, expected {expected_version})",
                    field="_version",
                )
            stored = {**doc, "_version": current + 1}
            conn.execute(
                "INSERT OR REPLACE INTO docs(kind, id, body, version) VALUES (?,?,?,?)",
                (kind, doc_id, doc_text(stored), current + 1),
            )
        return stored

    def put_docs(self, docs: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """`capabilities.DocBatchStore`: each doc as `put_doc` stores it, all in one transaction."""
        with self.db.write() as conn:
            self.write_docs(conn, docs)

    @staticmethod
    def write_docs(conn: sqlite3.Connection, docs: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """`put_docs` in the caller's transaction (ingest's: a batch and its late-sample markers)."""
        if docs:
            # the stored versions with one read per `_DOCS_PER_READ` ids, not one per doc (a back-filled
            # JSON batch marks ~100 fleet minutes)
            wanted = list(dict.fromkeys((kind, doc_id) for kind, doc_id, _ in docs))
            versions: dict[tuple[str, str], int] = {}
            for i in range(0, len(wanted), _DOCS_PER_READ):
                part = wanted[i : i + _DOCS_PER_READ]
                marks = ",".join("(?,?)" for _ in part)
                sql = (  # the ids drive the primary key (as the batch-key read in `sqlite_ingest` does)
                    f"SELECT d.kind, d.id, d.version FROM (VALUES {marks}) AS v"
                    " CROSS JOIN docs d ON d.kind = v.column1 AND d.id = v.column2"
                )
                for kind, doc_id, version in conn.execute(sql, [x for pair in part for x in pair]):
                    versions[kind, doc_id] = int(version)
            rows: dict[tuple[str, str], tuple[str, str, str, int]] = {}  # a repeated id: its last doc
            for kind, doc_id, doc in docs:
                version = versions.get((kind, doc_id), 0) + 1
                versions[kind, doc_id] = version
                rows[kind, doc_id] = (kind, doc_id, doc_text({**doc, "_version": version}), version)
            sql = "INSERT OR REPLACE INTO docs(kind, id, body, version) VALUES (?,?,?,?)"
            conn.executemany(sql, list(rows.values()))

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        row = (
            self.db.conn()
            .execute("SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, doc_id))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def list_docs(self, kind: str) -> list[dict[str, Any]]:
        rows = self.db.conn().execute("SELECT body FROM docs WHERE kind = ? ORDER BY id", (kind,))
        return [json.loads(r[0]) for r in rows]

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)).rowcount > 0


def doc_text(doc: dict[str, Any]) -> str:
    """A document's stored JSON. A flat one (text keys; text, 64-bit integer, finite float, bool or
    null values: a late-sample marker) by orjson, ~0.5 us against `json.dumps`' ~4 (a back-filled
    batch writes ~100 markers): `json.loads` reads the same values back, only the spaces differ.
    Anything else by `json.dumps` as before: nesting, NaN and infinities (orjson writes null for
    them), integers past 64 bits and lone surrogates (orjson refuses those)."""
    for key, value in doc.items():
        kind = type(value)
        if type(key) is not str or kind not in _FLAT or (kind is float and not math.isfinite(value)):
            return json.dumps(doc)
    try:
        return orjson.dumps(doc).decode()
    except orjson.JSONEncodeError:
        return json.dumps(doc)


_FLAT = frozenset({str, int, float, bool, type(None)})


def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
    kid, name, role, secret_hash, created_at, revoked, last_used_at = row
    return ApiKeyRecord(kid, name, role, secret_hash, created_at, bool(revoked), last_used_at)


def _hours(joined: str | None) -> dict[int, int]:
    """`"hour:count,hour:count"` (SQLite's group_concat) as a dict; {} for a group without hours."""
    if not joined:
        return {}
    pairs = (part.split(":") for part in joined.split(","))
    return {int(hour): int(count) for hour, count in pairs}
