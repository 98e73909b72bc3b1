"""The SQLite file itself as one small part `SqliteStore` and its parts share: one connection per
thread, and the write transaction.

One database file in WAL mode, one connection per thread (sqlite3 connections must not be shared
across threads; WAL readers never wait for the writer), writes in `BEGIN IMMEDIATE` transactions so a
batch is all-or-nothing. Writers of one process take turns on one lock before `BEGIN IMMEDIATE`: one
writer path, handed over at once, instead of threads polling SQLite's lock through its busy handler
(which sleeps up to 100 ms between tries); the busy timeout still covers other processes. The WAL is
truncated back to `WAL_LIMIT_BYTES` after a checkpoint (SQLite otherwise keeps it at the size of the
largest transaction ever written: a bulk load's, tens of MB). New files get `PAGE_BYTES` pages: a
row of up to ~2,000 bytes (a columnar block) stays inside its page, where 4 KiB pages move anything
past ~1,000 bytes to an overflow page of its own (an older file keeps its page size until a VACUUM
after `PRAGMA page_size`). Must not import boto3 nor
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from vigil.adapters.private_files import private_database
from vigil.adapters.store.sqlite_space import DiskSpace, is_disk_full
from vigil.domain.errors import Unavailable

WAL_LIMIT_BYTES = 4 * 1024 * 1024
PAGE_BYTES = 8192


class Transaction(Protocol):
    """`with tx as conn:` — BEGIN IMMEDIATE … COMMIT, or ROLLBACK on an exception."""

    def __enter__(self) -> sqlite3.Connection: ...

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...


class Database(Protocol):
    """What a part of `SqliteStore` needs of the file: this thread's connection and a write
    transaction (`SqliteDatabase`)."""

    def conn(self) -> sqlite3.Connection: ...

    def write(self) -> Transaction: ...


class SqliteDatabase:
    """One SQLite file: connections per thread, the process' write lock, its disk-space record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        private_database(path)  # 0600, and so the -wal/-shm SQLite creates beside it
        self.space = DiskSpace(path.parent)
        self._local = threading.local()
        self._write_lock = threading.Lock()  # the one writer path of this process (see the docstring)

    def conn(self) -> sqlite3.Connection:
        """This thread's connection. Raises Unavailable when the file cannot be opened."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=True)
                conn.execute(f"PRAGMA page_size={PAGE_BYTES}")  # only a new, empty file takes it
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            except sqlite3.Error as exc:
                raise Unavailable(f"cannot open the SQLite store at {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def write(self) -> WriteTransaction:
        return WriteTransaction(self.conn(), self.space, self._write_lock)

    def probe_write(self) -> None:
        """A one-row write that commits (health's question after a failed write: is there room?)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR REPLACE INTO docs(kind, id, body, version) VALUES ('_health', 'probe', '{}', 0)"
            )
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def close(self) -> None:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class WriteTransaction:
    """`with WriteTransaction(conn, space, lock):` — the process' write lock, BEGIN IMMEDIATE … COMMIT,
    ROLLBACK on any exception (all-or-nothing). A statement or COMMIT that finds the disk full raises
    `StorageFull` (SQLite may already have rolled back by itself, hence the `in_transaction` checks)."""

    def __init__(self, conn: sqlite3.Connection, space: DiskSpace, lock: threading.Lock) -> None:
        self.conn = conn
        self.space = space
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.lock.release()
            raise Unavailable(f"the SQLite store is busy: {exc}") from exc
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self._finish(exc)
        finally:
            self.lock.release()

    def _finish(self, exc: object) -> None:
        failure = exc if isinstance(exc, BaseException) else None
        if failure is None:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as err:
                failure = err
            else:
                self.space.wrote()
                return
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        if is_disk_full(failure):
            raise self.space.full(failure) from failure
        if exc is None:
            raise failure  # COMMIT failed for another reason
