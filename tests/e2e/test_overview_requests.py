"""What the overview asks for while its charts load, in real Chromium against its own in-process
server (no other test's alerts): the alert rules only once an alert is active (they name the active
alerts and give their severity), and the metric catalogue only after the charts are drawn (their
answer carries its unit). Fewer requests share the server with the charts' own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser

from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import watched_page
from tests.e2e.seeding import samples_for
from vigil.alerting.entry import evaluate_now
from vigil.config import Config
from vigil.local.server import LocalServer

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHARTS_DRAWN = "() => performance.getEntriesByName('vigil:charts-drawn').length > 0"
ASKED = "(part) => performance.getEntriesByType('resource').some(e => e.name.includes(part))"
REQUESTS = """() => performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/api/'))
  .map(e => ({url: e.name, start: e.startTime, end: e.responseEnd}))"""


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[LocalServer, str]]:
    """Two hosts with the last 10 minutes of CPU, memory and latencies; no alert active."""
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, interval_seconds=10.0)
    with LocalServer(config, port=0, agent=False) as server:
        made = requests.post(f"{server.url}/api/keys", json={"name": "e2e"}, headers=AUTH, timeout=30)
        key = made.json()["key"]
        for h in range(2):
            body = {"host": f"web-{h}", "samples": list(samples_for(h, time.time() - 600, 10, 60))}
            sent = requests.post(
                f"{server.url}/v1/samples", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            assert sent.status_code == 202, sent.text
        yield server, key


def load_overview(browser: Browser, server: LocalServer) -> tuple[Any, Any, Any]:
    context, page, console = watched_page(browser)
    page.goto(f"{server.url}/#token={ADMIN_TOKEN}")
    page.wait_for_function(CHARTS_DRAWN, timeout=15000)
    return context, page, console


def test_without_an_active_alert_the_overview_loads_no_rules_and_its_catalogue_after_the_charts(
    browser: Browser, fleet: tuple[LocalServer, str]
) -> None:
    context, page, console = watched_page(browser)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    page.goto(f"{fleet[0].url}/#token={ADMIN_TOKEN}")
    page.wait_for_function(CHARTS_DRAWN, timeout=15000)
    page.wait_for_function(ASKED, arg="/api/metrics/catalog")
    # the panel renders the alerts' answer; a rules request would leave in that same render
    page.locator("#active-alerts", has_text="No active alerts").wait_for()
    drawn = float(page.evaluate("performance.getEntriesByName('vigil:charts-drawn')[0].startTime"))
    catalog = next(e for e in page.evaluate(REQUESTS) if "/api/metrics/catalog" in e["url"])
    assert catalog["start"] >= drawn
    assert any(url.endswith("/api/alerts") for url in sent)
    assert not any("/api/alerts/rules" in url for url in sent)
    assert page.locator("#active-alerts").inner_text().count("No active alerts") == 1
    assert console.errors == []
    context.close()


def test_an_active_alert_brings_its_rule_severity_and_name(
    browser: Browser, fleet: tuple[LocalServer, str]
) -> None:
    server, key = fleet
    rule = {"name": "Disk full", "metric": "app.e2e.disk", "agg": "max", "window": 300, "threshold": 100}
    made = requests.post(
        f"{server.url}/api/alerts/rules",
        json={**rule, "severity": "critical", "group_by": ["host"]},
        headers=AUTH,
        timeout=30,
    )
    assert made.status_code < 300, made.text
    sample = {"host": "db-9", "samples": [{"metric": "app.e2e.disk", "ts": time.time(), "value": 500}]}
    sent = requests.post(f"{server.url}/v1/samples", json=sample, headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 202, sent.text
    evaluate_now(server.ctx)
    context, page, console = load_overview(browser, server)
    page.wait_for_function(ASKED, arg="/api/alerts/rules")
    page.locator("#status-badge").click()
    page.wait_for_selector("#status-reasons li.reason-bad")
    assert (
        page.locator("#status-reasons li.reason-bad").first.inner_text().strip() == "1 critical alert firing"
    )
    assert "Disk full" in page.locator("#active-alerts").inner_text()
    assert console.errors == []
    context.close()
