"""`vigil serve` runs ingest handlers and the storage jobs in worker processes of their own (so parsing
and writing batches, rollups and the fleet tier never hold the interpreter lock the dashboard's reads
need), over real HTTP on loopback: a 2xx still means stored, a dead worker costs a 503 with
Retry-After and is replaced, a retried batch is stored once, and the jobs' results are readable."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

from tests.waiting import wait_until
from vigil.config import Config
from vigil.domain.cost import Usage
from vigil.local.server import LocalServer
from vigil.local.worker import NICENESS


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(Config(data_dir=tmp_path / "d", admin_token="adm"), port=0, agent=False) as s:
        yield s


def _ingest_headers(server: LocalServer) -> dict[str, str]:
    answer = requests.post(
        f"{server.url}/api/keys", json={"name": "w"}, headers={"Authorization": "Bearer adm"}, timeout=10
    )
    return {"Authorization": f"Bearer {answer.json()['key']}"}


def _batch(host: str, batch_id: str, size: int = 50, offset: float = 0.0) -> dict[str, object]:
    """`size` samples of one series, a millisecond apart, starting 10 minutes back plus `offset` s."""
    base = time.time() - 600 + offset
    samples = [{"metric": "worker.m", "value": float(j), "ts": base + j * 1e-3} for j in range(size)]
    return {"host": host, "batch_id": batch_id, "samples": samples}


def _stored(server: LocalServer, host: str) -> int:
    """Read by the server process' own store connection, not the worker's."""
    return sum(1 for _ in server.ctx.store.query_points("worker.m", 0, time.time() + 60, hosts=[host]))


def _worker(server: LocalServer, role: str = "ingest") -> psutil.Process:
    """The jobs worker, or the first ingest worker (the one OTLP metrics go to)."""
    if role == "ingest":
        return _ingest_workers(server)[0]
    assert server.jobs is not None
    return psutil.Process(server.jobs.wait_ready())


def _ingest_workers(server: LocalServer) -> list[psutil.Process]:
    assert server.gateway.ingest is not None
    return [psutil.Process(pid) for pid in server.gateway.ingest.wait_ready()]


def test_ingest_runs_in_a_child_process_and_answers_202_only_once_the_batch_is_readable(
    server: LocalServer,
) -> None:
    (worker,) = _ingest_workers(server)  # one until ingest requests overlap
    assert worker.pid != os.getpid() and worker.ppid() == os.getpid()
    headers = _ingest_headers(server)
    for n in range(5):
        # a second apart: batches sent within 50 ms of each other shared times (the later value won)
        batch = _batch("w1", f"b{n}", offset=n)
        answer = requests.post(f"{server.url}/v1/samples", json=batch, headers=headers, timeout=10)
        assert answer.status_code == 202 and answer.json() == {"accepted": 50, "duplicate": False}
        assert _stored(server, "w1") == 50 * (n + 1)  # committed before the answer, visible to readers
    assert [w.pid for w in _ingest_workers(server)] == [worker.pid]  # one at a time: one worker


def _grow_the_pool(server: LocalServer, headers: dict[str, str]) -> int:
    """Overlapping pushes until the second ingest worker runs; the samples they stored (host `p*`)."""
    sent = 0

    def burst() -> bool:
        nonlocal sent
        batches = [_batch(f"p{sent + i}", "b", size=2000) for i in range(8)]
        sent += len(batches)
        with ThreadPoolExecutor(len(batches)) as pool:
            answers = list(
                pool.map(
                    lambda b: requests.post(f"{server.url}/v1/samples", json=b, headers=headers, timeout=30),
                    batches,
                )
            )
        assert all(a.status_code == 202 for a in answers)
        return len(_ingest_workers(server)) == 2

    wait_until(burst, timeout=60, what="a second ingest worker")
    for _ in range(3):
        assert burst()  # and never a third
    return sent * 2000


def test_overlapping_ingest_starts_a_second_worker_and_never_a_third_and_both_then_take_requests(
    server: LocalServer,
) -> None:
    headers = _ingest_headers(server)
    stored = _grow_the_pool(server, headers)
    workers = _ingest_workers(server)
    assert server.ingest_workers == len(workers) == 2 and len({w.pid for w in workers}) == 2
    assert all(w.ppid() == os.getpid() and w.nice() == NICENESS for w in workers)
    # idle workers take requests in turn: six in a row are shared by both
    cpu = [sum(w.cpu_times()[:2]) for w in workers]
    for n in range(6):
        batch = _batch("q", f"s{n}", 5000, offset=10 * n)
        answer = requests.post(f"{server.url}/v1/samples", json=batch, headers=headers, timeout=30)
        assert answer.status_code == 202
    assert all(sum(w.cpu_times()[:2]) > before for w, before in zip(workers, cpu, strict=True))
    points = server.ctx.store.query_points("worker.m", 0, time.time() + 60)
    assert sum(1 for _ in points) == stored + 6 * 5000  # each batch once


def test_otlp_counters_keep_exact_deltas_with_two_ingest_workers(server: LocalServer) -> None:
    # an exporter's cumulative totals become deltas by what the worker saw before: every OTLP export
    # goes to the first worker, or totals seen by the other would count again from zero
    headers = _ingest_headers(server)
    _grow_the_pool(server, headers)
    start_ns = time.time_ns()  # the app started after Vigil: its first total counts whole
    for total in (10, 20, 30, 40):
        point = {"asInt": str(total), "startTimeUnixNano": str(start_ns), "timeUnixNano": str(time.time_ns())}
        metric = {"name": "orders.created", "sum": {"dataPoints": [point], "aggregationTemporality": 2}}
        metric["sum"]["isMonotonic"] = True
        resource = {"attributes": [{"key": "host.name", "value": {"stringValue": "web-1"}}]}
        body = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [metric]}]}]}
        answer = requests.post(f"{server.url}/v1/metrics", json=body, headers=headers, timeout=30)
        assert answer.status_code == 200
    params = {"metric": "orders.created", "from": "-10m", "agg": "sum", "step": "3600"}
    got = requests.get(
        f"{server.url}/api/metrics/series", params=params, headers={"Authorization": "Bearer adm"}, timeout=30
    ).json()
    assert sum(v for s in got["series"] for v in s["values"] if v is not None) == 40


def test_a_killed_ingest_worker_costs_one_503_with_retry_after_then_a_new_worker_stores_the_retry_once(
    server: LocalServer,
) -> None:
    headers = _ingest_headers(server)
    old = _worker(server)
    old.send_signal(signal.SIGKILL)
    old.wait(timeout=10)
    refused = requests.post(f"{server.url}/v1/samples", json=_batch("w2", "k1"), headers=headers, timeout=30)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "unavailable"
    retried = requests.post(f"{server.url}/v1/samples", json=_batch("w2", "k1"), headers=headers, timeout=30)
    assert retried.status_code == 202 and retried.json()["duplicate"] is False
    assert _worker(server).pid != old.pid
    again = requests.post(f"{server.url}/v1/samples", json=_batch("w2", "k1"), headers=headers, timeout=30)
    assert again.json()["duplicate"] is True
    assert _stored(server, "w2") == 50


def test_stopping_the_server_stops_its_ingest_workers(tmp_path: Path) -> None:
    server = LocalServer(Config(data_dir=tmp_path / "d", admin_token="adm"), port=0, agent=False).start()
    _grow_the_pool(server, _ingest_headers(server))
    workers = _ingest_workers(server)
    assert len(workers) == 2
    server.stop()
    for worker in workers:
        worker.wait(timeout=10)  # raises psutil.TimeoutExpired if it outlived the server
        assert not worker.is_running()


def test_the_rollup_job_runs_in_the_jobs_worker_and_the_server_reads_its_rollups(server: LocalServer) -> None:
    jobs = _worker(server, "jobs")
    assert jobs.pid not in (os.getpid(), _worker(server).pid)
    headers = _ingest_headers(server)
    answer = requests.post(f"{server.url}/v1/samples", json=_batch("w3", "r1"), headers=headers, timeout=10)
    assert answer.status_code == 202
    server.storage_scheduler.stop()  # joined: only the call below runs jobs
    assert server.jobs is not None
    report = server.jobs.run_job("rollups", time.time())
    assert isinstance(report, dict) and report["hosts"] >= 1
    rollups = server.ctx.store.query_rollups("worker.m", "1h", 0, time.time() + 3600, hosts=["w3"])
    assert sum(r.count for r in rollups) == 50


HOUR = time.time() // 3600 * 3600 - 2 * 3600  # a complete hour: the rollup job folds it


def _counted_usage(data_dir: Path, ingest_process: bool) -> tuple[Usage, Usage]:
    """The cost meter's counts for three pushes and a rollup run, then for a retention run alone. One
    ingest worker, as one Lambda environment: each process learns a host's series and cadence on its
    own (as concurrent Lambda instances do), so two workers count a host's first pushes twice."""
    config = Config(data_dir=data_dir, admin_token="adm", ingest_workers=1)
    with LocalServer(config, port=0, agent=False, ingest_process=ingest_process) as server:
        for scheduler in server.schedulers():  # their first ticks joined: only the calls below run
            scheduler.stop()
        headers = _ingest_headers(server)
        server.usage.take(time.time())  # start-up and the key are not what is compared
        for n in range(3):
            batch = {
                "host": "m1",
                "batch_id": f"m{n}",
                "samples": [{"metric": "worker.m", "value": 1.0, "ts": HOUR + 60 * n + j} for j in range(6)],
            }
            answer = requests.post(f"{server.url}/v1/samples", json=batch, headers=headers, timeout=30)
            assert answer.status_code == 202
        server.storage_scheduler.job("rollups")(HOUR + 2 * 3600)
        pushes_and_rollups = server.usage.take(time.time())
        server.storage_scheduler.job("retention")(HOUR + 2 * 3600)
        return pushes_and_rollups, server.usage.take(time.time())


def test_the_cost_meter_counts_the_workers_store_work_as_it_counts_the_same_work_in_the_server(
    tmp_path: Path,
) -> None:
    in_workers, retention_in_workers = _counted_usage(tmp_path / "workers", ingest_process=True)
    in_server, retention_in_server = _counted_usage(tmp_path / "server", ingest_process=False)
    assert in_workers.wru > 6 and in_workers.rru > 0  # three pushes' chunks, claims, ...; the rollups
    for part in ("wru", "rru", "api_requests", "lambda_requests", "log_bytes", "sns_publishes"):
        assert getattr(in_workers, part) == getattr(in_server, part), part
    assert in_workers.lambda_gb_seconds > 0
    # the retention purge is a chore DynamoDB's TTL does for free, wherever it runs
    assert retention_in_workers.rru == retention_in_workers.wru == retention_in_server.rru == 0


def test_both_workers_run_at_a_lower_cpu_priority_than_the_server_so_reads_get_the_cpu_first(
    server: LocalServer,
) -> None:
    assert psutil.Process().nice() < NICENESS  # the tests run at the default priority
    for worker in [*_ingest_workers(server), _worker(server, "jobs")]:
        assert worker.nice() == NICENESS
