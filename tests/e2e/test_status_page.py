"""The public status page in real Chromium: a public check that went down and came back (an incident
from alert history), read without signing in, on a phone (390 px) and a desktop: no console error,
nothing wider than the screen, every state said in words, the bars hidden from screen readers.
Screenshots go to /tmp/shots for the closing note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from tests.check_targets import http_target
from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import Console
from vigil.alerting.entry import evaluate_now
from vigil.config import Config
from vigil.local.server import LocalServer

SHOTS = Path("/tmp/shots")


@pytest.fixture
def server_with_incident(tmp_path: Path) -> Iterator[LocalServer]:
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, interval_seconds=10.0)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with LocalServer(config, port=0, agent=False) as server, http_target() as target:

        def post(path: str, body: object = None) -> dict[str, object]:
            answer = requests.post(f"{server.url}{path}", json=body, headers=auth, timeout=30)
            assert answer.status_code < 300, answer.text
            return dict(answer.json())

        shop = post(
            "/api/checks", {"name": "Web shop", "url": target.url(), "interval": "1h", "public": True}
        )
        post(
            "/api/checks",
            {"name": "Payments API", "url": target.url("/pay"), "interval": "1h", "public": True},
        )
        post("/api/checks", {"name": "Internal batch", "url": target.url("/batch"), "interval": "1h"})
        for check in json_list(server, auth):
            post(f"/api/checks/{check['id']}/run")
        target.stop()
        post(f"/api/checks/{shop['id']}/run")
        post(f"/api/checks/{shop['id']}/run")
        evaluate_now(server.ctx)  # "Check down" fires
        target.start()
        post(f"/api/checks/{shop['id']}/run")
        evaluate_now(server.ctx)  # and resolves: one incident with a start and an end
        yield server


def json_list(server: LocalServer, auth: dict[str, str]) -> list[dict[str, str]]:
    return list(requests.get(f"{server.url}/api/checks", headers=auth, timeout=30).json())


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_status_page_reads_well_on_a_phone_and_a_desktop(
    browser: Browser, server_with_incident: LocalServer, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})  # nobody signed in
    page = context.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_error)
    page.goto(f"{server_with_incident.url}/status")
    page.wait_for_selector("h1")
    assert page.locator("[role=status]").inner_text() == "All systems operational"
    names = page.locator(".component h3").all_inner_texts()
    assert names == ["Payments API", "Web shop"]  # the private check is not there
    assert page.locator(".component .state").all_inner_texts() == ["Operational", "Operational"]
    assert page.locator(".bars").first.get_attribute("aria-hidden") == "true"
    assert page.locator(".bars").first.locator("li").count() == 90
    assert "Web shop was down from" in page.locator(".incidents").inner_text()
    widest = page.evaluate("document.documentElement.scrollWidth")
    assert widest <= width, f"page is {widest}px wide in a {width}px window"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"status-page-{width}.png"), full_page=True)
    assert console.errors == []
    context.close()
