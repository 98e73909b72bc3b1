"""The AWS `ChangeFeed` against a real HTTP receiver on loopback (moto has no AppSync Events): each
publish is one SigV4-signed POST (service `appsync`) of the compact change to `/live/changes`, at most
one a second per process with the changes in between folded in, and a publish that fails never fails
the ingest that triggered it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vigil.adapters.live_events import CHANNEL, AppSyncEventsFeed
from vigil.config import Config
from vigil.wiring import build_change_feed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/event", received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLIVETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def test_a_stored_batch_is_published_signed_to_the_live_channel(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = receiver
    feed = AppSyncEventsFeed(url, clock=Clock())
    feed.samples_stored("web-1", {"system.cpu.utilization"})
    (request,) = received
    assert request["path"] == "/event"
    assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLIVETEST/")
    assert "/appsync/aws4_request" in request["headers"]["Authorization"]
    assert request["body"]["channel"] == CHANNEL == "/live/changes"
    (event,) = request["body"]["events"]
    assert json.loads(event) == {"hosts": ["web-1"], "metrics": ["system.cpu.utilization"], "alerts": False}


def test_changes_within_a_second_fold_into_the_next_publish(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = receiver
    clock = Clock()
    feed = AppSyncEventsFeed(url, clock=clock)
    feed.samples_stored("web-1", {"m1"})
    clock.now += 0.4
    feed.samples_stored("web-2", {"m2"})
    feed.alerts_changed()
    assert len(received) == 1  # held back: the last publish was under a second ago
    clock.now += 0.6
    feed.samples_stored("web-3", {"m1"})
    assert len(received) == 2
    assert json.loads(received[1]["body"]["events"][0]) == {
        "hosts": ["web-2", "web-3"],
        "metrics": ["m1", "m2"],
        "alerts": True,
    }


def test_a_failed_publish_is_logged_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    feed = AppSyncEventsFeed("http://127.0.0.1:9/event", clock=Clock())  # nothing listens on port 9
    feed.samples_stored("web-1", {"m"})
    assert feed.published == 0
    assert "could not publish a live update" in caplog.text


def test_the_lambda_context_publishes_only_when_the_stack_names_an_endpoint() -> None:
    assert isinstance(
        build_change_feed(Config(live_events_url="https://x.appsync-api.eu-west-1.amazonaws.com/event")),
        AppSyncEventsFeed,
    )
    assert not isinstance(build_change_feed(Config()), AppSyncEventsFeed)
