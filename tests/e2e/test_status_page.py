"""The public status page in real Chromium: a public check that went down and came back (an incident
from alert history), read without signing in, on a phone (390 px) and a desktop: no console error,
nothing wider than the screen, every state said in words, the bars hidden from screen readers.
Screenshots go to /tmp/shots for the closing note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.checks_seed import server_with_incident as incident_server
from tests.e2e.conftest import watched_page
from vigil.local.server import LocalServer

SHOTS = Path("/tmp/shots")


@pytest.fixture
def server_with_incident(tmp_path: Path) -> Iterator[LocalServer]:
    with incident_server(tmp_path / "data") as server:
        yield server


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_status_page_reads_well_on_a_phone_and_a_desktop(
    browser: Browser, server_with_incident: LocalServer, width: int, height: int
) -> None:
    context, page, console = watched_page(browser, width, height)  # nobody signed in
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
