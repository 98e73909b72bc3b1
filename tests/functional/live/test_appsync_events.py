"""The AWS `ChangeFeed` against a real HTTP receiver on loopback (moto has no AppSync Events): each
publish is one SigV4-signed POST (service `appsync`) of the compact change to `/live/changes`, at most
one a second per process with the changes in between folded in, and a publish that fails never fails
the ingest that triggered it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from vigil.adapters.live_events import CHANNEL, AppSyncEventsFeed
from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.local.server import LocalServer
from vigil.services.live_presence import CHECK_EVERY_SECONDS, WATCH_SECONDS, Presence, note_watching
from vigil.wiring import AppContext, build_change_feed


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


def test_the_lambda_context_publishes_only_when_the_stack_names_an_endpoint(tmp_path: Path) -> None:
    url = "https://x.appsync-api.eu-west-1.amazonaws.com/event"
    assert isinstance(build_change_feed(AppContext(Config(live_events_url=url))), AppSyncEventsFeed)
    assert not isinstance(build_change_feed(AppContext(Config(data_dir=tmp_path))), AppSyncEventsFeed)


def test_nothing_is_published_while_no_dashboard_watches_and_publishing_resumes_when_one_does(
    receiver: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = receiver
    clock = Clock()
    store = SqliteStore(tmp_path / "v.db", retention_seconds=7 * 86400)
    presence = Presence(lambda: store, clock)
    feed = AppSyncEventsFeed(url, clock=clock, watched=presence.watched)
    feed.samples_stored("web-1", {"m"})
    assert received == []  # no dashboard: not published, not billed
    note_watching(store, clock.now)  # POST /api/live/watch from an open dashboard
    clock.now += CHECK_EVERY_SECONDS  # ingest looks again at most every 10 s
    feed.samples_stored("web-2", {"m"})
    assert len(received) == 1
    clock.now += WATCH_SECONDS  # the dashboard closed: no heartbeat since
    feed.samples_stored("web-3", {"m"})
    assert len(received) == 1
    store.close()


def test_an_open_dashboard_says_it_is_watching(tmp_path: Path) -> None:
    with LocalServer(Config(data_dir=tmp_path / "d", admin_token="adm"), port=0, agent=False) as server:
        answer = requests.post(
            f"{server.url}/api/live/watch", headers={"Authorization": "Bearer adm"}, timeout=10
        )
        assert answer.status_code == 204
        assert requests.post(f"{server.url}/api/live/watch", timeout=10).status_code == 401
        doc = server.ctx.store.get_doc("live", "watched")
        assert doc is not None and doc["until"] > time.time() + WATCH_SECONDS - 30
