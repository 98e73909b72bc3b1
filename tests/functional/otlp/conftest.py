"""Fixtures for the OTLP interop tests: a loopback HTTP server that records OTLP export requests
(path, headers, raw body) and answers 200 with an empty body, so the official exporters can be pointed
at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Captured:
    path: str
    content_type: str | None
    content_encoding: str | None
    body: bytes


class CaptureServer:
    def __init__(self) -> None:
        self.requests: list[Captured] = []
        captured = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                captured.append(
                    Captured(
                        self.path,
                        self.headers.get("Content-Type"),
                        self.headers.get("Content-Encoding"),
                        body,
                    )
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> CaptureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def bodies(self, path: str) -> list[Captured]:
        return [c for c in self.requests if c.path == path]


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server
