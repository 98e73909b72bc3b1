"""Start a real `vigil serve` for browser tests and benchmarks, and seed it through the public API.

`running_server()` launches the CLI in a subprocess (free port, temp data dir, admin token from
`VIGIL_ADMIN_TOKEN`, no local agent) and waits for `/health`; `seed()` creates an ingest key and pushes
CPU, memory and request-latency histograms for a few hosts and application errors, and `seed_trace()`
one OTLP/JSON trace, the way agents and apps would. Used by `tests/e2e/conftest.py` and
`bench/bench_dashboard.py`.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
ADMIN_TOKEN = "va_e2e-admin-token"
LATENCY_BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
STACK = 'Traceback (most recent call last):\n  File "cart.py", line 12, in load\nValueError: bad id'


@dataclass(frozen=True)
class Server:
    url: str
    admin_token: str
    data_dir: Path
    pid: int | None = None  # the `vigil serve` process (None: a server running in this process)

    def api(self, method: str, path: str, token: str | None = None, **kw: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


SEEDED_HOSTS = ("web-1", "web-2", "db-1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_dashboard_built() -> None:
    """`make test` builds the dashboard first; build it here too when run on its own."""
    if (FRONTEND / "dist" / "index.html").is_file():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to build frontend/dist"
    if not (FRONTEND / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)


@contextmanager
def running_server(
    data_dir: Path, *, interval: str = "10", env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`env`: extra settings for the server (e.g. a longer raw retention)."""
    ensure_dashboard_built()
    port = free_port()
    vigil = Path(sys.executable).parent / "vigil"
    env = {**os.environ, "VIGIL_ADMIN_TOKEN": ADMIN_TOKEN, "MONITORING_INTERVAL": interval, **(env or {})}
    log = open(data_dir.parent / f"vigil-serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(vigil), "serve", "--no-agent", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"vigil serve exited with {proc.returncode}; see {log.name}")
        try:
            return requests.get(f"{url}/health", timeout=2).status_code in (200, 503)
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still starting its workers
            return False

    try:
        wait_until(healthy, timeout=30, what="vigil serve to answer /health")
        yield Server(url, ADMIN_TOKEN, data_dir, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _histogram(i: int, host_index: int) -> dict[str, object]:
    # a latency distribution that drifts over time so percentiles differ visibly
    shift = 1 + 0.5 * math.sin(i / 15 + host_index)
    counts = [int(c * shift) for c in (5, 20, 40, 25, 7, 2, 1)] + [0]
    total = sum(counts)
    mids = [0.02, 0.04, 0.08, 0.2, 0.4, 0.8, 2.0, 3.0]
    return {
        "bounds": LATENCY_BOUNDS,
        "counts": counts,
        "sum": sum(c * m for c, m in zip(counts, mids, strict=True)),
        "count": total,
    }


def samples_for(host_index: int, start: float, count: int, step: float) -> Iterator[dict[str, object]]:
    """CPU, memory and a latency histogram every `step` seconds from `start`."""
    for i in range(count):
        ts = start + i * step
        yield {
            "metric": "system.cpu.utilization",
            "ts": ts,
            "labels": {"cpu": "total"},
            "value": round(0.3 + 0.2 * math.sin(i / 10 + host_index), 4),
        }
        yield {
            "metric": "system.memory.utilization",
            "ts": ts,
            "labels": {"state": "used"},
            "value": round(0.55 + 0.05 * (host_index % 8), 4),  # a ratio: stays under 0.95
        }
        yield {"metric": "http.server.request.duration", "ts": ts, "histogram": _histogram(i, host_index)}


def push(server: Server, key: str, host: str, samples: Iterator[dict[str, object]], batch: int = 4500) -> int:
    """Push samples in batches under the 5,000-sample limit; returns how many were accepted."""
    total = 0
    chunk: list[dict[str, object]] = []
    for sample in [*samples, None]:
        if sample is not None:
            chunk.append(sample)
        if chunk and (sample is None or len(chunk) >= batch):
            pushed = requests.post(
                f"{server.url}/v1/samples",
                json={"host": host, "samples": chunk},
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
            assert pushed.status_code == 202, pushed.text
            total += len(chunk)
            chunk = []
    return total


def seed(server: Server, *, hosts: tuple[str, ...] = SEEDED_HOSTS, minutes: int = 120, step: int = 60) -> str:
    """Push `minutes` of samples per host, every `step` s, ending now; errors too. Returns the ingest key."""
    created = server.api("POST", "/api/keys", json={"name": "e2e-seed"})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    count = minutes * 60 // step
    start = time.time() - (count - 1) * step
    for h, host in enumerate(hosts):
        push(server, key, host, samples_for(h, start, count, step))
    errors = {
        "errors": [
            {
                "type": "ValueError",
                "message": "cart id 'abc' is not a number",
                "host": "web-1",
                "service": "shop",
                "stack": STACK,
                "trace_id": TRACE_ID,
            }
            for _ in range(3)
        ]
        + [{"type": "TimeoutError", "message": "payment provider did not answer", "host": "web-2"}]
    }
    sent = requests.post(
        f"{server.url}/v1/errors", json=errors, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert sent.status_code in (200, 202), sent.text
    return key


def top_up(server: Server, key: str, hosts: tuple[str, ...] = SEEDED_HOSTS) -> None:
    """The last three minutes again for each seeded host, every 10 s up to now: the overview's KPIs
    cover only the last few agent intervals, so a test reading them late in a long session needs data
    that recent. Past 20 current hosts they come from the fleet job's snapshot, whose windows end at its
    newest settled minute (2-3 minutes back): samples back to now - 170 s are in the next run's windows
    or the one's after it, where samples of the last two minutes could wait for the third."""
    for h, host in enumerate(hosts):
        push(server, key, host, samples_for(h, time.time() - 170, 18, 10))


def seed_trace(server: Server, key: str) -> requests.Response:
    """One three-span OTLP/JSON trace (root, a DB child, a failing HTTP child with an exception
    event) ending 30 s ago."""
    start = int((time.time() - 30) * 1e9)
    trace = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "shop"}},
                        {"key": "host.name", "value": {"stringValue": "web-1"}},
                    ]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_ID,
                                "spanId": "00f067aa0ba902b7",
                                "name": "GET /checkout",
                                "kind": 2,
                                "startTimeUnixNano": str(start),
                                "endTimeUnixNano": str(start + 412_000_000),
                            },
                            {
                                "traceId": TRACE_ID,
                                "spanId": "00f067aa0ba902b8",
                                "parentSpanId": "00f067aa0ba902b7",
                                "name": "SELECT cart",
                                "kind": 3,
                                "startTimeUnixNano": str(start + 10_000_000),
                                "endTimeUnixNano": str(start + 100_000_000),
                            },
                            {
                                "traceId": TRACE_ID,
                                "spanId": "00f067aa0ba902b9",
                                "parentSpanId": "00f067aa0ba902b7",
                                "name": "POST /pay",
                                "kind": 3,
                                "startTimeUnixNano": str(start + 120_000_000),
                                "endTimeUnixNano": str(start + 400_000_000),
                                "status": {"code": 2, "message": "declined"},
                                "attributes": [{"key": "http.route", "value": {"stringValue": "/pay"}}],
                                "events": [
                                    {
                                        "name": "exception",
                                        "timeUnixNano": str(start + 390_000_000),
                                        "attributes": [
                                            {"key": "exception.type", "value": {"stringValue": "ValueError"}},
                                            {
                                                "key": "exception.message",
                                                "value": {"stringValue": "declined"},
                                            },
                                            {"key": "exception.stacktrace", "value": {"stringValue": STACK}},
                                        ],
                                    }
                                ],
                            },
                        ]
                    }
                ],
            }
        ]
    }
    return requests.post(
        f"{server.url}/v1/traces",
        json=trace,
        timeout=30,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
