"""The dashboard pages through a paged list (issue 13.4): with more hosts than one page of
`GET /api/hosts` (100), the Hosts page follows `next_cursor` and lists every host. Its own server,
so the shared one keeps its small seeded fleet."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import Console
from tests.e2e.seeding import Server, running_server

HOSTS = 105  # more than one page (100)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("fleet") / "data") as srv:
        created = srv.api("POST", "/api/keys", json={"name": "fleet"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        for i in range(HOSTS):
            batch = {"host": f"node-{i:03d}", "samples": [{"metric": "system.cpu.utilization", "value": 0.2}]}
            sent = srv.api("POST", "/v1/samples", token=key, json=batch)
            assert sent.status_code == 202, sent.text
        yield srv


def test_the_hosts_page_follows_the_cursor_and_lists_every_host(browser: Browser, fleet: Server) -> None:
    first = fleet.api("GET", "/api/hosts").json()
    assert len(first["hosts"]) == 100 and first["next_cursor"]  # the API really pages

    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_error)
    paged: list[str] = []
    page.on(
        "request", lambda r: paged.append(r.url) if "/api/hosts" in r.url and "cursor=" in r.url else None
    )
    page.goto(f"{fleet.url}/#token={fleet.admin_token}")
    page.wait_for_selector("main#main")
    started = time.monotonic()
    page.goto(f"{fleet.url}/#/hosts")
    page.wait_for_function(f"() => document.querySelectorAll('table.hosts tbody tr').length === {HOSTS}")
    rows = page.locator("table.hosts tbody tr")
    assert rows.count() == HOSTS
    assert "node-104" in rows.nth(HOSTS - 1).inner_text()
    assert paged, "the second page was never requested"
    assert console.errors == [] and time.monotonic() - started < 10
    ctx.close()
