"""Pushed updates over real HTTP on loopback: `POST /api/live/ticket` then `GET /api/live?ticket=`
(Server-Sent Events) from a real `LocalServer`; samples pushed to `/v1/samples` arrive as compact,
coalesced "what changed" messages; streams are capped and hold no handler thread, so `/health` stays
fast with the maximum number of streams open."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.waiting import wait_until
from vigil.config import Config
from vigil.local.server import LocalServer

ADMIN = {"Authorization": "Bearer adm"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(Config(data_dir=tmp_path / "d", admin_token="adm"), port=0, agent=False) as s:
        yield s


def _ticket(server: LocalServer, headers: dict[str, str] = ADMIN) -> str:
    answer = requests.post(f"{server.url}/api/live/ticket", headers=headers, timeout=10)
    assert answer.status_code == 201, answer.text
    ticket: str = answer.json()["ticket"]
    return ticket


def _ingest_key(server: LocalServer) -> str:
    answer = requests.post(f"{server.url}/api/keys", json={"name": "live"}, headers=ADMIN, timeout=10)
    key: str = answer.json()["key"]
    return key


def _push(server: LocalServer, key: str, host: str, metric: str = "system.cpu.utilization") -> None:
    body = {"host": host, "samples": [{"metric": metric, "value": 0.5}]}
    answer = requests.post(
        f"{server.url}/v1/samples", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert answer.status_code == 202, answer.text


class Events:
    """An SSE client on a raw socket: collects `event: change` payloads in a thread."""

    def __init__(self, server: LocalServer, ticket: str) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=30)
        self.sock.sendall(f"GET /api/live?ticket={ticket} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.head = b""
        self.changes: list[tuple[float, dict[str, object]]] = []
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self.sock.recv(4096)
        self.head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def status(self) -> int:
        return int(self.head.split()[1])

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            if not data:  # the server closed it (an error answer, a dropped stream)
                self.sock.close()
                return
            self._buffer += data
            while b"\n\n" in self._buffer:
                event, _, self._buffer = self._buffer.partition(b"\n\n")
                lines = dict(line.split(b": ", 1) for line in event.split(b"\n") if b": " in line)
                if lines.get(b"event") == b"change":
                    self.changes.append((time.monotonic(), json.loads(lines[b"data"])))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already closed by the reader on the server's EOF
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader; close() alone would not send FIN
        self.sock.close()


def test_a_stored_batch_reaches_an_open_stream_as_hosts_and_metrics_without_samples(
    server: LocalServer,
) -> None:
    key = _ingest_key(server)
    events = Events(server, _ticket(server))
    assert events.status == 200 and b"text/event-stream" in events.head
    assert b"Content-Security-Policy" in events.head  # the shared security headers, as on every answer
    _push(server, key, "web-1", "system.memory.utilization")
    wait_until(lambda: events.changes, timeout=5, what="a change message")
    change = events.changes[0][1]
    assert change == {"hosts": ["web-1"], "metrics": ["system.memory.utilization"], "alerts": False}
    events.close()


def _hosts(events: Events) -> set[str]:
    return {h for _, change in events.changes for h in change["hosts"]}  # type: ignore[attr-defined]


def test_changes_are_coalesced_to_at_most_one_message_a_second_per_stream(server: LocalServer) -> None:
    key = _ingest_key(server)
    events = Events(server, _ticket(server))
    started = time.monotonic()
    for i in range(12):  # a burst of pushes, well under a second apart
        _push(server, key, f"host-{i % 4}")
    wait_until(
        lambda: _hosts(events) == {f"host-{i}" for i in range(4)},
        timeout=5,
        what="every host of the burst",
    )
    times = [t for t, _ in events.changes]
    assert len(times) <= 2 + int(time.monotonic() - started)
    # sent a second apart; received with the scheduling jitter of a loaded 2-vCPU machine
    assert all(b - a >= 0.8 for a, b in itertools.pairwise(times)), times
    events.close()


def test_the_stream_needs_a_valid_unused_ticket_and_never_takes_the_token(server: LocalServer) -> None:
    assert requests.post(f"{server.url}/api/live/ticket", timeout=10).status_code == 401
    assert Events(server, "").status == 401
    assert Events(server, "adm").status == 401  # the admin token itself is no ticket
    ticket = _ticket(server)
    forged = ticket[:-4] + ("0000" if not ticket.endswith("0000") else "1111")
    assert Events(server, forged).status == 401
    first = Events(server, ticket)
    assert first.status == 200
    assert Events(server, ticket).status == 401  # single use
    first.close()


def test_a_viewer_token_may_ask_for_a_ticket(server: LocalServer) -> None:
    viewer = requests.post(
        f"{server.url}/api/keys", json={"name": "wall", "role": "viewer"}, headers=ADMIN, timeout=10
    ).json()["key"]
    events = Events(server, _ticket(server, {"Authorization": f"Bearer {viewer}"}))
    assert events.status == 200
    events.close()


def test_streams_are_capped_and_hold_no_handler_thread_so_health_stays_fast(server: LocalServer) -> None:
    server.live.max_streams = 40  # more than the 24 handler threads: a thread per stream would starve
    streams = [Events(server, _ticket(server)) for _ in range(40)]
    assert all(s.status == 200 for s in streams)
    refused = Events(server, _ticket(server))
    assert refused.status == 503 and b"Retry-After" in refused.head
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
        timings.append(time.perf_counter() - started)
    assert statistics.quantiles(timings, n=10)[-1] < 0.5, timings  # p90, generous on a shared 2-vCPU box
    for stream in streams:
        stream.close()
    wait_until(lambda: server.live.open_streams == 0 or None, timeout=5, what="closed streams forgotten")


def test_a_stream_that_falls_behind_is_closed_and_forgotten(server: LocalServer) -> None:
    key = _ingest_key(server)
    events = Events(server, _ticket(server))
    server.live.max_unsent_bytes = -1  # any unsent byte counts as "behind": the next message cuts it
    _push(server, key, "web-1")
    wait_until(lambda: server.live.dropped_slow == 1 or None, timeout=5, what="the slow stream dropped")
    wait_until(lambda: server.live.open_streams == 0 or None, timeout=5, what="the stream forgotten")
    assert events.changes == []  # nothing was queued for it
    events.close()


def test_many_streams_under_continuous_ingest_all_stay_open_and_coalesced(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = _ingest_key(server)
    streams = [Events(server, _ticket(server)) for _ in range(64)]
    started = time.monotonic()
    pushes = 0
    while time.monotonic() - started < 3.0:  # ingest as fast as one client can, for 3 s
        _push(server, key, f"host-{pushes % 10}")
        pushes += 1
    wait_until(lambda: all(len(s.changes) >= 3 for s in streams), timeout=20, what="messages on every stream")
    elapsed = time.monotonic() - started
    assert all(len(s.changes) <= 2 + elapsed for s in streams)  # coalesced: ~1 a second, not 1 a push
    assert pushes > 3 * 5
    assert server.live.open_streams == 64  # no stream was lost to a write racing the event loop's flush
    assert not [r for r in caplog.records if r.name.startswith("waitress") and r.levelname == "ERROR"]
    for stream in streams:
        stream.close()


def test_an_alert_changing_state_reaches_open_streams_as_alerts_true(server: LocalServer) -> None:
    from vigil.alerting.entry import evaluate_now

    rule = {"name": "Hot", "metric": "system.cpu.utilization", "window": "5m", "op": ">", "threshold": 0.1}
    created = requests.post(
        f"{server.url}/api/alerts/rules", json={**rule, "for": "0s"}, headers=ADMIN, timeout=10
    )
    assert created.status_code == 201, created.text
    _push(server, _ingest_key(server), "web-1")  # 0.5 > 0.1
    events = Events(server, _ticket(server))
    evaluate_now(server.ctx)  # the evaluator's tick, run now rather than waiting for the scheduler
    wait_until(lambda: any(c["alerts"] for _, c in events.changes), timeout=5, what="an alerts message")
    events.close()
