"""Issue 15 item 1, the silenced half: a critical alert that an admin silenced does not turn the
overview's status badge red by itself; the badge lists it as "silenced", muted, the way Alertmanager
leaves silenced alerts out of what pages anyone. Its own in-process server, so no other test's alerts,
hosts or checks colour the badge."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import watched_page
from vigil.alerting.entry import evaluate_now
from vigil.config import Config
from vigil.local.server import LocalServer

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def silenced_critical(tmp_path: Path) -> Iterator[LocalServer]:
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, interval_seconds=10.0)
    with LocalServer(config, port=0, agent=False) as server:

        def post(path: str, body: object) -> dict[str, str]:
            answer = requests.post(f"{server.url}{path}", json=body, headers=AUTH, timeout=30)
            assert answer.status_code < 300, answer.text
            return dict(answer.json())

        key = post("/api/keys", {"name": "e2e"})["key"]
        rule = {"name": "Disk full", "metric": "app.e2e.disk", "agg": "max", "window": 300, "threshold": 100}
        rule_id = post("/api/alerts/rules", {**rule, "severity": "critical", "group_by": ["host"]})["id"]
        sample = {"host": "db-9", "samples": [{"metric": "app.e2e.disk", "ts": time.time(), "value": 500}]}
        sent = requests.post(
            f"{server.url}/v1/samples", json=sample, headers={"Authorization": f"Bearer {key}"}
        )
        assert sent.status_code == 202, sent.text
        evaluate_now(server.ctx)
        matchers = [{"name": "rule_id", "value": rule_id}]
        post(
            "/api/alerts/silences",
            {
                "matchers": matchers,
                "starts_at": time.time() - 60,
                "ends_at": time.time() + 3600,
                "comment": "disk swap",
            },
        )
        evaluate_now(server.ctx)
        firing = requests.get(f"{server.url}/api/alerts", headers=AUTH, timeout=30).json()["firing"]
        assert [a["silenced_by"] is not None for a in firing] == [True], firing
        yield server


def test_a_silenced_critical_alert_is_listed_muted_and_does_not_turn_the_badge_red(
    browser: Browser, silenced_critical: LocalServer
) -> None:
    context, page, console = watched_page(browser, sign_in=(silenced_critical.url, ADMIN_TOKEN))
    page.goto(f"{silenced_critical.url}/#/overview")
    badge = page.locator("#status-badge")
    page.wait_for_function("() => document.querySelector('#status-badge').dataset.level !== 'checking'")
    badge.click()
    reason = page.locator("#status-reasons li.reason-muted")
    assert reason.inner_text().strip() == "1 firing alert silenced"
    assert badge.get_attribute("data-level") != "bad"
    assert page.locator("#status-reasons li.reason-bad").count() == 0
    assert console.errors == []
    context.close()
