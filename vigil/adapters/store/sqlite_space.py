"""Disk space as the SQLite stores see it: a full disk is `StorageFull` (503 + Retry-After), never a
500, and health can say so until space is back.

SQLite reports a write that found no room as `SQLITE_FULL` (the unix VFS maps ENOSPC to it), at any
statement of a transaction or at COMMIT. `DiskSpace` remembers that the last write failed that way
(cleared by the next write that commits) and answers health's question "can we write?" without a
restart: the data dir's file system has at least `MIN_FREE_BYTES` free (statvfs, O(1)) and, after a
failed write, a one-row probe write commits.

Standard library and `vigil.domain` only.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from vigil.domain.errors import StorageFull, Unavailable

SQLITE_FULL = 13
# Less room than one request body (1 MiB) means the next batch is about to fail.
MIN_FREE_BYTES = 1024 * 1024


def is_disk_full(exc: BaseException) -> bool:
    """Whether an sqlite3 error is SQLITE_FULL (primary code; extended codes keep it in the low byte)."""
    return isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == SQLITE_FULL


class DiskSpace:
    """Write outcomes of one SQLite file, and the health check built on them. Thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._failed = False
        self._lock = threading.Lock()

    def wrote(self) -> None:
        with self._lock:
            self._failed = False

    def full(self, exc: BaseException) -> StorageFull:
        """Record a write that found no room; the error to raise instead of `exc`."""
        with self._lock:
            self._failed = True
        return StorageFull(
            "the data disk is full: nothing of this request was stored; free space and retry",
            retry_after=60,
        )

    def free_bytes(self) -> int:
        st = os.statvfs(self.directory)
        return st.f_bavail * st.f_frsize

    def check(self, probe: Callable[[], None]) -> None:
        """Raises StorageFull unless a write could succeed now (`probe` commits a tiny write).

        Raises:
            StorageFull: under `MIN_FREE_BYTES` free, or the last write failed and the probe fails too.
            Unavailable: the probe failed for another reason (busy, I/O error).
        """
        free = self.free_bytes()
        if free < MIN_FREE_BYTES:
            raise StorageFull(f"the data disk has {free} bytes free", retry_after=60)
        with self._lock:
            failed = self._failed
        if failed:
            try:
                probe()
            except sqlite3.Error as exc:
                if is_disk_full(exc):
                    raise self.full(exc) from exc
                raise Unavailable(f"the SQLite store cannot write: {exc}") from exc  # busy, I/O error
            self.wrote()
