"""The charts' dense-line path (`frontend/src/dense.js`) in real Chromium: for series of at least 4
points per pixel column it replaces uPlot's own path builder (which was most of the 60 k render), so it
must draw exactly what uPlot drew — the same canvas bytes — on data with noise, flat runs, spikes and
steps; with a missing value, a fill or fewer points it must hand the series to uPlot's builder."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.seeding import FRONTEND

# Draws each data set twice, as Chart.jsx configures a line (pxAlign 0, a gaps option), with uPlot's
# linear builder and with denseLine; returns per case whether the canvases are byte-identical and
# whether denseLine drew the path itself (its own paths carry no fill path, uPlot's always do).
HARNESS = """
import uPlot from "uplot";
import { denseLine } from "./src/dense.js";

const N = 60000;
const t0 = 1764800000;
const shapes = {
  noise: (i, s) => 50 + 30 * Math.sin(i / 500 + s) + 10 * Math.sin(i / 13)
    + ((i * 7919 + s * 104729) % 100) / 20,
  flat: (i, s) => (Math.floor(i / 3000) % 2 ? 20 + s : 70),
  spikes: (i, s) => (i % 997 === 0 ? 95 : 10 + s + (i % 7)),
  steps: (i, s) => Math.floor(i / 40) % 5 + s,
};

async function draw(paths, ys, fill) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const built = [];
  let drawn;
  const done = new Promise((resolve) => (drawn = resolve));
  const u = new uPlot({
    width: 1100, height: 300, pxAlign: 0, legend: { show: false },
    scales: { x: { time: true } },
    series: [{}, ...ys.map((_, k) => ({
      stroke: k ? "#c00" : "#06c", width: 2, fill, points: { size: 4 }, gaps: (u, s, a, b, g) => g,
      paths: (u, s, a, b) => { const p = paths(u, s, a, b); built.push(p.fill === null); return p; },
    }))],
    hooks: { draw: [() => drawn()] },
  }, [ys.xs, ...ys], el);
  await done; // uPlot draws in a microtask after it is made
  const c = u.ctx.canvas;
  const bytes = u.ctx.getImageData(0, 0, c.width, c.height).data;
  u.destroy();
  return { bytes, own: built.every(Boolean) };
}

function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function data(shape, n, hole) {
  const xs = Array.from({ length: n }, (_, i) => t0 + i * 10);
  const ys = [0, 1].map((s) => xs.map((_, i) => (hole && i === n >> 1 ? null : shapes[shape](i, s))));
  ys.xs = xs;
  return ys;
}

async function run() {
const out = {};
const cases = Object.keys(shapes).map((k) => [k, N, false, undefined])
  .concat([["gap", N, true, undefined], ["sparse", 3000, false, undefined], ["fill", N, false, "#06c3"]]);
for (const [name, n, hole, fill] of cases) {
  const shape = shapes[name] ? name : "noise";
  const ys = data(shape, n, hole);
  const theirs = await draw(uPlot.paths.linear(), ys, fill);
  const ours = await draw(denseLine, ys, fill);
  out[name] = { same: same(theirs.bytes, ours.bytes), own: ours.own, inked: theirs.bytes.some((v) => v > 0) };
}
return out;
}
window.denseResult = run();
"""


@pytest.fixture(scope="module")
def harness() -> str:
    esbuild = FRONTEND / "node_modules" / ".bin" / "esbuild"
    assert esbuild.exists(), "run `make frontend` first (installs esbuild)"
    return subprocess.run(
        [str(esbuild), "--bundle", "--format=iife", "--loader=js"],  # stdin resolves from cwd
        input=HARNESS,
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx.new_page()
    ctx.close()


def test_dense_series_draw_the_same_pixels_as_uplots_own_path_builder(page: Page, harness: str) -> None:
    page.set_content("<!doctype html><body></body>")
    page.add_script_tag(content=harness)
    result = page.evaluate("window.denseResult")
    for name in ("noise", "flat", "spikes", "steps"):
        assert result[name] == {"same": True, "own": True, "inked": True}, name
    # a missing value, too few points per pixel, a fill: uPlot's builder draws them
    for name in ("gap", "sparse", "fill"):
        assert result[name] == {"same": True, "own": False, "inked": True}, name
