"""The local server under real traffic, over real HTTP on loopback: overlapping handler calls, slow and
idle clients, admission control on ingest, the shared security headers, load logging and a graceful,
bounded SIGTERM."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.loopback import serve_command, silent_receiver, slowloris
from tests.prom_wire import HEADERS
from tests.waiting import wait_until
from vigil.agent.pusher import Pusher, PushSettings
from vigil.config import Config
from vigil.domain.models import SampleIn
from vigil.local import http_server
from vigil.local.admission import Admission
from vigil.local.server import LocalServer
from vigil.security_headers import local_headers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(Config(data_dir=tmp_path / "d", admin_token="adm"), port=0, agent=False) as s:
        yield s


def _key(server: LocalServer) -> str:
    answer = requests.post(
        f"{server.url}/api/keys", json={"name": "load"}, headers={"Authorization": "Bearer adm"}, timeout=10
    )
    key: str = answer.json()["key"]
    return key


def _batch(host: str, n: int, size: int = 10) -> dict[str, object]:
    base = time.time() - 3600 + n
    return {
        "host": host,
        "batch_id": f"{host}-{n}",
        "samples": [{"metric": "load.m", "value": float(j), "ts": base + j * 1e-3} for j in range(size)],
    }


def _stored(server: LocalServer, host: str) -> int:
    return sum(1 for _ in server.ctx.store.query_points("load.m", 0, time.time() + 60, hosts=[host]))


def test_overlapping_requests_each_read_their_own_query_string(server: LocalServer) -> None:
    auth = {"Authorization": "Bearer adm"}

    def ask(i: int) -> tuple[str, str]:
        metric = f"overlap.metric.{i}"
        body = requests.get(
            f"{server.url}/api/metrics/series",
            params={"metric": metric, "from": "-1h"},
            headers=auth,
            timeout=10,
        ).json()
        return metric, body["metric"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(200)))
    assert all(asked == answered for asked, answered in answers)


def test_health_answers_at_once_while_a_channel_test_waits_on_a_silent_webhook(server: LocalServer) -> None:
    auth = {"Authorization": "Bearer adm"}
    with silent_receiver() as (port, held):
        channel = requests.post(
            f"{server.url}/api/channels",
            json={"type": "webhook", "name": "hangs", "target": f"http://127.0.0.1:{port}/hook"},
            headers=auth,
            timeout=10,
        ).json()["id"]
        sender = threading.Thread(
            target=lambda: requests.post(
                f"{server.url}/api/channels/{channel}/test", headers=auth, timeout=60
            )
        )
        sender.start()
        wait_until(lambda: held, what="the channel test to reach the silent receiver")
        started = time.perf_counter()
        assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
        assert time.perf_counter() - started < 1.0
    sender.join()


def test_health_p99_stays_under_100_ms_beyond_machine_load_with_500_slowloris_connections_open(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The 500 stay open for the whole measurement: on a loaded machine 300 requests outlast the 10 s
    # read timeout, which then closed them all mid-test (that cut-off has its own test below).
    monkeypatch.setattr(http_server, "REQUEST_READ_TIMEOUT", 300.0)
    http_server.raise_fd_limit(4096)

    def health_p99() -> float:
        times = []
        for _ in range(300):
            started = time.perf_counter()
            assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
            times.append(time.perf_counter() - started)
        return sorted(times)[int(len(times) * 0.99) - 1]

    # The same 300 requests with no slow client open: what this machine's load alone costs (the
    # suite's other worker, or other work on a shared machine), so the bound is the server's, not the
    # neighbours'. Without the fix the slow clients hold every worker and requests time out at 5 s.
    idle = health_p99()
    with slowloris(server.port, 500) as socks:  # one header byte a second each, as in the issue
        assert len(socks) == 500
        p99 = health_p99()
        assert len(socks) == 500  # all still open (the read timeout has not cut them yet)
    assert p99 < max(0.1, 3 * idle), (
        f"p99 {p99 * 1000:.0f} ms with 500 slow clients, {idle * 1000:.0f} ms idle"
    )


def test_a_request_still_arriving_after_the_read_timeout_is_cut_off(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_server, "REQUEST_READ_TIMEOUT", 0.5)
    with slowloris(server.port, 1, every=0.2) as (slow,):
        slow.settimeout(10)
        assert slow.recv(1024) == b""  # closed by the server, never answered


def test_saturated_ingest_answers_503_with_retry_after_at_once_and_stores_nothing(
    server: LocalServer,
) -> None:
    server.gateway.admission = Admission(slots=1, max_waiting=0)
    headers = {"Authorization": f"Bearer {_key(server)}"}
    with server.gateway.admission.slot():  # the write path is busy
        started = time.perf_counter()
        refused = requests.post(
            f"{server.url}/v1/samples", json=_batch("busy", 1), headers=headers, timeout=10
        )
        assert time.perf_counter() - started < 1.0
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "unavailable"
    assert _stored(server, "busy") == 0
    again = requests.post(f"{server.url}/v1/samples", json=_batch("busy", 1), headers=headers, timeout=10)
    assert again.status_code == 202 and again.json() == {"accepted": 10, "duplicate": False}
    assert _stored(server, "busy") == 10


def test_the_agent_waits_the_retry_after_a_saturated_server_sends(server: LocalServer) -> None:
    server.gateway.admission = Admission(slots=1, max_waiting=0)
    clock = [100.0]
    pusher = Pusher(
        server.url,
        _key(server),
        "agent-host",
        PushSettings(backoff_base=0.01, backoff_max=60),
        monotonic=lambda: clock[0],
        rand=lambda: 0.0,
    )
    pusher.add([SampleIn(metric="load.m", value=1.0, ts=time.time())])
    with server.gateway.admission.slot():
        assert pusher.flush() is False
    assert pusher.retry_at is not None and pusher.retry_at >= 101.0  # the server's Retry-After: 1
    clock[0] = pusher.retry_at
    assert pusher.send_due() is True
    assert _stored(server, "agent-host") == 1
    pusher.close()


def test_every_answer_carries_the_security_headers_shared_with_cloudfront(server: LocalServer) -> None:
    for path in ("/health", "/api/hosts", "/", "/config.json", "/no/such/file.js"):
        answer = requests.get(f"{server.url}{path}", timeout=5)
        for name, value in local_headers():
            assert answer.headers[name] == value, (path, name)
    csp = dict(local_headers())["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


def test_queued_requests_become_one_summary_line_per_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = Config(data_dir=tmp_path / "d", admin_token="adm")
    with LocalServer(config, port=0, agent=False, threads=1) as server:
        server.scheduler.stop()  # this test plays the scheduler: one report call = one interval
        with ThreadPoolExecutor(12) as pool:
            codes = list(
                pool.map(lambda _: requests.get(f"{server.url}/health", timeout=10).status_code, range(60))
            )
        assert set(codes) == {200}
        server.load_report.log(time.time())
        server.load_report.log(time.time())  # nothing new: no second line
    assert not [r for r in caplog.records if "Task queue depth" in r.getMessage()]
    summaries = [
        r.getMessage() for r in caplog.records if "under load since the last report" in r.getMessage()
    ]
    assert len(summaries) == 1, summaries


def test_sigterm_under_load_finishes_in_flight_requests_and_exits_within_10_s(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        serve_command(port, tmp_path),
        cwd=REPO,
        env={**os.environ, "VIGIL_ADMIN_TOKEN": "adm"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:  # listening comes first; the first answer may wait for cold starts
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                return requests.get(f"{url}/health", timeout=2).status_code == 200
            return False

        wait_until(up, timeout=30, what="vigil serve to listen")
        key = requests.post(
            f"{url}/api/keys", json={"name": "t"}, headers={"Authorization": "Bearer adm"}, timeout=10
        ).json()["key"]
        accepted: dict[str, int] = {}
        timeouts: list[str] = []
        stop = threading.Event()

        def push(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            n = 0
            while not stop.is_set():
                body = json.dumps(_batch(f"term-{i}", n, 500))
                n += 1
                try:
                    conn.request("POST", "/v1/samples", body, {"Authorization": f"Bearer {key}"})
                    answer = conn.getresponse()
                    data = answer.read()
                except TimeoutError:
                    timeouts.append(f"term-{i}")
                    return
                except (OSError, http.client.HTTPException):
                    return  # the server closed: refused, never half-answered
                if answer.status == 202:
                    accepted[f"term-{i}"] = accepted.get(f"term-{i}", 0) + json.loads(data)["accepted"]

        pushers = [threading.Thread(target=push, args=(i,)) for i in range(16)]
        for t in pushers:
            t.start()
        wait_until(lambda: sum(accepted.values()) >= 5000, timeout=30, what="ingest under way")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - started < 10.0
        stop.set()
        for t in pushers:
            t.join()
        assert timeouts == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # every sample answered 202 is stored, once
    with LocalServer(Config(data_dir=tmp_path, admin_token="adm"), port=0, agent=False) as again:
        for host, count in accepted.items():
            assert (
                sum(1 for _ in again.ctx.store.query_points("load.m", 0, time.time() + 60, hosts=[host]))
                == count
            )


def test_a_304_and_a_204_leave_the_connection_open_for_the_next_request(server: LocalServer) -> None:
    # waitress closes the connection after any answer without a Content-Length, a bodiless 304 or 204
    # included: every live-refresh revalidation and every remote-write request paid a new connection.
    ingest = {**HEADERS, "Authorization": f"Bearer {_key(server)}"}
    auth = {"Authorization": "Bearer adm"}
    conn = http.client.HTTPConnection(urlsplit(server.url).hostname, urlsplit(server.url).port, timeout=10)

    def ask(method: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, str | None]:
        conn.request(method, "/api/v1/write" if method == "POST" else "/api/alerts", body, headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status, answer.getheader("ETag")

    status, etag = ask("GET", auth)
    sock = conn.sock
    assert status == 200 and etag and sock is not None
    assert ask("GET", {**auth, "If-None-Match": etag})[0] == 304
    assert conn.sock is sock, "the 304 closed the connection"
    assert ask("POST", ingest, b"\x00")[0] == 204  # an empty WriteRequest
    assert conn.sock is sock, "the 204 closed the connection"
    assert ask("GET", auth)[0] == 200 and conn.sock is sock  # the same connection still serves
    # a client that asks for the connection to be closed still has it closed after a 304
    assert ask("GET", {**auth, "If-None-Match": etag, "Connection": "close"})[0] == 304
    assert conn.sock is None
