"""A live-refresh tick in real Chromium against the seeded server: a query whose answer is still on
its way when a tick comes joins it instead of asking again (the first refresh after a load met the
requests the overview defers until its charts are drawn, and asked for each of them a second time)."""

from __future__ import annotations

from tests.e2e.conftest import OpenTab

CHARTS_DRAWN = "() => performance.getEntriesByName('vigil:charts-drawn').length > 0"
# two ticks in the same task: the second comes while every answer of the first is on its way. Only
# /api/errors and /api/alerts themselves count (with an alert active the rules are asked too).
TWO_TICKS = """async () => {
  const sent = [];
  const seen = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (/\\/api\\/(errors|alerts)(\\?|$)/.test(e.name)) sent.push(e.name);
  });
  seen.observe({ type: 'resource' });
  await Promise.all([window.vigil.refreshNow(), window.vigil.refreshNow()]);
  await new Promise((r) => setTimeout(r, 0));
  seen.takeRecords().forEach((e) => /\\/api\\/(errors|alerts)(\\?|$)/.test(e.name) && sent.push(e.name));
  seen.disconnect();
  return sent;
}"""


def test_a_tick_while_an_answer_is_on_its_way_joins_it(open_tab: OpenTab) -> None:
    tab = open_tab()
    tab.page.wait_for_function(CHARTS_DRAWN, timeout=30000)
    tab.page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => e.name.includes('/api/alerts'))"
    )
    sent = tab.page.evaluate(TWO_TICKS)
    assert sorted(u.split("/api/")[1].split("?")[0] for u in sent) == ["alerts", "errors"]
    assert tab.console.errors == []
