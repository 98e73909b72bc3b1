"""The batch keys `SqliteStore` has stored (table `batch_keys`, schema 7): an exact replay of a batch,
or a second batch with the same client key, is refused by them (`sqlite_ingest`).

Keys are kept for the raw retention (a week by default), so the table holds hundreds of thousands. It
is ordered by a `bucket` before the host: the hour of the batch's newest sample for a content key
(`sha:…`, a pure function of the content, so a replay finds its row), -1 for a client key (`id:…`,
which names a batch whatever it holds). A request's hosts carry samples of the same hour, so their
new keys land side by side: 4 pages a 25-host remote-write commit, measured. Ordered by (host, key) as
schema 6's `batches` was, they dirtied ~30 random index pages (plus the table's own), a third of the
pages the commit wrote (docs/architecture.md, "Ingest, eleventh pass").

Schema 6's keys move here on open with bucket -2 (`LEGACY`, their hour unknown), and a content key is
also looked for there while any such row is left: they are purged with the rest after the retention.
Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

BATCH_KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_keys (
  bucket INTEGER NOT NULL, host TEXT NOT NULL, bkey TEXT NOT NULL, received_at REAL NOT NULL,
  PRIMARY KEY (bucket, host, bkey)) WITHOUT ROWID;
"""
CLIENT_KEY = -1  # the bucket of a client's `id:` key
LEGACY = -2  # the bucket of a key moved from schema 6's `batches`
_KEYS_PER_READ = 200  # keys per read: 600 parameters, far under SQLite's limit
BatchKey = tuple[str, str | None, float]  # host, key (None: nothing identifies the batch), newest sample


def bucket_of(bkey: str, newest: float) -> int:
    """Where a key is filed: a client key by itself, a content key by its newest sample's hour."""
    return CLIENT_KEY if bkey.startswith("id:") else int(newest // 3600)


def record_new(conn: sqlite3.Connection, keys: Sequence[BatchKey], now: float) -> list[bool]:
    """For each (host, key, newest) in order, whether it is new — not stored before, nor earlier in
    `keys` — with one read of the keys already stored and one insert of the new, in the caller's
    transaction (so a key and its samples commit together). No key: always new."""
    legacy = conn.execute("SELECT 1 FROM batch_keys WHERE bucket = ? LIMIT 1", (LEGACY,)).fetchone()
    filed = [(bucket_of(k, newest), h, k) for h, k, newest in keys if k is not None]
    asked = filed + [(LEGACY, h, k) for b, h, k in filed if legacy and b != CLIENT_KEY]
    seen: set[tuple[str, str]] = set()
    for i in range(0, len(asked), _KEYS_PER_READ):
        part = asked[i : i + _KEYS_PER_READ]
        marks = ",".join("(?,?,?)" for _ in part)
        # the triples drive the primary key: `(…) IN (VALUES …)` scanned the whole table instead
        sql = (
            f"SELECT b.host, b.bkey FROM (VALUES {marks}) AS v CROSS JOIN batch_keys b"
            " ON b.bucket = v.column1 AND b.host = v.column2 AND b.bkey = v.column3"
        )
        seen.update(conn.execute(sql, [x for triple in part for x in triple]).fetchall())
    new, rows = [], []
    buckets = iter(filed)
    for host, bkey, _newest in keys:
        if bkey is None:
            new.append(True)
            continue
        bucket = next(buckets)[0]
        if (host, bkey) in seen:
            new.append(False)
        else:
            seen.add((host, bkey))
            rows.append((bucket, host, bkey, now))
            new.append(True)
    conn.executemany("INSERT INTO batch_keys(bucket, host, bkey, received_at) VALUES (?,?,?,?)", rows)
    return new


def purge(conn: sqlite3.Connection, before: float) -> None:
    conn.execute("DELETE FROM batch_keys WHERE received_at < ?", (before,))


def migrate(tx: sqlite3.Connection) -> None:
    """Schema 6's `batches` rows into `batch_keys` (bucket -2, or -1 for client keys), then the table
    dropped, in the caller's transaction. A week of keys at 100 hosts is ~250 k rows: the open that
    moved 250 k took 1.2 s here."""
    if tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batches'").fetchone():
        tx.execute(
            "INSERT OR IGNORE INTO batch_keys(bucket, host, bkey, received_at)"
            " SELECT CASE WHEN bkey LIKE 'id:%' THEN ? ELSE ? END, host, bkey, received_at FROM batches",
            (CLIENT_KEY, LEGACY),
        )
        tx.execute("DROP TABLE batches")
