"""The Checks page (issue 17 item 5) in real Chromium against the session's `vigil serve`, probing a
real loopback HTTP server and a closed port: create and test a check in the form, see it listed up or
down with its error, the overview's badge naming a check that is down, the stacked phase chart drawn
(pixels on the canvas), no controls for viewers, a 390 px phone in dark mode, paging, deleting, and
the rule editor's `last` aggregation on the default check rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.check_targets import HttpTarget, closed_port, http_target
from tests.e2e.checks_seed import check_history
from tests.e2e.conftest import OpenTab, Session
from tests.e2e.seeding import Server, push
from tests.e2e.test_honest_dashboard import OVERFLOW_JS, drawn_columns
from vigil.services.check_results import SYNTHETIC_HOST


@pytest.fixture(scope="module")
def target() -> Iterator[HttpTarget]:
    with http_target() as t:
        yield t


def make_check(server: Server, name: str, url: str, run: bool = True) -> dict[str, Any]:
    created = server.api(
        "POST", "/api/checks", json={"name": name, "url": url, "interval": "1h", "timeout": "2s"}
    )
    assert created.status_code == 201, created.text
    check: dict[str, Any] = created.json()
    if run:
        ran = server.api("POST", f"/api/checks/{check['id']}/run")
        assert ran.status_code == 200, ran.text
        check = ran.json()
    return check


@pytest.fixture(scope="module")
def down_check(server: Server) -> dict[str, Any]:
    return make_check(server, "E2E closed port", f"tcp://127.0.0.1:{closed_port()}")


@pytest.fixture(scope="module")
def charted_check(server: Server, ingest_key: str, target: HttpTarget) -> dict[str, Any]:
    """A check with an hour of phase samples every 30 s (as the runner writes them)."""
    check = make_check(server, "E2E charted shop", target.url())
    push(server, ingest_key, SYNTHETIC_HOST, iter(check_history(check["name"])))
    return check


def row(tab: Session, name: str) -> Any:
    return tab.page.locator(f"tr[data-check='{name}']")


def test_a_check_created_and_tested_in_the_form_is_listed_up(tab: Session, target: HttpTarget) -> None:
    tab.open("checks?check=new")
    tab.page.fill("#ck-name", "E2E form shop")
    tab.page.fill("#ck-url", target.url())
    tab.page.fill("#ck-interval", "30s")
    tab.page.fill("#ck-timeout", "2s")
    test_button = tab.page.locator("#test-check")
    assert test_button.inner_text() == "Save and test now"  # an unsaved check is saved first, and it says so
    test_button.click()
    result = tab.page.locator("#test-result")
    result.wait_for()
    text = result.inner_text()
    assert "up" in text and "HTTP 200" in text
    assert {"DNS", "Connect", "TTFB", "Total"} <= set(result.locator("dt").all_inner_texts())
    assert "edit=1" in tab.page.url and "check=ck_" in tab.page.url  # now the saved check's editor
    assert test_button.inner_text() == "Test now"
    tab.open("checks")
    listed = row(tab, "E2E form shop")
    assert listed.get_attribute("data-status") == "up"
    assert listed.locator(".badge").inner_text() == "up"
    assert re.search(r"(just now|\d+ s ago)", listed.inner_text())
    assert "100 %" in listed.inner_text()
    assert tab.console.errors == []


def test_the_form_shows_its_own_and_the_apis_field_errors_next_to_the_field(
    tab: Session, target: HttpTarget
) -> None:
    tab.open("checks?check=new")
    tab.page.fill("#ck-name", "E2E too often")
    tab.page.fill("#ck-url", "ftp://example.com")
    assert "http(s)://" in tab.page.locator("#ck-url-error").inner_text()  # as you type
    tab.page.fill("#ck-url", target.url())
    tab.page.fill("#ck-interval", "5s")  # well formed, but under this server's minimum: the API says so
    tab.page.fill("#ck-timeout", "2s")
    tab.page.click("#save-check")
    error = tab.page.locator("#ck-interval-error")
    error.wait_for()
    assert "between 10s" in error.inner_text()
    assert tab.page.locator("#ck-interval").get_attribute("aria-invalid") == "true"
    assert "check=new" in tab.page.url  # nothing was saved
    # Chromium logs the refused POST (HTTP 400) as a console error; nothing else may appear
    assert [e for e in tab.console.errors if "status of 400" not in e] == []


def test_a_check_on_a_closed_port_is_down_with_its_error_and_the_badge_names_it(
    tab: Session, down_check: dict[str, Any]
) -> None:
    tab.open("checks")
    listed = row(tab, down_check["name"])
    assert listed.get_attribute("data-status") == "down"
    assert listed.locator(".badge").inner_text() == "down"
    assert "cannot connect to port" in listed.locator(".ck-error").inner_text()
    tab.open("overview")
    badge = tab.page.locator("#status-badge")
    badge.and_(tab.page.locator("[data-level=bad]")).wait_for()
    badge.click()
    reason = tab.page.locator("#status-reasons li", has_text=f"Check down: {down_check['name']}")
    assert reason.locator("a").get_attribute("href") == f"#/checks?check={down_check['id']}"
    reason.locator("a").click()
    tab.page.locator("h1", has_text=down_check["name"]).wait_for()
    assert "cannot connect to port" in tab.page.locator("#latest-result").inner_text()
    assert tab.console.errors == []


def test_the_response_time_chart_stacks_the_phases_and_draws_them(
    tab: Session, charted_check: dict[str, Any]
) -> None:
    tab.open(f"checks?check={charted_check['id']}&range=1h")
    tab.page.wait_for_function(
        "() => performance.getEntriesByName('vigil:chart-drawn:check-phases').length > 0"
    )
    legend = tab.page.locator("#check-chart .legend-item").all_inner_texts()
    assert legend == ["DNS", "Connect", "TLS", "TTFB", "Total"]  # stacked in this order, the total last
    cols = drawn_columns(tab, "#check-chart canvas")
    assert sum(cols) > 0.6 * len(cols), f"only {sum(cols)} of {len(cols)} columns drawn"
    # drawn stacked, but the tooltip gives each phase its own time: TTFB well under the total
    tab.page.hover("#check-chart .u-over", position={"x": 300, "y": 100})
    tip = dict(
        re.findall(
            r"(DNS|Connect|TLS|TTFB|Total): ([\d.]+) ms",
            tab.page.locator("#check-chart .chart-tip").inner_text(),
        )
    )
    assert set(tip) == {"DNS", "Connect", "TLS", "TTFB", "Total"}, tip
    phases = sum(float(tip[k]) for k in ("DNS", "Connect", "TLS", "TTFB"))
    assert float(tip["TTFB"]) < 0.8 * float(tip["Total"]) and abs(phases + 8 - float(tip["Total"])) < 2, tip
    bars = tab.page.locator("#check-history .ck-history li").count()
    assert 55 <= bars <= 62 and tab.page.locator("#check-history .lvl-ok").count() >= 55
    assert "Up in all" in tab.page.locator("#check-history-summary").inner_text()
    assert tab.console.errors == []


def test_a_viewer_sees_checks_but_no_controls(
    open_tab: OpenTab, viewer_token: str, down_check: dict[str, Any]
) -> None:
    tab = open_tab(token=viewer_token)
    tab.open("checks")
    row(tab, down_check["name"]).wait_for()
    assert tab.page.locator("#new-check").count() == 0
    tab.open(f"checks?check={down_check['id']}")
    tab.page.locator("#check-settings").wait_for()
    assert tab.page.locator("#edit-check, #run-check, #delete-check").count() == 0
    tab.open("checks?check=new")
    assert "Only admins" in tab.page.locator("main").inner_text()
    assert tab.page.locator("form.check-form").count() == 0
    assert tab.console.errors == []


def test_on_a_390_px_phone_in_dark_mode_the_checks_pages_never_scroll_sideways(
    open_tab: OpenTab, charted_check: dict[str, Any], down_check: dict[str, Any]
) -> None:
    tab = open_tab(width=390, height=844, color_scheme="dark")
    assert tab.page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    for route in ("checks", f"checks?check={charted_check['id']}", f"checks?check={down_check['id']}&edit=1"):
        tab.open(route)
        tab.page.wait_for_load_state("networkidle")
        overflow = tab.page.evaluate(OVERFLOW_JS)
        assert overflow <= 0, f"{route} scrolls sideways by {overflow} px"
    background = tab.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert sum(map(int, re.findall(r"\d+", background)[:3])) < 150, background  # a dark page
    assert tab.console.errors == []


def test_the_list_pages_through_the_next_cursor_and_a_check_is_deleted_after_confirming(
    tab: Session, server: Server, target: HttpTarget
) -> None:
    first = make_check(server, "E2E aaa paged", target.url("/a"), run=False)
    make_check(server, "E2E aab paged", target.url("/b"), run=False)
    tab.open("checks?limit=1")  # by name: "E2E aaa paged" comes first
    row(tab, first["name"]).wait_for()  # the list is fetched after the page shell renders
    assert tab.page.locator("tr[data-check]").evaluate_all("rs => rs.map((r) => r.dataset.check)") == [
        first["name"]
    ]
    tab.page.click("#checks-more")
    row(tab, "E2E aab paged").wait_for()
    assert tab.page.locator("tr[data-check]").count() == 2
    tab.open(f"checks?check={first['id']}&edit=1")
    tab.page.once("dialog", lambda d: d.accept())
    tab.page.click("#delete-check")
    tab.page.locator("h1", has_text="Checks").wait_for()
    row(tab, "E2E aab paged").wait_for()  # the list has loaded, so an absent row means deleted
    assert row(tab, "E2E aaa paged").count() == 0
    assert server.api("GET", f"/api/checks/{first['id']}").status_code == 404
    assert tab.console.errors == []


def test_the_rule_editor_offers_last_and_shows_the_default_check_rules(tab: Session) -> None:
    tab.open("alerts?tab=rules")
    rule_row = tab.page.locator("#alerts-rules tr", has_text="Check down")
    condition = rule_row.locator("td").first.inner_text()
    assert "last(synthetic.failures{host=vigil-checks}) >= 2" in condition and "per check" in condition
    tab.open("alerts?tab=rules&rule=default-check-down")
    agg = tab.page.locator("#r-agg")
    assert agg.input_value() == "last"
    assert agg.locator("option:checked").inner_text() == "last (latest value)"
    assert tab.page.locator("#r-threshold").input_value() == "2"
    assert tab.page.locator("#r-group_by").input_value() == "check"
    assert tab.console.errors == []


def test_a_check_whose_name_has_a_comma_still_charts_its_own_series(
    tab: Session, server: Server, target: HttpTarget
) -> None:
    # `labels=check=...` cannot carry a comma: the page reads every check's series and picks its own
    check = make_check(server, "E2E shop, EU", target.url("/eu"))
    tab.open(f"checks?check={check['id']}&range=1h")
    tab.page.wait_for_function(
        "() => performance.getEntriesByName('vigil:chart-drawn:check-phases').length > 0"
    )
    assert tab.page.locator("#check-chart .legend-item").all_inner_texts() == [
        "DNS",
        "Connect",
        "TTFB",
        "Total",
    ]
    assert tab.page.locator("#check-history-summary").inner_text() == "Up in the one interval with runs."
    assert tab.console.errors == []
