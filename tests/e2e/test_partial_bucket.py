"""Issue 15.5 in real Chromium against the seeded `vigil serve`: a sum over buckets does not draw its
still-filling last bucket as a cliff at the right edge. The assertion measures the line's height per
canvas column (pixels in the series' legend colour), not the DOM."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Session
from tests.e2e.seeding import Server, push

METRIC = "app.e2e.orders_placed"
HOST = "orders-1"
# Per canvas column, how high above the bottom the series colour reaches (0 where it is absent).
HEIGHTS_JS = """(c) => {
  const rgb = getComputedStyle(c.closest('figure').querySelector('.legend-item .sw'))
    .backgroundColor.match(/\\d+/g).map(Number);
  const {width, height} = c;
  const data = c.getContext('2d').getImageData(0, 0, width, height).data;
  const near = (i) => data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) < 40
    && Math.abs(data[i + 1] - rgb[1]) < 40 && Math.abs(data[i + 2] - rgb[2]) < 40;
  const out = [];
  for (let x = 0; x < width; x++) {
    let top = height;
    for (let y = 0; y < height; y++) if (near((y * width + x) * 4)) { top = y; break; }
    out.push(height - top);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def orders(server: Server, ingest_key: str) -> str:
    """One order every 10 s for the last 70 minutes on host orders-1."""
    now = time.time()
    push(
        server,
        ingest_key,
        HOST,
        iter({"metric": METRIC, "ts": now - age, "value": 1} for age in range(0, 4200, 10)),
    )
    return HOST


def early_step(now: float) -> int:
    """A bucket width (10 to 20 min) whose current bucket is less than a fifth full at `now`, so a
    drawn partial bucket would fall far below the full ones."""
    return next(s for s in range(600, 1201) if (now % s) / s < 0.2)


def test_a_sum_chart_leaves_out_its_still_filling_last_bucket(tab: Session, orders: str) -> None:
    step = early_step(time.time())
    tab.open(f"explorer?metric={METRIC}&host={orders}&agg=sum&range=1h&step={step}")
    tab.page.wait_for_function("() => performance.getEntriesByName('vigil:chart-drawn:explorer').length > 0")
    heights = [h for h in tab.page.locator("#explorer-chart canvas").first.evaluate(HEIGHTS_JS) if h > 0]
    assert len(heights) > 50, "no line drawn"
    full = sorted(heights)[len(heights) // 2]  # the full buckets' level (most of the line)
    # the line's right end stays at the full level instead of dropping towards zero
    assert min(heights[-5:]) > 0.8 * full, (heights[-20:], full)
    assert tab.console.errors == []
