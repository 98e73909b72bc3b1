"""Settings → Deliveries in real Chromium: an undeliverable notification is listed with its reason,
Replay delivers it to the (now working) webhook receiver and it leaves the list."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import OpenTab
from tests.e2e.seeding import Server
from tests.functional.alerting.samples import sample_notification
from vigil.adapters.store.sqlite import SqliteStore
from vigil.alerting import dead_letters


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    got: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_a_dead_letter_is_listed_with_its_reason_and_replayed_from_settings(
    open_tab: OpenTab, server: Server, hook: tuple[str, list[dict[str, object]]]
) -> None:
    url, got = hook
    created = server.api("POST", "/api/channels", json={"type": "webhook", "name": "e2e-hook", "target": url})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    store = SqliteStore(server.data_dir / "vigil.sqlite3", 7 * 86400.0)
    try:
        message = sample_notification(
            id="n-e2e-dead", rule_name="E2E dead letter", channels=(cid,)
        ).to_message()
        dead_letters.record(store, message, {cid: "webhook answered HTTP 503"}, time.time(), source="local")
    finally:
        store.close()

    tab = open_tab()
    tab.open("settings")
    row = tab.page.locator('#dead-letters li[data-id="n-e2e-dead"]')
    row.wait_for()
    assert "webhook answered HTTP 503" in row.locator(".dead-reason").inner_text()
    assert "E2E dead letter" in row.inner_text()
    row.locator("button.replay").click()
    tab.page.get_by_text(f"Delivered to inbox, {cid}.").wait_for()
    row.wait_for(state="detached")
    assert [m["id"] for m in got] == ["n-e2e-dead"]
    assert server.api("GET", "/api/notifications/dead-letters").json()["items"] == []
    assert tab.console.errors == []
