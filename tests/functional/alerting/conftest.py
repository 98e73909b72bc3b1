"""Real receivers for the alerting tests: a loopback HTTP server standing in for Slack, Discord and
webhooks (scripted answers, every request recorded), a real SQLite store, and delivery contexts that
record back-off waits instead of sleeping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.http import Deadline, HttpClient
from vigil.adapters.notify.ssrf import WebhookPolicy
from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers) for its path, else 200."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, *responses: tuple[int, dict[str, str]]) -> None:
        self.script.setdefault(path, []).extend(responses)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec.lock:
                rec.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                queue = rec.script.get(self.path) or []
                status, headers = queue.pop(0) if queue else (200, {})
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            with rec.arrived:
                rec.arrived.notify_all()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0)
    yield s
    s.close()


@pytest.fixture
def alert_config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path, public_url="http://vigil.test")


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def nctx(store: SqliteStore, waits: Waits) -> NotifyContext:
    http = HttpClient(WebhookPolicy(https_only=False, allow_loopback=True), Deadline.after(30.0), sleep=waits)
    return NotifyContext(
        public_url="http://vigil.test", http=http, store=store, clock=lambda: 1_764_000_000.0
    )
