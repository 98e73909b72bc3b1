"""The dashboard pages through a paged list (issue 13.4): with more hosts than one page of
`GET /api/hosts` (100), the Hosts page follows `next_cursor` and lists every host. Its own server,
so the shared one keeps its small seeded fleet."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import Console, watched_page
from tests.e2e.seeding import Server, running_server
from tests.waiting import wait_until

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


@pytest.fixture
def fleet_tab(browser: Browser, fleet: Server) -> Iterator[tuple[Page, Console]]:
    """A signed-in tab on the fleet's server and the console errors it produced."""
    ctx, page, console = watched_page(browser, sign_in=(fleet.url, fleet.admin_token))
    yield page, console
    ctx.close()


def test_the_hosts_page_follows_the_cursor_and_lists_every_host(
    fleet_tab: tuple[Page, Console], fleet: Server
) -> None:
    first = fleet.api("GET", "/api/hosts").json()
    assert len(first["hosts"]) == 100 and first["next_cursor"]  # the API really pages

    page, console = fleet_tab
    paged: list[str] = []
    page.on(
        "request", lambda r: paged.append(r.url) if "/api/hosts" in r.url and "cursor=" in r.url else None
    )
    started = time.monotonic()
    page.goto(f"{fleet.url}/#/hosts")
    # the server's own request metrics add this machine's host (`local.self_metrics`) at a scheduler
    # tick, so the seeded fleet's rows are counted by name
    rows_js = "[...document.querySelectorAll('table.hosts tbody tr')]"
    seeded = rows_js + ".filter((r) => /node-\\d{3}/.test(r.textContent))"
    page.wait_for_function(f"() => {seeded}.length === {HOSTS}")
    rows = page.locator("table.hosts tbody tr", has_text="node-")
    assert rows.count() == HOSTS
    assert "node-104" in rows.nth(HOSTS - 1).inner_text()
    assert paged, "the second page was never requested"
    assert console.errors == [] and time.monotonic() - started < 10


def test_a_host_past_the_first_page_has_its_page_and_the_status_badge_counts_the_whole_fleet(
    fleet_tab: tuple[Page, Console], fleet: Server
) -> None:
    # node-104 sorts last (the second page of /api/hosts); declaring a 1 s interval and then staying
    # quiet makes it "down" within seconds
    key = fleet.api("POST", "/api/keys", json={"name": "fleet-late"}).json()["key"]
    batch = {
        "host": "node-104",
        "push_interval": 1,
        "samples": [{"metric": "system.cpu.utilization", "value": 0.3}],
    }
    assert fleet.api("POST", "/v1/samples", token=key, json=batch).status_code == 202

    def node_104_down() -> bool:
        after = fleet.api("GET", "/api/hosts").json()["next_cursor"]
        rest = fleet.api("GET", "/api/hosts", params={"cursor": after}).json()["hosts"]
        return [h["status"] for h in rest if h["host"] == "node-104"] == ["down"]

    wait_until(node_104_down, timeout=30, what="node-104 to be down")
    page, console = fleet_tab
    page.goto(f"{fleet.url}/#/hosts?host=node-104")
    page.locator(".page-head .badge", has_text="down").wait_for()
    assert page.locator("#host-facts dd").first.inner_text().startswith("20")  # its first-seen date
    page.goto(f"{fleet.url}/#/overview")
    page.locator("#status-badge[data-level=bad]").wait_for()
    page.click("#status-badge")
    page.locator("#status-reasons li", has_text="1 host down: node-104").wait_for()
    assert console.errors == []
