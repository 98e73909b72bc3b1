"""A real loopback HTTP receiver that records what the agent sends, plus a poll-with-timeout helper.

The receiver behaves like Vigil's ingest for `POST /v1/samples` by default (validates the body as a
`SampleBatch`, answers 202, treats a repeated `batch_id` — or, without one, a repeat of content whose
every sample has a `ts` — as a duplicate) and records every request;
tests swap `responder` to script failures. It can be stopped and restarted on the same port to play a
server that goes down and comes back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.domain.models import SampleBatch


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int = 0


Response = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    requests: list[Recorded] = field(default_factory=list)
    # identity -> the batch, for batches answered 2xx for the first time (what the server "stored")
    stored: dict[str, SampleBatch] = field(default_factory=dict)
    responder: Callable[[Recorded], Response] | None = None
    port: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ingest(self, req: Recorded) -> Response:
        """Vigil's contract (`vigil.domain.batches`): 202 {"accepted": N}; a batch_id seen before, or
        without one the same timestamped content, is acknowledged, not stored."""
        batch = SampleBatch.model_validate_json(req.body)
        identity = batch.batch_id or f"anon-{len(self.stored)}"
        if not batch.batch_id and all(s.ts is not None for s in batch.samples):
            identity = "content:" + json.dumps([s.model_dump(mode="json") for s in batch.samples])
        if identity in self.stored:
            return 202, {}, json.dumps({"accepted": 0, "duplicate": True}).encode()
        self.stored[identity] = batch
        return 202, {}, json.dumps({"accepted": len(batch.samples)}).encode()

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                req = Recorded(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with receiver.cond:
                    status, headers, body = (receiver.responder or receiver.ingest)(req)
                    req.status = status
                    receiver.requests.append(req)
                    receiver.cond.notify_all()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: afterwards connections to the port are refused until `start()` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), "receiver condition not met in time"

    def stored_values(self) -> list[float]:
        with self.cond:
            return [s.value for b in self.stored.values() for s in b.samples if s.value is not None]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


Poll = Callable[..., None]


def _wait_until(predicate: Callable[[], bool], timeout: float = 10.0, message: str = "condition") -> None:
    """Poll `predicate` until true; fail after `timeout`. For state without its own notification."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout} s")
        time.sleep(0.005)


@pytest.fixture
def wait_until() -> Poll:
    return _wait_until
