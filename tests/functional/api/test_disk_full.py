"""A full data disk, for real: the local server's data dir on a small tmpfs this test mounts (as root;
skipped with the reason printed otherwise). Ingest answers 503 `storage_full` with Retry-After and
stores nothing of the refused batch, `/health` answers 503 naming the store check as degraded, and both
recover without a restart once space is freed. The refused write happens in the ingest worker process
(`vigil serve`'s default): its `StorageFull` reaches the client as the handler's 503, and `/health`,
asked in the server process, sees the full disk through the file system's free space."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from vigil.config import Config
from vigil.local.server import LocalServer

DISK_BYTES = 8 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        reason = "mounting a tmpfs needs root (CI runs as root); the full-disk test did not run"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    if shutil.which("mount") is None:
        pytest.skip("no mount command here; the full-disk test did not run")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        reason = f"could not mount a tmpfs ({mounted.stderr.strip()}); the full-disk test did not run"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)  # lazy: no thread keeps it busy


def fill(directory: Path) -> Path:
    """Write a file until the file system refuses more (ENOSPC); returns it."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        for size in (len(chunk), 4096, 1):
            while True:
                try:
                    out.write(chunk[:size])
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return filler


def batch(n: int, tag: str) -> dict[str, Any]:
    now = time.time()
    samples = [
        {"metric": "disk.test", "value": float(i), "ts": now - i * 0.001, "labels": {"run": tag}}
        for i in range(n)
    ]
    return {"host": "web-1", "samples": samples}


def stored(url: str, admin: dict[str, str], tag: str) -> int:
    params = {
        "metric": "disk.test",
        "agg": "count",
        "from": "-10m",
        "step": str(10**7),
        "labels": f"run={tag}",
    }
    body = requests.get(f"{url}/api/metrics/series", params=params, headers=admin, timeout=10).json()
    return int(sum(v for s in body["series"] for v in s["values"] if v is not None))


def test_a_full_disk_answers_503_with_retry_after_and_degraded_health_then_recovers(small_disk: Path) -> None:
    config = Config(data_dir=small_disk / "vigil", admin_token="disk-admin")
    with LocalServer(config, port=0, agent=False) as server:
        assert server.gateway.ingest is not None  # the refused write happens in the ingest worker process
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        key = requests.post(f"{server.url}/api/keys", json={"name": "w"}, headers=admin, timeout=5).json()[
            "key"
        ]
        ingest = {"Authorization": f"Bearer {key}"}
        assert (
            requests.post(
                f"{server.url}/v1/samples", json=batch(10, "before"), headers=ingest, timeout=10
            ).status_code
            == 202
        )
        assert requests.get(f"{server.url}/health", timeout=5).status_code == 200

        filler = fill(small_disk)
        refused = requests.post(
            f"{server.url}/v1/samples", json=batch(2000, "full"), headers=ingest, timeout=10
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "storage_full"
        assert int(refused.headers["Retry-After"]) > 0
        health = requests.get(f"{server.url}/health", timeout=5)
        assert health.status_code == 503
        assert health.json()["checks"]["store"].startswith("degraded")
        assert requests.head(f"{server.url}/health", timeout=5).status_code == 503

        filler.unlink()  # space is back: no restart
        health = requests.get(f"{server.url}/health", timeout=5)
        assert (health.status_code, health.json()["checks"]["store"]) == (200, "ok")
        again = requests.post(
            f"{server.url}/v1/samples", json=batch(2000, "after"), headers=ingest, timeout=10
        )
        assert again.status_code == 202, again.text
        assert stored(server.url, admin, "before") == 10
        assert stored(server.url, admin, "full") == 0  # the refused batch left nothing behind
        assert stored(server.url, admin, "after") == 2000
