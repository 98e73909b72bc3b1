"""Issue 15.7 in real Chromium against the seeded `vigil serve`: each error group in the errors list
draws its 24 h of hourly occurrences as a bar sparkline. The assertions measure the bars drawn on the
canvas (where they stand and how tall they are), not the DOM, in light and dark mode and on a phone."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.e2e.conftest import OpenTab, Session
from tests.e2e.seeding import Server

MESSAGE = "e2e sparkline: inventory lookup failed"
# occurrences per hours-ago: 8 ten hours ago, 4 three hours ago, 2 in the current hour
SCRIPT = {10: 8, 3: 4, 0: 2}
OVERFLOW_JS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The bars of a sparkline canvas: runs of columns whose opaque pixels rise more than `min` px above the
# bottom, each as [centre x / canvas width, tallest height in px]. Zero-count hours draw at most a
# baseline, below `min`.
BARS_JS = """(c, min) => {
  const {width, height} = c;
  const data = c.getContext('2d').getImageData(0, 0, width, height).data;
  const tall = [];
  for (let x = 0; x < width; x++) {
    let top = height;
    for (let y = 0; y < height; y++) if (data[(y * width + x) * 4 + 3] > 200) { top = y; break; }
    tall.push(height - top);
  }
  const bars = [];
  let start = -1;
  for (let x = 0; x <= width; x++) {
    const up = x < width && tall[x] > min;
    if (up && start < 0) start = x;
    if (!up && start >= 0) {
      bars.push([(start + x - 1) / 2 / width, Math.max(...tall.slice(start, x))]);
      start = -1;
    }
  }
  return bars;
}"""


@pytest.fixture(scope="module")
def scripted_group(server: Server, ingest_key: str) -> str:
    """Report the scripted occurrences; returns the group's fingerprint."""
    now = time.time()
    errors = [
        {"type": "LookupError", "message": MESSAGE, "service": "inventory", "ts": now - hours * 3600}
        for hours, count in SCRIPT.items()
        for _ in range(count)
    ]
    sent = requests.post(
        f"{server.url}/v1/errors", json={"errors": errors}, headers={"Authorization": f"Bearer {ingest_key}"}
    )
    assert sent.status_code == 202, sent.text
    groups = server.api("GET", "/api/errors").json()["errors"]
    (group,) = [g for g in groups if g["message"] == MESSAGE]
    fingerprint: str = group["fingerprint"]
    return fingerprint


def drawn_bars(tab: Session, fingerprint: str) -> list[tuple[float, int]]:
    tab.open("errors")
    # sparklines are drawn as their rows come into view: bring this one there
    tab.page.locator(".error-groups li", has_text=MESSAGE).scroll_into_view_if_needed()
    mark = f"vigil:chart-drawn:err-spark-{fingerprint}"
    tab.page.wait_for_function(f"() => performance.getEntriesByName({mark!r}).length > 0")
    canvas = tab.page.locator(".error-groups li", has_text=MESSAGE).locator(".err-spark canvas")
    return [(x, h) for x, h in canvas.evaluate(BARS_JS, 3)]


def assert_bars_follow_the_counts(bars: list[tuple[float, int]]) -> None:
    assert len(bars) == len(SCRIPT), bars
    # slot i of 24 (hours ago 23 - i) is centred at (i + 0.5) / 24 of the width
    for (x, _), hours in zip(bars, sorted(SCRIPT, reverse=True), strict=True):
        assert abs(x - (23 - hours + 0.5) / 24) < 1 / 48, (x, hours)
    (_, h8), (_, h4), (_, h2) = bars
    assert h8 > h4 > h2 > 3
    assert abs(h4 / h8 - 0.5) < 0.15 and abs(h2 / h8 - 0.25) < 0.12, bars


def test_the_errors_list_draws_each_groups_hourly_occurrences_as_bars(
    tab: Session, scripted_group: str
) -> None:
    assert_bars_follow_the_counts(drawn_bars(tab, scripted_group))
    row = tab.page.locator(".error-groups li", has_text=MESSAGE)
    label = row.locator(".err-spark [role=img]").get_attribute("aria-label") or ""
    assert re.fullmatch(r"14 in the last 24 h, peak 8 at \d\d:00", label), label
    assert row.locator(".err-service").inner_text().strip() == "inventory"
    assert tab.console.errors == []


def test_the_sparkline_draws_the_same_in_dark_mode_on_a_phone_without_sideways_scroll(
    open_tab: OpenTab, scripted_group: str
) -> None:
    tab = open_tab(width=390, height=844, color_scheme="dark")
    assert_bars_follow_the_counts(drawn_bars(tab, scripted_group))
    assert tab.page.evaluate(OVERFLOW_JS) <= 0
    assert tab.console.errors == []


@pytest.fixture(scope="module")
def many_groups(server: Server, ingest_key: str) -> int:
    """60 more error groups, an hour old, so the list is several screens long; returns how many
    groups the list has."""
    now = time.time()
    errors = [{"type": f"BulkError{i:02d}", "message": "bulk", "ts": now - 3600 - i} for i in range(60)]
    sent = requests.post(
        f"{server.url}/v1/errors", json={"errors": errors}, headers={"Authorization": f"Bearer {ingest_key}"}
    )
    assert sent.status_code == 202, sent.text
    return len(server.api("GET", "/api/errors", params={"limit": 1000}).json()["errors"])


SPARKS_DRAWN_JS = "() => new Set(performance.getEntriesByType('mark').map((m) => m.name)"
SPARKS_DRAWN_JS += ".filter((n) => n.startsWith('vigil:chart-drawn:err-spark-'))).size"


def test_a_long_errors_list_draws_only_the_sparklines_scrolled_to(tab: Session, many_groups: int) -> None:
    tab.open("errors")
    tab.page.locator(".error-groups li").nth(many_groups - 1).wait_for(state="attached")
    tab.page.wait_for_function(f"() => ({SPARKS_DRAWN_JS})() > 0")
    assert 0 < tab.page.evaluate(f"({SPARKS_DRAWN_JS})()") < many_groups / 2
    last = tab.page.locator(".error-groups li").nth(many_groups - 1)
    last.scroll_into_view_if_needed()
    last.locator(".err-spark canvas").wait_for()
    assert tab.console.errors == []
