"""The local server under real traffic, measured from outside: `vigil serve` runs as its own process
(so the pushers here never share its GIL) and this module drives it over loopback.

Figures: ingest samples/s at 1, 4, 16 and 64 concurrent pushers with batches of 100 and 1,000
(p50/p99 latency, 503s, client timeouts) and the CPU seconds the server spent per million samples
stored (its process and its worker processes, from /proc); the same two figures for Prometheus
remote-write (snappy protobuf) at 4 senders; read p95 of `/api/metrics`, `/api/hosts` and a 24 h series
idle and under 16 pushers; `/health` p99 idle and while 500 slowloris connections are open, and while
a channel "send test" waits on a webhook receiver that never answers; and, after the server stopped,
whether every sample answered 2xx is in the SQLite file exactly once. Prints figures; not a test.

The machine is shared and its load moves single figures by +-50 %: read and slowloris figures are
taken in `ROUNDS` interleaved idle/loaded pairs and judged on the median of the per-round ratios, with
the 1-minute load average printed beside them. Reads and `/health` are asked from a process of their
own (not the pushers' or the slowloris dripper's interpreter), and the pushers' own CPU share is
reported, so the client is shown not to be what limits.

Sizes: `VIGIL_BENCH_LOAD_SECONDS` per ingest step (default 4).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import resource
import socket
import sqlite3
import statistics
import struct
import subprocess
import tempfile
import threading
import time
from multiprocessing.pool import Pool
from pathlib import Path

import orjson

from tests import prom_wire
from tests.loopback import serve_command, silent_receiver, slowloris

TOKEN = "bench-admin"
PUSHERS = (1, 4, 16, 64)
BATCHES = (100, 1000)
SLOWLORIS = 500
REQUEST_TIMEOUT = 30.0
ROUNDS = 5  # interleaved idle/loaded pairs for the read and slowloris figures
READ_WINDOW = 2.0  # seconds of reads per window


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_fd_limit(wanted: int = 8192) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


class Server:
    """`vigil serve --no-agent` in a subprocess on a free loopback port (`env`: settings added to
    the environment, e.g. a longer retention)."""

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.port = _free_port()
        env = {**os.environ, "VIGIL_ADMIN_TOKEN": TOKEN, "POWERTOOLS_LOG_LEVEL": "WARNING", **(env or {})}
        self.log = (data / "server.log").open("wb")
        self.proc = subprocess.Popen(
            serve_command(self.port, data / "store"),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/health", timeout=2)[0] == 200:
                    return
            time.sleep(0.1)  # waiting for a child process to listen: nothing to wait on but the port
        self.stop()
        raise RuntimeError("vigil serve did not come up")

    def stop(self) -> float:
        """SIGTERM; seconds until the process exited (killed after 30 s)."""
        took = stop_process(self.proc)
        self.log.close()
        return took


def stop_process(proc: subprocess.Popen[bytes]) -> float:
    """SIGTERM to `proc` (by its PID); seconds until it exited (killed after 30 s)."""
    started = time.monotonic()
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.monotonic() - started


CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc/*/stat parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the process tree (live processes: utime + stime, fields 14-15):
    for a server, its own process and its worker processes."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        resp = c.getresponse()
        data = resp.read()
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        if own:
            c.close()


def create_ingest_key(port: int) -> str:
    """A new ingest key, created with the admin token over the API."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    status, body, _ = request(port, "POST", "/api/keys", b'{"name": "bench"}', headers)
    if status != 201:
        raise RuntimeError(f"POST /api/keys answered {status}: {body[:200]!r}")
    return str(orjson.loads(body)["key"])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Ingest:
    """Concurrent pushers, each on its own keep-alive connection; unique (host, metric, ts) per sample
    so the read-back count is exact."""

    def __init__(self, port: int, key: str, server_pid: int | None = None) -> None:
        self.port = port
        self.key = key
        self.server_pid = server_pid
        self.t0 = time.time() - 3 * 86400
        self.accepted = 0
        self.lock = threading.Lock()
        self.step = 0

    def body(self, host: str, n: int, batch: int) -> bytes:
        base = self.t0 + n * batch * 1e-3
        return orjson.dumps(
            {
                "host": host,
                "batch_id": f"{host}-{n}",
                "samples": [
                    {"metric": f"bench.m{j % 20}", "value": float(j), "ts": base + j * 1e-3}
                    for j in range(batch)
                ],
            }
        )

    def remote_write_body(self, host: str, n: int, batch: int) -> bytes:
        """The same samples as `body`, as a remote-write request: 20 series of `batch // 20` each."""
        base_ms = round(self.t0 * 1000) + n * batch
        return prom_wire.write_request(
            *(
                prom_wire.series(
                    {"__name__": f"bench_m{k}", "host": host},
                    [(base_ms + j, float(j)) for j in range(k, batch, 20)],
                )
                for k in range(20)
            )
        )

    def run(
        self,
        pushers: int,
        batch: int,
        seconds: float,
        stop: threading.Event | None = None,
        remote_write: bool = False,
    ) -> dict[str, float]:
        """One step: `pushers` senders for `seconds` (or until `stop`), JSON batches or remote-write."""
        self.step += 1
        step = self.step
        latencies: list[float] = []
        counts = {"ok": 0, "s503": 0, "timeouts": 0, "errors": 0, "samples": 0}
        if remote_write:
            path, make, ok = "/api/v1/write", self.remote_write_body, 204
            headers = {"Authorization": f"Bearer {self.key}", **prom_wire.HEADERS}
        else:
            path, make, ok = "/v1/samples", self.body, 202
            headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        deadline = time.monotonic() + seconds
        cpu_before = cpu_seconds(self.server_pid) if self.server_pid else 0.0

        def pusher(i: int) -> None:
            host = f"s{step}-p{i}"
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            n = 0
            while (stop is None and time.monotonic() < deadline) or (stop is not None and not stop.is_set()):
                body = make(host, n, batch)
                n += 1
                started = time.perf_counter()
                try:
                    status, data, _ = request(self.port, "POST", path, body, headers, conn=conn)
                except TimeoutError:
                    with self.lock:
                        counts["timeouts"] += 1
                    conn.close()
                    continue
                except (OSError, http.client.HTTPException):
                    with self.lock:
                        counts["errors"] += 1
                    conn.close()
                    continue
                elapsed = time.perf_counter() - started
                with self.lock:
                    latencies.append(elapsed)
                    if status == ok:
                        counts["ok"] += 1
                        answer = orjson.loads(data) if data else {"accepted": batch}  # 204: all stored
                        if not answer.get("duplicate"):
                            counts["samples"] += int(answer["accepted"])
                    elif status == 503:
                        counts["s503"] += 1
                    else:
                        counts["errors"] += 1
            conn.close()

        started = time.monotonic()
        threads = [threading.Thread(target=pusher, args=(i,)) for i in range(pushers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(self.server_pid) - cpu_before if self.server_pid else float("nan")
        with self.lock:
            self.accepted += counts["samples"]
        return {
            "samples_per_s": round(counts["samples"] / elapsed),
            # the server's CPU (its process and workers) per million samples stored in this step
            "cpu_s_per_m": round(cpu / counts["samples"] * 1e6, 2) if counts["samples"] else float("nan"),
            "p50_ms": round(pct(latencies, 0.5) * 1000, 1),
            "p99_ms": round(pct(latencies, 0.99) * 1000, 1),
            "responses_503": counts["s503"],
            "timeouts": counts["timeouts"],
            "other_errors": counts["errors"],
            "seconds": elapsed,
        }


READS = {
    "metrics": "/api/metrics",
    "hosts": "/api/hosts",
    "series_24h": "/api/metrics/series?metric=bench.m0&from=-24h&to=now&agg=avg",
}


def read_p95(port: int, seconds: float) -> dict[str, float]:
    """p95 (ms) of each read, issued in turn on one keep-alive connection for `seconds`."""
    times: dict[str, list[float]] = {name: [] for name in READS}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, path in READS.items():
            started = time.perf_counter()
            status, _, _ = request(port, "GET", path, headers=headers, conn=conn)
            times[name].append(time.perf_counter() - started)
            assert status == 200, (path, status)
    conn.close()
    return {name: round(pct(values, 0.95) * 1000, 1) for name, values in times.items()}


def read_ratios(
    port: int, ingest: Ingest, reader: Pool, rounds: int = ROUNDS, window: float = READ_WINDOW
) -> dict[str, object]:
    """Read p95 idle and under 16 pushers (x 1,000 samples), in `rounds` interleaved pairs of windows:
    other sessions' load moves single figures by ±50 %, so the goal is judged on the median of the
    per-round ratios. The reads run in `reader`, a process of their own: in this one they would wait for
    the pushers' interpreter lock (a pusher builds a 1,000-sample body in Python). Also the pushers' CPU
    share while loaded (if it neared 100 % of a core, the client would be what limits)."""
    ratios: dict[str, list[float]] = {name: [] for name in READS}
    idle_p95: dict[str, list[float]] = {name: [] for name in READS}
    loaded_p95: dict[str, list[float]] = {name: [] for name in READS}
    totals = {"samples": 0.0, "seconds": 0.0, "responses_503": 0, "timeouts": 0, "other_errors": 0}
    client_cpu: list[float] = []
    out: dict[str, object] = {"read_rounds": rounds, "load_avg_1m_before_reads": os.getloadavg()[0]}
    for _ in range(rounds):
        idle = reader.apply(read_p95, (port, window))
        stop = threading.Event()
        during: dict[str, float] = {}
        loader = threading.Thread(target=_push_until, args=(ingest, stop, during))
        loader.start()
        time.sleep(0.5)  # let the 16 pushers reach a steady state
        cpu, wall = time.process_time(), time.monotonic()
        loaded = reader.apply(read_p95, (port, window))
        client_cpu.append((time.process_time() - cpu) / (time.monotonic() - wall))
        stop.set()
        loader.join()
        totals["samples"] += during["samples_per_s"] * during["seconds"]
        totals["seconds"] += during["seconds"]
        for name in ("responses_503", "timeouts", "other_errors"):
            totals[name] += during[name]
        for name in READS:
            idle_p95[name].append(idle[name])
            loaded_p95[name].append(loaded[name])
            ratios[name].append(loaded[name] / idle[name])
    out["load_avg_1m_after_reads"] = os.getloadavg()[0]
    for name in READS:
        out[f"read_{name}_p95_ms_idle"] = statistics.median(idle_p95[name])
        out[f"read_{name}_p95_ms_16_pushers"] = statistics.median(loaded_p95[name])
        out[f"read_{name}_ratio"] = round(statistics.median(ratios[name]), 2)
        out[f"read_{name}_ratios"] = [round(r, 2) for r in ratios[name]]
    out["ingest_during_reads_samples_per_s"] = round(totals["samples"] / totals["seconds"])
    for name in ("responses_503", "timeouts", "other_errors"):
        out[f"ingest_during_reads_{name}"] = totals[name]
    out["pushers_process_cpu_percent_during_reads"] = round(100 * statistics.median(client_cpu))
    return out


def _push_until(ingest: Ingest, stop: threading.Event, into: dict[str, float]) -> None:
    into.update(ingest.run(16, 1000, 0, stop))


def slowloris_health(port: int, reader: Pool, rounds: int = ROUNDS) -> dict[str, object]:
    """`/health` p99 idle and with `SLOWLORIS` connections open, interleaved `rounds` times (each
    slowloris set is opened afresh, so every round also measures a burst of 500 connections); the
    median and the worst per-round p99, and the CPU share of this process (the one dripping bytes
    into the 500 sockets; `/health` is asked from `reader`, a process of its own)."""
    idle: list[float] = []
    held: list[float] = []
    failed = opened = 0
    client_cpu: list[float] = []
    for _ in range(rounds):
        idle.append(reader.apply(health_p99, (port,))[0])
        with slowloris(port, SLOWLORIS) as socks:
            opened = min(opened or len(socks), len(socks))
            cpu, wall = time.process_time(), time.monotonic()
            p99, bad = reader.apply(health_p99, (port,))
            client_cpu.append((time.process_time() - cpu) / (time.monotonic() - wall))
        held.append(p99)
        failed += bad
    return {
        "health_p99_ms_idle": statistics.median(idle),
        "slowloris_connections_opened": opened,
        "health_p99_ms_500_slowloris": statistics.median(held),
        "health_p99_ms_500_slowloris_worst_round": max(held),
        "health_p99_ms_500_slowloris_rounds": held,
        "health_failed_500_slowloris": failed,
        "slowloris_process_cpu_percent": round(100 * statistics.median(client_cpu)),
    }


def health_p99(port: int, n: int = 200, timeout: float = 5.0) -> tuple[float, int]:
    """p99 (ms) of `/health` on fresh connections, and how many failed or timed out (after 10 failures
    the rest are not tried: each costs `timeout`)."""
    times: list[float] = []
    failed = 0
    for _ in range(n):
        if failed >= 10:
            break
        started = time.perf_counter()
        try:
            status, _, _ = request(port, "GET", "/health", timeout=timeout)
        except (OSError, http.client.HTTPException):
            status = 0
        times.append(time.perf_counter() - started)
        failed += status != 200
    return round(pct(times, 0.99) * 1000, 1), failed


def stalled_webhook(port: int) -> dict[str, float]:
    """`/health` p99 while channel tests wait on a receiver that never answers."""
    admin = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with silent_receiver() as (rport, _):
        status, data, _ = request(
            port,
            "POST",
            "/api/channels",
            orjson.dumps({"type": "webhook", "name": "stalled", "target": f"http://127.0.0.1:{rport}/hook"}),
            admin,
        )
        assert status == 201, data
        channel = orjson.loads(data)["id"]
        tests = [
            threading.Thread(
                target=_quiet, args=(request, port, "POST", f"/api/channels/{channel}/test", b"{}", admin, 60)
            )
            for _ in range(4)
        ]
        for t in tests:
            t.start()
        time.sleep(0.5)  # let the tests reach the receiver; nothing observable to wait on from here
        p99, failed = health_p99(port, 50)
        for t in tests:
            t.join()
    return {"health_p99_ms_stalled_webhook": p99, "health_failed_stalled_webhook": failed}


def _quiet(fn: object, *args: object) -> None:
    with contextlib.suppress(Exception):
        fn(*args)  # type: ignore[operator]


def stored_samples(data: Path) -> int:
    conn = sqlite3.connect(data / "store" / "vigil.sqlite3")
    try:
        # the head's rows and packs (a bench run is too short for compaction to move any into blocks)
        bench = "(metric LIKE 'bench.m%' OR metric LIKE 'bench\\_m%' ESCAPE '\\')"
        (rows,) = conn.execute(
            "SELECT count(*) FROM samples JOIN series ON series.id = samples.series_id WHERE " + bench
        ).fetchone()
        ids = {sid for (sid,) in conn.execute("SELECT id FROM series WHERE " + bench)}
        packed = 0
        for (directory,) in conn.execute("SELECT series FROM host_packs"):  # (series id, count) pairs
            pairs = struct.unpack(f"<{len(directory) // 8}q", directory)
            packed += sum(n for sid, n in zip(pairs[::2], pairs[1::2], strict=True) if sid in ids)
        return int(rows) + packed
    finally:
        conn.close()


def run(seconds: float | None = None) -> dict[str, object]:
    seconds = seconds or float(os.environ.get("VIGIL_BENCH_LOAD_SECONDS", "4"))
    _raise_fd_limit()
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-load-"))
    out: dict[str, object] = {"step_seconds": seconds}
    server = Server(data)
    try:
        key = create_ingest_key(server.port)
        ingest = Ingest(server.port, key, server.proc.pid)
        ingest.run(4, 100, 1.0)  # warm-up: cold starts and the series rows of bench.m*
        ingest.run(4, 100, 1.0, remote_write=True)
        for batch in BATCHES:
            for pushers in PUSHERS:
                for name, value in ingest.run(pushers, batch, seconds).items():
                    if name != "seconds":
                        out[f"ingest_b{batch}_x{pushers}_{name}"] = value
        for name, value in ingest.run(4, 1000, seconds, remote_write=True).items():
            if name != "seconds":
                out[f"remote_write_b1000_x4_{name}"] = value
        with multiprocessing.get_context("spawn").Pool(1) as reader:
            out.update(read_ratios(server.port, ingest, reader))
            out.update(slowloris_health(server.port, reader))
        out.update(stalled_webhook(server.port))
    finally:
        out["sigterm_exit_s"] = round(server.stop(), 2)
    out["accepted_2xx_samples"] = ingest.accepted
    out["stored_samples"] = stored_samples(data)
    out["stored_exactly_once"] = out["stored_samples"] == ingest.accepted
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds), indent=2))
