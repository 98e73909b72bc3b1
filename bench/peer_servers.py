"""The three servers of the peer benchmark (`bench/bench_peers.py`) as processes on loopback:
Prometheus and VictoriaMetrics from Debian (installed with apt when missing), and Vigil's real local
server (`bench_server_load.Server`). Each is started as a plain command so its PID is the server's,
stopped by that PID, and measured from /proc: CPU seconds and RSS of its whole process tree (Vigil's
server runs an ingest and a jobs worker process beside it), bytes of its data directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench.bench_server_load import Server, _free_port, cpu_seconds, process_tree, stop_process

APT_PACKAGES = ("prometheus", "victoria-metrics")
BINARIES = {"prometheus": "prometheus", "victoriametrics": "victoria-metrics"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def install_peers(log: Callable[[str], None]) -> list[str]:
    """The peers whose binary is there after installing the missing ones from Debian (we are root;
    policy-rc.d keeps the packages' services from starting). A message says what could not be had."""
    missing = [pkg for name, pkg in BINARIES.items() if shutil.which(pkg) is None]
    if missing:
        if shutil.which("apt-get") is None:
            log(f"apt-get is not available: cannot install {', '.join(missing)}; benchmarking Vigil alone")
        else:
            log(f"installing {', '.join(missing)} from Debian (apt-get)")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for argv in (
                ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            ):
                done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
                if done.returncode:
                    log(f"`{' '.join(argv)}` failed ({done.returncode}): {done.stderr.strip()[-300:]}")
                    break
        for service in APT_PACKAGES:  # a package's service must not run beside the benchmark
            subprocess.run(["systemctl", "stop", service], capture_output=True, check=False)
    for pid, comm in _running(set(BINARIES.values())):  # not ours: reported, left alone
        log(f"warning: {comm} (pid {pid}) is already running: it shares the CPUs with this benchmark")
    present = [name for name, binary in BINARIES.items() if shutil.which(binary)]
    for name in set(BINARIES) - set(present):
        log(f"{name} not available: its column stays empty")
    return sorted(present)


def _running(names: set[str]) -> list[tuple[int, str]]:
    """(pid, name) of the processes whose command name is one of `names` (the kernel keeps 15 bytes)."""
    names = {name[:15] for name in names}
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (comm := (entry / "comm").read_text().strip()) in names:
                found.append((int(entry.name), comm))
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of the process tree in MiB."""
    pages = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            pages += int(Path(f"/proc/{p}/statm").read_text().split()[1])
    return pages * PAGE / 2**20


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def settle(
    pid: int, folder: Path | None = None, idle_cores: float = 0.03, window: float = 3.0, limit: float = 180.0
) -> float:
    """Wait until the server's tree uses under `idle_cores` of a core over `window` seconds and its
    data directory's size stopped changing (compactions, merges, background flushes, scheduled jobs
    done: VictoriaMetrics writes a flushed part seconds later); seconds waited. There is no event to
    wait on: CPU time and bytes are sampled over each window."""
    started = time.monotonic()
    size = disk_bytes(folder) if folder else 0
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(window)
        now_size = disk_bytes(folder) if folder else 0
        if cpu_seconds(pid) - before < idle_cores * window and now_size == size:
            break
        size = now_size
    return time.monotonic() - started


def _get(url: str, timeout: float = 2.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # a loopback URL built here
        return int(r.status)


class Peer:
    """Prometheus or VictoriaMetrics on a free loopback port with a fresh data directory."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.data = root / name
        self.data.mkdir(parents=True)
        self.port = _free_port()
        listen = f"127.0.0.1:{self.port}"
        if name == "prometheus":
            config = root / "prometheus.yml"
            config.write_text("global: {}\nscrape_configs: []\n")  # no scrape: a "now" sample moves the head
            argv = [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data}",
                "--storage.tsdb.retention.time=30d",
                f"--web.listen-address={listen}",
                "--web.enable-remote-write-receiver",
            ]
            self.ready, self.flush = "/-/ready", None
        else:
            argv = [
                "victoria-metrics",
                f"-storageDataPath={self.data}",
                "-retentionPeriod=1",
                f"-httpListenAddr={listen}",
            ]
            self.ready, self.flush = "/health", "/internal/force_flush"
        self.log = (root / f"{name}.log").open("wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.query_path = "/api/v1/query_range"
        self.extra_query = {"nocache": "1"} if name == "victoriametrics" else {}
        self.headers: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if _get(f"http://{listen}{self.ready}") == 200:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)  # waiting for a child process to listen: nothing to wait on but the port
        self.stop()
        raise RuntimeError(f"{name} did not come up (see {root / name}.log)")

    def flushed(self) -> None:
        if self.flush:
            _get(f"http://127.0.0.1:{self.port}{self.flush}", timeout=60)

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


class Vigil:
    """`vigil serve --no-agent` (the real local server, `bench_server_load.Server`) on `root/store`,
    with a raw retention of `retention_days` so a back-dated week stays inside it."""

    def __init__(self, root: Path, retention_days: int, token: str) -> None:
        self.name = "vigil"
        self.data = root / "store"
        root.mkdir(parents=True, exist_ok=True)
        self.server = Server(root, env={"MONITORING_RETENTION_DAYS": str(retention_days)})
        self.port = self.server.port
        self.pid = self.server.proc.pid
        self.query_path = "/api/metrics/series"
        self.extra_query: dict[str, str] = {}
        self.headers = {"Authorization": f"Bearer {token}"}

    def flushed(self) -> None:
        pass

    def stop(self) -> None:
        self.server.stop()
