"""Charts with more points than pixel columns draw each column's first, lowest, highest and last sample
(`frontend/src/decimate.js`): in real Chromium the decimated chart must look like the chart of every
point, before and after a drag-zoom, and its tooltip must show real samples. The bench page draws
60,000 points x 2 series of a known formula; `decimate=0` draws every point, `now` fixes the times."""

from __future__ import annotations

import base64
import math

import numpy as np
from playwright.sync_api import Page

from tests.e2e.conftest import OpenTab

POINTS = 60_000
NOW = 1_700_000_000
CANVAS = "#app .chart-box canvas"
BOX = "#app .chart-box"
PIXELS_JS = """(sel) => {
  const c = document.querySelector(sel);
  const bytes = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768));
  return { w: c.width, h: c.height, b64: btoa(s) };
}"""


def value_at(i: int, s: int) -> float:
    """The bench page's sample i of series s (0-based), as `bench.jsx` makes it."""
    return 50 + 30 * math.sin(i / 500 + s) + 10 * math.sin(i / 13) + ((i * 7919 + s * 104729) % 100) / 20


def open_bench(page: Page, base: str, decimate: bool) -> None:
    page.goto(f"{base}/#/bench?points={POINTS}&series=2&now={NOW}&decimate={int(decimate)}")
    page.reload()  # a fresh document: the bench page renders on load
    page.wait_for_function("() => window.vigilBench !== undefined", timeout=20000)


def pixels(page: Page) -> np.ndarray:
    got = page.evaluate(PIXELS_JS, CANVAS)
    return np.frombuffer(base64.b64decode(got["b64"]), dtype=np.uint8).reshape(got["h"], got["w"], 4)


def drawn_points(page: Page) -> int:
    return int(page.locator(BOX).get_attribute("data-points") or 0)


def ink_extents(rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel column, the highest and lowest row of the series' strokes (saturated colour: not the
    grey grid, axes or labels); -1 where a column has none."""
    rgb = rgba[:, :, :3].astype(int)
    ink = (rgb.max(axis=2) - rgb.min(axis=2) > 60) & (rgba[:, :, 3] > 128)
    rows = np.arange(ink.shape[0])[:, None]
    top = np.where(ink.any(axis=0), np.where(ink, rows, 1 << 20).min(axis=0), -1)
    bottom = np.where(ink.any(axis=0), np.where(ink, rows, -1).max(axis=0), -1)
    return top, bottom


def widened(extent: np.ndarray, pick: np.ufunc) -> np.ndarray:
    """Each column's extent widened to its two neighbours (a sample near a column's edge may draw in
    the next one: the decimation's columns are the canvas', not the plot's)."""
    padded = np.pad(extent, 1, mode="edge")
    return pick.reduce(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)


def assert_same_line(whole: np.ndarray, thin: np.ndarray) -> None:
    """Every column's highest and lowest stroke pixel of one chart is within a pixel (sideways) and two
    (up or down, antialiasing) of the other's: no extreme lost, none invented."""
    assert whole.shape == thin.shape
    (wt, wb), (tt, tb) = ink_extents(whole), ink_extents(thin)
    assert (wt >= 0).mean() > 0.9 and ((wt >= 0) == (tt >= 0)).mean() > 0.99
    drawn = (wt >= 0) & (tt >= 0)
    for a_top, a_bottom, b_top, b_bottom in ((wt, wb, tt, tb), (tt, tb, wt, wb)):
        assert np.all(widened(b_top, np.minimum)[drawn] <= a_top[drawn] + 2)
        assert np.all(widened(b_bottom, np.maximum)[drawn] >= a_bottom[drawn] - 2)


def drag_zoom(page: Page) -> None:
    """Drag across 40 pixels of the plot (about a thirtieth of it): uPlot zooms the x scale there."""
    over = page.locator("#app .u-over").bounding_box()
    assert over is not None
    x, y = over["x"] + over["width"] * 0.4, over["y"] + over["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.up()


def test_a_decimated_chart_draws_what_every_point_draws_before_and_after_a_zoom(open_tab: OpenTab) -> None:
    whole, thin = open_tab(), open_tab()
    open_bench(whole.page, whole.base, decimate=False)
    open_bench(thin.page, thin.base, decimate=True)
    assert drawn_points(whole.page) == POINTS
    assert drawn_points(thin.page) < POINTS / 5  # at most 8 a column for two series on 1,280 px
    assert_same_line(pixels(whole.page), pixels(thin.page))

    for tab in (whole, thin):
        drag_zoom(tab.page)
    # zoomed into ~2,000 samples, the decimated chart draws every one of them (and the ends)
    thin.page.wait_for_function(f"() => +document.querySelector('{BOX}').dataset.points < 4000")
    assert drawn_points(thin.page) > 1000
    assert_same_line(pixels(whole.page), pixels(thin.page))

    # a double click resets the zoom: the whole range again, decimated
    for tab in (whole, thin):
        tab.page.locator("#app .u-over").dblclick()
    thin.page.wait_for_function(f"() => +document.querySelector('{BOX}').dataset.points > 4000")
    assert_same_line(pixels(whole.page), pixels(thin.page))

    # a narrower window: fewer pixel columns, so fewer points drawn
    before = drawn_points(thin.page)
    thin.page.set_viewport_size({"width": 700, "height": 860})
    thin.page.wait_for_function(f"() => +document.querySelector('{BOX}').dataset.points < {before * 0.7}")
    assert whole.console.errors == [] and thin.console.errors == []


def test_the_tooltip_of_a_decimated_chart_shows_the_sample_at_its_time(open_tab: OpenTab) -> None:
    tab = open_tab()
    open_bench(tab.page, tab.base, decimate=True)
    over = tab.page.locator("#app .u-over").bounding_box()
    assert over is not None
    first = NOW - POINTS * 10
    for share in (0.1, 0.37, 0.5, 0.83):
        tab.page.mouse.move(over["x"] + over["width"] * share, over["y"] + over["height"] / 2)
        tip = tab.page.locator("#app .chart-tip")
        tip.wait_for(state="visible")
        when = tip.locator(".tip-time").inner_text()
        # the tooltip's clock is the browser's local time: read it back the same way
        t = tab.page.evaluate("(s) => new Date(s.replace(' ', 'T')).getTime() / 1000", when)
        i = round((t - first) / 10)
        assert 0 <= i < POINTS, when
        shown = [float(b.split()[0]) for b in tip.locator("b").all_inner_texts()]
        expected = [value_at(i, 0), value_at(i, 1)]
        # three significant digits shown ("61.2 %"): within half a tenth of the sample
        assert all(math.isclose(a, b, abs_tol=0.051) for a, b in zip(shown, expected, strict=True)), (
            when,
            shown,
            expected,
        )
    assert tab.console.errors == []
