"""Settings → Cost in real Chromium: the deployment's cost per component, in total and per host-month,
from the local server's own counters, with a 24 h / 30 d toggle — on a desktop, on a 390 px phone
and in dark mode, without console errors."""

from __future__ import annotations

from tests.e2e.conftest import OpenTab, Session
from tests.e2e.seeding import Server
from tests.waiting import wait_until

COMPONENTS = 9  # API Gateway, Lambda x2, DynamoDB x3, SNS x2, Logs


def _cost_rows(tab: Session) -> list[list[str]]:
    tab.page.wait_for_function("() => document.querySelectorAll('#cost-table tbody tr').length > 0")
    rows: list[list[str]] = tab.page.eval_on_selector_all(
        "#cost-table tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    )
    return rows


def test_the_cost_panel_shows_each_component_and_the_per_host_month_figure(
    tab: Session, server: Server
) -> None:
    wait_until(lambda: server.api("GET", "/api/cost").json()["hours"] > 0, what="the first usage flush")
    tab.open("settings")
    rows = _cost_rows(tab)
    assert len(rows) == COMPONENTS
    by_name = {name: (units, usd) for name, units, usd in rows}
    assert by_name["API Gateway requests"][0].endswith("requests")
    assert by_name["DynamoDB writes"][0].endswith("WRU")
    assert tab.page.text_content("#cost-per-host").startswith("$")  # type: ignore[union-attr]
    pricing = tab.page.text_content("#cost-pricing") or ""
    assert "us-east-1" in pricing and "2026-" in pricing
    assert tab.console.errors == []


def test_the_window_toggle_asks_for_thirty_days(tab: Session) -> None:
    tab.open("settings")
    _cost_rows(tab)
    with tab.page.expect_response(lambda r: "/api/cost" in r.url and "window=30d" in r.url) as answer:
        tab.page.click("#cost button:has-text('30 d')")
    assert answer.value.status == 200
    assert answer.value.json()["window"] == "30d"
    tab.page.wait_for_function(
        "() => document.querySelector('#cost-total').closest('dl').textContent.includes('30 days')"
    )
    assert tab.console.errors == []


def test_the_cost_panel_fits_a_phone_in_dark_mode(open_tab: OpenTab) -> None:
    tab = open_tab(width=390, height=844, color_scheme="dark")
    tab.open("settings")
    _cost_rows(tab)
    overflow = tab.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    panel_right = tab.page.evaluate("() => document.querySelector('#cost').getBoundingClientRect().right")
    assert panel_right <= 390
    background = tab.page.evaluate("() => getComputedStyle(document.querySelector('#cost')).backgroundColor")
    assert background != "rgb(255, 255, 255)"  # the dark theme's panel colour
    assert tab.console.errors == []


def test_a_viewer_sees_the_cost_panel(open_tab: OpenTab, viewer_token: str) -> None:
    tab = open_tab(token=viewer_token)
    tab.open("settings")
    assert len(_cost_rows(tab)) == COMPONENTS
    assert tab.console.errors == []
