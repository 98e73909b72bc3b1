"""Local files only their owner may read: the data dir (0700), the SQLite database with its `-wal` and
`-shm` companions, and token files (0600).

SQLite creates `-wal`/`-shm` with the mode of the database file, so creating the database 0600 before
SQLite opens it keeps all three private; files left 0644 by an older version are tightened on start.
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; the directory itself ends up 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_database(path: Path) -> None:
    """Create the SQLite file 0600 if missing (before SQLite does, 0644), and make it and its
    companions 0600 if they exist.

    An existing database is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, including SQLite's, and a connection already open in the process
    (the trace store opens the same file after the sample store) then fails with "disk I/O error"."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, FILE_MODE)
    except FileExistsError:
        os.chmod(path, FILE_MODE)
    else:
        try:
            os.fchmod(fd, FILE_MODE)  # the umask may have cleared bits; 0600 exactly
        finally:
            os.close(fd)
    for suffix in SQLITE_COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", FILE_MODE)


def write_private(path: Path, text: str) -> None:
    """Write a secret file 0600 (created so: never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT: tighten it
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_private(path: Path) -> str:
    """A secret file's text, tightening its mode to 0600 if an older version left it open."""
    os.chmod(path, FILE_MODE)
    return path.read_text()
