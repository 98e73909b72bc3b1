"""The local server's memory: however many handler threads serve requests at once, the process keeps
two malloc heaps (`vigil.local.malloc_arenas`), not one per thread that each holds its high-water mark
(docs/architecture.md, "Local server memory"). Counted from glibc's own report (`malloc_info`) in a
fresh interpreter running a real `LocalServer` under concurrent requests over loopback HTTP."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import ctypes, os, sys, tempfile, threading
from pathlib import Path
import requests
from vigil.config import Config
from vigil.local.server import LocalServer

def heaps():
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    out = Path(sys.argv[2])
    fp = libc.fopen(str(out).encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    return out.read_text().count("<heap nr=")

config = Config(data_dir=Path(sys.argv[1]))
with LocalServer(config, port=0, agent=False, ingest_process=False) as server:
    auth = {"Authorization": f"Bearer {server.admin_token}"}
    go = threading.Barrier(16)
    def read():
        session = requests.Session()  # a connection of its own: waitress hands it to any free thread
        go.wait()
        for _ in range(20):
            assert session.get(f"{server.url}/api/hosts", headers=auth, timeout=30).status_code == 200
    clients = [threading.Thread(target=read) for _ in range(16)]
    for c in clients: c.start()
    for c in clients: c.join()
    print(heaps())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_the_server_keeps_two_malloc_heaps_while_sixteen_clients_read_at_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "d"), str(tmp_path / "malloc.xml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().splitlines()[-1]) <= 2
