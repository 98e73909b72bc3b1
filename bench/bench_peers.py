"""Vigil beside Prometheus and VictoriaMetrics (issue 18): the same seeded data in all three, the same
queries at the same step and aggregation, over loopback HTTP, in one run on this machine.

Steps (docs/benchmarks.md):
1. Prometheus and VictoriaMetrics from Debian (`apt-get install prometheus victoria-metrics` when
   missing; without apt, Vigil alone and the peers' columns empty).
2. The dataset (`bench/peer_data.py`: 100 hosts x 20 gauges @ 60 s x 7 days = 20.2 M samples by
   default) is encoded once as remote-write requests (snappy protobuf, 2,000 samples each) before any
   clock starts, then sent to each peer by 4 senders; samples/s over the sending, the server's CPU
   seconds (process tree, /proc) per 1 M samples from the first request until it is idle again, bytes
   of its data directory per sample once flushed and idle.
3. Vigil's HTTP ingest: a fresh `vigil serve` gets an untimed warm-up (`warm_up`: one small request,
   then overlapping ones that start its second ingest worker), then the same
   remote-write requests for at most `ingest_seconds` (its ingest is far slower than the peers', so
   the whole week would take long);
   another fresh one the same data as JSON `POST /v1/samples` batches of 2,000. Figures as for the
   peers, over what was sent.
4. Vigil's copy for the queries is loaded with the back-fill path (`vigil.services.backfill`: the
   store's bulk load, then the rollup and fleet jobs over the range; timed on its own), then served.
   Its raw retention is set to 8 days, so the week stays inside it while the run goes on.
5. The query set (`peer_data.queries`): 1 warm-up + `runs` timed runs of each, interleaved across
   systems; median and p95; each system's answer compared with the one computed from the data
   (mismatches are reported, not hidden). Then each server's RSS.

Prints the markdown table (Vigil against the best peer) and returns flat figures for `make bench`.
Sizes: `VIGIL_BENCH_PEERS_DAYS` (7), `_HOSTS` (100), `_RUNS` (20), `_INGEST_SECONDS` (30); or run it
directly with `--days/--hosts/--runs/--ingest-seconds` (and `--profile DIR` for py-spy profiles of
Vigil's ingest and avg-by-host 24 h query). Every process is stopped by its PID, also on Ctrl-C or an
error, and the temporary directory removed. Must not be imported by tests.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from bench import peer_data as pd
from bench.bench_server_load import TOKEN, create_ingest_key, request
from bench.peer_servers import Peer, Vigil, cpu_seconds, disk_bytes, install_peers, rss_mib, settle
from tests import prom_wire

METRICS = 20
RETENTION_DAYS = 8


class Target(Protocol):
    name: str
    port: int
    pid: int
    query_path: str
    extra_query: dict[str, str]
    headers: dict[str, str]
    data: Path

    def flushed(self) -> None: ...

    def stop(self) -> None: ...


def log(line: str) -> None:
    print(line, flush=True)


def send(
    target: Target, path: str, bodies: pd.Bodies, headers: dict[str, str], budget: float | None
) -> dict[str, Any]:
    """Every sender's bodies in order on its own keep-alive connection, the senders meeting at a
    barrier every `sync_every()` requests; stops when `budget` seconds have passed (if given)."""
    barrier = threading.Barrier(len(bodies))
    lock = threading.Lock()
    counts = {"samples": 0, "requests": 0, "errors": 0}
    first_error: list[str] = []
    every = pd.sync_every()
    started = time.monotonic()
    deadline = started + budget if budget else None

    def sender(mine: list[tuple[bytes, int]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=120)
        try:
            for i, (body, n) in enumerate(mine):
                if deadline is not None and time.monotonic() > deadline:
                    barrier.abort()  # the others stop at their next meeting
                    return
                if i and i % every == 0:
                    barrier.wait()
                status, answer, _ = request(target.port, "POST", path, body, headers, conn=conn)
                with lock:
                    counts["requests"] += 1
                    if 200 <= status < 300:
                        counts["samples"] += n
                    else:
                        counts["errors"] += 1
                        if not first_error:
                            first_error.append(f"{status} {answer[:300]!r}")
        except threading.BrokenBarrierError:
            return
        finally:
            # a sender out of bodies (hosts not a multiple of the senders: JSON batches are per host)
            # would leave the others waiting at their next meeting for ever: they stop there instead
            barrier.abort()
            conn.close()

    threads = [threading.Thread(target=sender, args=(mine,)) for mine in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if first_error:
        log(f"   {target.name}: {counts['errors']} requests refused, first: {first_error[0]}")
    return {**counts, "seconds": elapsed}


def ingest(
    target: Target, path: str, bodies: pd.Bodies, headers: dict[str, str], budget: float | None, prefix: str
) -> dict[str, Any]:
    """Send, then wait until the server is idle: samples/s over the sending, CPU-s per 1 M samples
    from the first request until idle, and the cores the server kept busy while the senders sent."""
    cpu0 = cpu_seconds(target.pid)
    sent = send(target, path, bodies, headers, budget)
    busy = (cpu_seconds(target.pid) - cpu0) / sent["seconds"]  # under 1 core: the server waited
    target.flushed()
    settle(target.pid, target.data)
    cpu = cpu_seconds(target.pid) - cpu0
    samples = sent["samples"]
    log(f"   {target.name} {prefix}: {samples:,} samples in {sent['seconds']:.1f} s, {cpu:.1f} CPU-s")
    return {
        f"{target.name}_{prefix}_samples": samples,
        f"{target.name}_{prefix}_samples_per_s": round(samples / sent["seconds"]) if samples else None,
        f"{target.name}_{prefix}_cpu_s_per_1m": round(cpu / samples * 1e6, 2) if samples else None,
        f"{target.name}_{prefix}_refused_requests": sent["errors"],
        f"{target.name}_{prefix}_busy_cores": round(busy, 2),
    }


def warm_up(target: Target, path: str, headers: dict[str, str], senders: int) -> None:
    """Before the clock starts, what a server that has been taking this traffic for a while already
    did, then wait until it is idle:
    - one small request of the format: the ingest worker's first request imports its decoder (numpy,
      cramjam, msgspec) at nice +10, which on a busy machine took more than a 5 s budget and left the
      timed step a few requests;
    - three rounds of `senders` requests at once, each long enough to overlap the others: Vigil
      starts a second ingest worker when a request finds every worker busy (`ingest_pool`), a
      one-off ~1 CPU-s of imports that a step of a few seconds would otherwise count as ingest.
    They store samples of a host no query asks for (the remote-write empty request stores nothing)."""
    if path == "/api/v1/write":
        small = b"\x00"
    else:
        small = json.dumps({"host": "warm-up", "samples": [{"metric": "warm_up", "value": 1.0}]}).encode()
    rounds = [[small], *([_warm_up_body(path, r * senders + i) for i in range(senders)] for r in range(3))]
    with ThreadPoolExecutor(senders) as pool:
        for bodies in rounds:
            for status, answer, _ in pool.map(
                lambda b: request(target.port, "POST", path, b, headers), bodies
            ):
                if not 200 <= status < 300:
                    raise RuntimeError(f"{target.name} warm-up {path}: {status} {answer[:300]!r}")
    settle(target.pid, target.data)


def _warm_up_body(path: str, n: int) -> bytes:
    """Body `n` of 2,000 samples of host `warm-up` ending now (each `n` a millisecond earlier, so no
    two are duplicates): remote-write 500 series x 4 a minute apart, JSON one series a second apart."""
    now_ms = int(time.time() * 1000) // 60_000 * 60_000 - n
    if path == "/api/v1/write":
        times = [now_ms - 60_000 * j for j in range(4)]
        labels = ({"__name__": f"warm_up_{k}", "instance": "warm-up:9100"} for k in range(500))
        return prom_wire.write_request(*(prom_wire.series(one, [(t, 1.0) for t in times]) for one in labels))
    samples = [{"metric": "warm_up", "value": 1.0, "ts": now_ms / 1000 - j} for j in range(2000)]
    return json.dumps({"host": "warm-up", "batch_id": f"warm-up-{n}", "samples": samples}).encode()


def load_vigil(data: pd.Dataset, folder: Path) -> dict[str, Any]:
    """The dataset into a fresh store with the back-fill path (bulk load, rollups, fleet tier)."""
    from vigil.config import Config
    from vigil.domain.models import SeriesBlock
    from vigil.services.backfill import BackfillStore, backfill
    from vigil.wiring import build_store

    config = Config(data_dir=folder, retention_days=RETENTION_DAYS)
    store: BackfillStore = build_store(config)  # type: ignore[assignment]
    ts = [float(t) for t in data.timestamps()]
    blocks = (
        SeriesBlock(data.host(h), data.metric(m), (("job", "bench"),), ts, list(data.values(h, m)))
        for h in range(data.hosts)
        for m in range(data.metrics)
    )
    started = time.perf_counter()
    done = backfill(store, blocks, time.time(), retention_seconds=config.retention_seconds)
    store.close()
    total = time.perf_counter() - started
    log(f"   vigil back-fill: {done['rows']:,} rows in {total:.1f} s ({done})")
    return {
        "vigil_backfill_s": round(total, 1),
        "vigil_backfill_load_s": round(done["load_s"], 1),
        "vigil_backfill_jobs_s": round(done["rollups_s"] + done["fleet_s"], 1),
        "vigil_backfill_rows": done["rows"],
    }


def get(conn: http.client.HTTPConnection, target: Target, params: dict[str, str]) -> tuple[float, bytes]:
    path = f"{target.query_path}?{urlencode({**params, **target.extra_query})}"
    started = time.perf_counter()
    conn.request("GET", path, headers=target.headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{target.name} {path}: {response.status} {body[:300]!r}")
    return elapsed, body


def query_set(targets: list[Target], data: pd.Dataset, runs: int) -> dict[str, Any]:
    """1 warm-up + `runs` timed runs of each query, interleaved across systems; answers compared."""
    conns = {t.name: http.client.HTTPConnection("127.0.0.1", t.port, timeout=300) for t in targets}
    times: dict[tuple[str, str], list[float]] = {}
    out: dict[str, Any] = {}
    try:
        for run in range(runs + 1):
            for q in pd.queries(data):
                for t in targets:
                    params = q.vigil_params() if t.name == "vigil" else q.peer_params()
                    ms, body = get(conns[t.name], t, params)
                    if run == 0:
                        got = pd.parse_vigil(body) if t.name == "vigil" else pd.parse_peer(body, q)
                        out[f"{t.name}_{q.name}_answer"] = pd.agreement(pd.compare(got, pd.expected(data, q)))
                    else:
                        times.setdefault((t.name, q.name), []).append(ms)
    finally:
        for c in conns.values():
            c.close()
    for (name, query), values in times.items():
        p50, p95 = pd.median_p95(values)
        out[f"{name}_{query}_p50_ms"] = round(p50, 1)
        out[f"{name}_{query}_p95_ms"] = round(p95, 1)
    return out


@contextlib.contextmanager
def profiled(pid: int, into: Path | None, name: str) -> Iterator[None]:
    """py-spy (when asked and installed) records `pid` and its workers meanwhile."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if into is None or spy is None:
        yield
        return
    out = into / f"{name}.txt"
    argv = [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "200", "--format", "raw"]
    proc = subprocess.Popen([*argv, "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        proc.wait(timeout=60)
        log(f"   profile: {out}")


def ratios(figures: dict[str, Any], data: pd.Dataset) -> dict[str, Any]:
    """Vigil against VictoriaMetrics (the issue's goals) and against the best peer (the table)."""
    out: dict[str, Any] = {}
    for q in pd.queries(data):
        vigil, vm = figures.get(f"vigil_{q.name}_p50_ms"), figures.get(f"victoriametrics_{q.name}_p50_ms")
        r = pd.ratio(vigil, [vm])
        out[f"{q.name}_vigil_over_vm"] = round(r, 2) if r else None
    return out


def measure(
    data: pd.Dataset, root: Path, running: list[Target], runs: int, budget: float, profile: Path | None
) -> dict[str, Any]:
    figures: dict[str, Any] = {"dataset": data.describe(), "days": data.days, "hosts": data.hosts}
    peers = install_peers(log)
    started = time.perf_counter()
    bodies = pd.remote_write_bodies(data)
    figures["encode_s"] = round(time.perf_counter() - started, 1)
    log(f"   {data.describe()}; remote-write bodies encoded in {figures['encode_s']} s")
    targets: list[Target] = []
    for name in peers:
        peer = Peer(name, root)
        running.append(peer)
        targets.append(peer)
        figures.update(ingest(peer, "/api/v1/write", bodies, pd.REMOTE_WRITE_HEADERS, None, "rw"))
    first_day = [mine[: len(mine) // data.days] for mine in bodies]  # budget-bound: the first day at most
    del bodies
    for fmt, path, payload, headers in (
        ("rw", "/api/v1/write", first_day, pd.REMOTE_WRITE_HEADERS),
        ("json", "/v1/samples", None, {"Content-Type": "application/json"}),
    ):
        vigil = Vigil(root / f"vigil-{fmt}", RETENTION_DAYS, TOKEN)
        running.append(vigil)
        key = create_ingest_key(vigil.port)
        payload = payload or pd.json_bodies(data, data.samples // data.days)
        keyed = {**headers, "Authorization": f"Bearer {key}"}
        warm_up(vigil, path, keyed, len(payload))
        with profiled(vigil.pid, profile, f"vigil-ingest-{fmt}"):
            figures.update(ingest(vigil, path, payload, keyed, budget, fmt))
        vigil.stop()
        running.remove(vigil)
    folder = root / "vigil" / "store"
    folder.mkdir(parents=True)
    figures.update(load_vigil(data, folder))
    vigil = Vigil(root / "vigil", RETENTION_DAYS, TOKEN)
    running.append(vigil)
    targets.append(vigil)
    settle(vigil.pid, folder)
    figures.update(query_set(targets, data, runs))
    for t in targets:
        figures[f"{t.name}_rss_after_queries_mib"] = round(rss_mib(t.pid))
    if profile is not None:
        q = next(q for q in pd.queries(data) if q.name == "avg_by_host_24h")
        with (
            profiled(vigil.pid, profile, "vigil-avg-by-host-24h"),
            contextlib.closing(http.client.HTTPConnection("127.0.0.1", vigil.port, timeout=300)) as conn,
        ):
            for _ in range(5):
                get(conn, vigil, q.vigil_params())
    for t in targets:  # on disk once stopped: VictoriaMetrics writes its last in-memory parts then
        t.stop()
        running.remove(t)
        figures[f"{t.name}_bytes_per_sample"] = round(disk_bytes(t.data) / data.samples, 2)
    figures.update(ratios(figures, data))
    return figures


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `finally` that stops every server


def run(
    days: int | None = None,
    hosts: int | None = None,
    runs: int | None = None,
    ingest_seconds: float | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    from bench.run_all import machine

    env = os.environ
    days = days or int(env.get("VIGIL_BENCH_PEERS_DAYS", "7"))
    hosts = hosts or int(env.get("VIGIL_BENCH_PEERS_HOSTS", "100"))
    runs = runs or int(env.get("VIGIL_BENCH_PEERS_RUNS", "20"))
    budget = ingest_seconds or float(env.get("VIGIL_BENCH_PEERS_INGEST_SECONDS", "30"))
    data = pd.Dataset(hosts, METRICS, days, pd.end_before(time.time()))
    info = machine()
    figures: dict[str, Any] = {"machine": f"{info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM"}
    figures["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    root = Path(tempfile.mkdtemp(prefix="vigil-bench-peers-"))
    running: list[Target] = []
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        figures.update(measure(data, root, running, runs, budget, profile))
    finally:
        for target in reversed(running):
            with contextlib.suppress(Exception):
                target.stop()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(root, ignore_errors=True)
    figures["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    load = f"load average {figures['load_before']} → {figures['load_after']}"
    log(f"\n{data.describe()}; {figures['machine']}; {load}\n")
    log(pd.table(figures, data))
    for q in pd.queries(data):
        log(
            f"answers, {q.title}: "
            + "; ".join(
                f"{pd.TITLES[s]} {figures[k]}" for s in pd.SYSTEMS if (k := f"{s}_{q.name}_answer") in figures
            )
        )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int)
    parser.add_argument("--hosts", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--ingest-seconds", type=float)
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles (raw stacks)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = run(args.days, args.hosts, args.runs, args.ingest_seconds, args.profile)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
