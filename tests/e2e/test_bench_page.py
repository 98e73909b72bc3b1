"""The chart benchmark page (`#/bench`, what `bench_dashboard`'s `render_60k_ms` reads) in real
Chromium: its clock runs from the page's first render to the chart's first draw, not from a later
render of the page."""

from __future__ import annotations

from tests.e2e.conftest import OpenTab

DONE = """() => window.vigilBench !== undefined
  && performance.getEntriesByName('vigil:me').length > 0
  && performance.getEntriesByName('vigil:chart-drawn:bench').length > 0"""
CLOCK = """() => ({
  starts: performance.getEntriesByName('vigil:bench-start').map(m => m.startTime),
  drawn: performance.getEntriesByName('vigil:chart-drawn:bench')[0].startTime,
  renders: window.vigilBench.renders,
  renderMs: window.vigilBench.renderMs,
})"""


def test_the_bench_pages_render_time_runs_from_its_first_render_to_the_charts_first_draw(
    open_tab: OpenTab,
) -> None:
    tab = open_tab()
    tab.page.goto(f"{tab.base}/#/bench?points=2000&series=2")
    tab.page.reload()  # a fresh document, signed in from sessionStorage, as the bench loads it
    tab.page.wait_for_function(DONE, timeout=15000)
    # the app renders the page again once `/api/me` answered: the clock must not restart there
    tab.page.wait_for_function("() => window.vigilBench.renders > 1", timeout=15000)
    clock = tab.page.evaluate(CLOCK)
    assert len(clock["starts"]) == 1
    assert clock["starts"][0] < clock["drawn"]
    assert abs(clock["renderMs"] - (clock["drawn"] - clock["starts"][0])) < 2
    assert tab.console.errors == []
