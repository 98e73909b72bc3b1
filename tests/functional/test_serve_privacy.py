"""`vigil serve` keeps its secrets: run as a subprocess with stdout a pipe, a log file or a terminal
(a pty). The sign-in URL (it carries the admin token) is printed to a terminal, or on the first start
that generated the token, never into a log file; the banner names the token file only when the token
came from it; the data dir is 0700 and the database, its -wal/-shm and the token files are 0600."""

from __future__ import annotations

import os
import pty
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from tests.waiting import wait_until

ENV = {**os.environ, "POWERTOOLS_METRICS_DISABLED": "true"}
ENV.pop("VIGIL_ADMIN_TOKEN", None)


@contextmanager
def serve(
    data_dir: Path, stdout: int | IO[Any], *, agent: bool = False, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    args = [sys.executable, "-m", "vigil.cli", "serve", "--port", "0", "--data-dir", str(data_dir)]
    proc = subprocess.Popen(args + ([] if agent else ["--no-agent"]), stdout=stdout, env={**ENV, **env})
    try:
        yield proc
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0


def banner_from_pipe(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    lines = []
    while not lines or not lines[-1].startswith("Data:"):
        line = proc.stdout.readline().decode()
        assert line, "vigil serve ended before its banner"
        lines.append(line)
    return "".join(lines)


def banner_via_pipe(data_dir: Path, **env: str) -> str:
    with serve(data_dir, subprocess.PIPE, **env) as proc:
        return banner_from_pipe(proc)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_first_start_prints_the_sign_in_url_and_later_starts_do_not(tmp_path: Path) -> None:
    data = tmp_path / "d"
    first = banner_via_pipe(data)
    token = (data / "admin-token").read_text().strip()
    assert f"/#token={token}" in first
    assert f"admin token in {data / 'admin-token'}" in first
    second = banner_via_pipe(data)
    assert token not in second and "#token=" not in second
    assert "sign in with the admin token" in second and str(data / "admin-token") in second


def test_a_log_file_never_receives_the_token_even_on_the_first_start(tmp_path: Path) -> None:
    data, log = tmp_path / "d", tmp_path / "vigil.log"
    with log.open("wb") as out, serve(data, out):
        wait_until(lambda: "Data:" in log.read_text(), timeout=30, what="the banner in the log")
    token = (data / "admin-token").read_text().strip()
    assert token not in log.read_text() and "#token=" not in log.read_text()


def test_a_terminal_gets_the_sign_in_url_on_every_start(tmp_path: Path) -> None:
    data = tmp_path / "d"
    banner_via_pipe(data)  # the first start, which generated the token
    token = (data / "admin-token").read_text().strip()
    leader, follower = pty.openpty()
    try:
        with serve(data, follower):
            seen = b""

            def read_banner() -> bool:
                nonlocal seen
                seen += os.read(leader, 4096)
                return b"Data:" in seen

            wait_until(read_banner, timeout=30, what="the banner on the terminal")
    finally:
        os.close(leader)
        os.close(follower)
    assert f"/#token={token}".encode() in seen


def test_with_vigil_admin_token_set_the_banner_names_no_token_file(tmp_path: Path) -> None:
    data = tmp_path / "d"
    banner = banner_via_pipe(data, VIGIL_ADMIN_TOKEN="va_from-the-environment")
    assert not (data / "admin-token").exists()
    assert "admin-token" not in banner and "VIGIL_ADMIN_TOKEN" in banner
    assert "va_from-the-environment" not in banner  # not a terminal, and this start generated nothing


def test_the_data_dir_is_0700_and_the_database_token_and_key_files_0600(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    (data / "admin-token").write_text("va_left-open-by-an-older-version\n")
    os.chmod(data / "admin-token", 0o644)
    with serve(data, subprocess.PIPE, agent=True) as proc:
        banner_from_pipe(proc)
        wait_until(lambda: (data / "agent-key").exists(), timeout=30, what="the local agent's key")
        files = ["vigil.sqlite3", "vigil.sqlite3-wal", "vigil.sqlite3-shm", "admin-token", "agent-key"]
        files.append("vapid-private.pem")  # the Web Push signing key, created on first start
        assert mode(data) == 0o700
        assert {name: oct(mode(data / name)) for name in files} == {name: oct(0o600) for name in files}
