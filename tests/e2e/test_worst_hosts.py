"""The overview names the worst hosts beside the API response p95 and error-rate cards too (issue 15 item
3), in real Chromium against the seeded `vigil serve`: the hot host first with its value in the card's
unit and threshold colour, on a desktop and at 390 px without sideways scroll, no console errors."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import OpenTab
from tests.e2e.seeding import Server, push

OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
HOT, CALM = "a-hot-api", "a-calm-api"  # first by name among ties with whatever other tests pushed


def requests(status: str, counts: list[int]) -> dict[str, object]:
    """One latency histogram of 20 requests answered `status` (bounds 1 s and 10 s)."""
    return {
        "metric": "http.server.request.duration",
        "ts": time.time(),
        "labels": {"http.response.status_code": status, "http.route": "/checkout"},
        "histogram": {"bounds": [1.0, 10.0], "counts": counts, "sum": 20.0, "count": sum(counts)},
    }


@pytest.fixture
def hot_api_host(server: Server, ingest_key: str) -> str:
    """Now: HOT answers every request with a 500 in 1-10 s (p95 9.55 s, 100 % errors); CALM is fast
    and fine, so at least two hosts are ranked whatever else this session pushed."""
    push(server, ingest_key, HOT, iter([requests("500", [0, 20, 0])]))
    push(server, ingest_key, CALM, iter([requests("200", [20, 0, 0])]))
    return HOT


@pytest.mark.parametrize("width", [1280, 390])
def test_the_hot_host_shows_beside_the_api_p95_and_error_rate_cards_with_its_value(
    open_tab: OpenTab, hot_api_host: str, width: int
) -> None:
    tab = open_tab(width=width, height=900)
    tab.open("overview")
    api = tab.page.locator("[data-kpi=api] [data-worst=api] li").first
    api.wait_for()
    assert api.inner_text().split() == [hot_api_host, "max", "9.55", "s"]
    assert "lvl-bad" in (api.get_attribute("class") or "")  # above the 2,000 ms threshold
    errors = tab.page.locator("[data-kpi=errors] [data-worst=errors] li").first
    assert errors.inner_text().split() == [hot_api_host, "max", "100", "%"]
    assert "lvl-bad" in (errors.get_attribute("class") or "")
    head = tab.page.locator("[data-kpi=errors] .worst-head").inner_text()
    assert head.startswith("Worst hosts")
    calm = tab.page.locator("[data-kpi=errors] [data-worst=errors] li", has_text=CALM)
    assert calm.inner_text().split()[-2:] == ["0", "%"] and "lvl-ok" in (calm.get_attribute("class") or "")
    # the host grid stays a CPU/memory map: no row for the application KPIs
    assert tab.page.locator("[data-grid=api], [data-grid=errors]").count() == 0
    assert tab.page.evaluate(OVERFLOW_JS) <= 0
    api.locator("a").click()
    tab.page.wait_for_url(f"**/#/hosts?host={hot_api_host}")
    assert tab.console.errors == []
