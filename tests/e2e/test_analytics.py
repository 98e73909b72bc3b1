"""Issue 16 (forecasts, bands, analytics) in real Chromium against a `vigil serve` holding four weeks of
back-filled history (`history_seed`): the Analytics page (trends, week-over-week, top movers, the
forecast that links to its host) on a desktop, at 390 px and in dark mode, and the Explorer's overlay
toggles — band, forecast and last week — asserted by the pixels they draw on the chart's canvas."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.e2e.conftest import OpenTab, Session, open_session
from tests.e2e.history_seed import history_server
from tests.e2e.seeding import REPO, Server
from tests.waiting import wait_until

OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
CANVAS = "#explorer-chart canvas"
# The chart canvas: [translucent pixels (a band's fill), runs of columns right of x0 holding opaque
# pixels of the first legend colour (a solid line is one run, a dashed one many)].
PIXELS_JS = """([sel, x0]) => {
  const c = document.querySelector(sel);
  const sw = c.closest('figure').querySelector('.legend-item .sw');
  const rgb = getComputedStyle(sw).backgroundColor.match(/\\d+/g).map(Number);
  const {width, height} = c;
  const data = c.getContext('2d').getImageData(0, 0, width, height).data;
  let translucent = 0;
  const cols = new Array(width).fill(false);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 4;
    const a = data[i + 3];
    if (a > 30 && a < 140) translucent++;
    if (a > 200 && x > x0 * width && Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40
      && Math.abs(data[i + 2] - rgb[2]) < 40) cols[x] = true;
  }
  let runs = 0;
  for (let x = 1; x < width; x++) if (cols[x] && !cols[x - 1]) runs++;
  return [translucent, runs];
}"""


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with history_server(tmp_path_factory.mktemp("history") / "data", time.time()) as server:
        yield server


@pytest.fixture
def open_history(browser: Browser, history: Server) -> Iterator[OpenTab]:
    contexts: list[BrowserContext] = []

    def make(**kw: Any) -> Session:
        return open_session(browser, history, contexts, **kw)

    yield make
    for ctx in contexts:
        ctx.close()


def pixels(tab: Session, x0: float = 0.0) -> tuple[int, int]:
    tab.page.wait_for_selector(CANVAS)
    translucent, runs = tab.page.evaluate(PIXELS_JS, [CANVAS, x0])
    return int(translucent), int(runs)


def test_the_analytics_page_shows_trends_movers_and_the_forecast_linking_to_its_host(
    open_history: OpenTab,
) -> None:
    tab = open_history()
    tab.open("analytics")
    page = tab.page
    assert page.locator("nav a[href='#/analytics']").get_attribute("aria-current") == "page"
    for kpi in ("cpu", "memory", "api", "errors", "filesystem"):
        page.wait_for_selector(f"#kpi-trend-{kpi}")
    page.wait_for_selector("#kpi-trend-cpu canvas")
    movers = page.locator("#kpi-trend-cpu table.movers tbody tr")
    movers.first.wait_for()
    assert "web-3" in movers.first.inner_text() and "▲" in movers.first.inner_text()
    assert "▲" in page.locator("#kpi-trend-cpu .panel-actions").inner_text()  # the fleet: web-3 went up
    link = page.locator("#forecasts a[href='#/hosts?host=db-1']")
    link.wait_for()
    assert "Filesystem used" in page.locator("#forecasts li").first.inner_text()
    assert page.locator("#forecasts a[href*='host=web-1']").count() == 0  # flat disks are not listed
    page.click("text=30 days")
    page.wait_for_function("() => location.hash.includes('range=30d')")
    page.wait_for_selector("#kpi-trend-cpu canvas")
    page.click("text=7 days")
    page.wait_for_selector("#kpi-trend-cpu canvas")
    page.screenshot(path=str(_shot("analytics")), full_page=True)
    link.click()
    page.wait_for_function("() => location.hash.startsWith('#/hosts?host=db-1')")
    assert tab.console.errors == []


def test_the_analytics_page_fits_390_px_and_dark_mode(open_history: OpenTab) -> None:
    tab = open_history(width=390, height=844, color_scheme="dark")
    tab.open("analytics")
    tab.page.wait_for_selector("#kpi-trend-cpu canvas")
    tab.page.wait_for_selector("#forecasts li")
    assert tab.page.evaluate(OVERFLOW_JS) <= 0
    background = tab.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert sum(int(c) for c in background[4:-1].split(",")) < 200  # a dark page
    assert tab.console.errors == []


def test_the_band_toggle_shades_the_usual_range_of_the_visible_series(open_history: OpenTab) -> None:
    tab = open_history()
    tab.open("explorer?metric=system.cpu.utilization&host=web-3&range=24h")
    tab.page.wait_for_selector(".legend-item")
    without, _ = pixels(tab)
    tab.page.click("#toggle-band")
    tab.page.wait_for_function("() => location.hash.includes('band=1')")
    wait_until(lambda: pixels(tab)[0] > without + 5000, timeout=10, what="the shaded band")
    with_band, _ = pixels(tab)
    assert with_band > without + 5000
    tab.page.click("#toggle-lastweek")
    tab.page.wait_for_selector(".legend-item:has-text('last week')")
    tab.page.screenshot(path=str(_shot("band-overlay")), clip=_clip(tab))
    assert tab.page.locator("#explorer-band-note").count() == 0
    assert tab.console.errors == []


def test_three_days_of_history_say_the_band_needs_a_week(open_history: OpenTab) -> None:
    tab = open_history()
    tab.open("explorer?metric=system.cpu.utilization&host=new-1&range=24h&band=1")
    note = tab.page.locator("#explorer-band-note")
    note.wait_for()
    assert "needs 1 week of history" in note.inner_text()
    assert tab.console.errors == []


def test_the_forecast_toggle_draws_a_dashed_line_beyond_the_data(open_history: OpenTab) -> None:
    tab = open_history()
    tab.open("explorer?metric=system.filesystem.utilization&host=db-1&range=7d")
    tab.page.wait_for_selector(".legend-item")
    _, right_before = pixels(tab, 0.6)
    tab.page.click("#toggle-forecast")
    tab.page.wait_for_function("() => location.hash.includes('forecast=1')")
    tab.page.wait_for_function(f"() => document.querySelectorAll('{CANVAS}').length === 1")
    wait_until(lambda: pixels(tab, 0.6)[1] >= 10, timeout=10, what="the dashed forecast")
    _, right_after = pixels(tab, 0.6)
    # without a forecast the right of the chart is the solid data line (one run of columns); with it
    # the x range runs 7 days further and the right holds the dashes of the predicted line
    assert right_before <= 2 and right_after >= 10
    tab.page.screenshot(path=str(_shot("forecast-overlay")), clip=_clip(tab))
    assert tab.console.errors == []


def _clip(tab: Session) -> dict[str, float]:
    box = tab.page.locator("#explorer-chart").bounding_box()
    assert box is not None
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


def _shot(name: str) -> Path:
    """docs/screenshots/NAME.png when VIGIL_SCREENSHOTS=1 (regenerating the docs), else a temp file."""
    if os.environ.get("VIGIL_SCREENSHOTS") == "1":
        return REPO / "docs" / "screenshots" / f"{name}.png"
    return Path(tempfile.gettempdir()) / f"vigil-e2e-{name}.png"


def test_the_rule_editor_keeps_the_shipped_forecast_when_the_threshold_is_edited(
    open_history: OpenTab, history: Server
) -> None:
    tab = open_history()
    tab.open("alerts?tab=rules&rule=default-disk-forecast")
    page = tab.page
    page.wait_for_selector("#r-forecast")
    assert page.input_value("#r-forecast") == "7d"
    page.fill("#r-threshold", "95")
    page.click("#save-rule")
    page.wait_for_selector("#alerts-rules")
    rule = history.api("GET", "/api/alerts/rules/default-disk-forecast").json()
    assert rule["forecast"] == 7 * 86400 and rule["threshold"] == pytest.approx(0.95)
    # db-1's disk (90 %, +2 % a day) fires the rule; the active alert shows the predicted value
    tab.open("alerts?tab=active")
    page.wait_for_selector("td.c-value:has-text('predicted')")
    assert "in 7 d" in page.locator("td.c-value:has-text('predicted')").first.inner_text()
    assert tab.console.errors == []
