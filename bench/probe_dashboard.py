"""Where the overview's load time goes (a probe, not a benchmark): one seeded `vigil serve`, the server
left to settle (its tree idle: no scheduled job running), then `--runs` cold loads of the overview in
fresh browser contexts; prints the median timeline of each load — the document, each script and
stylesheet, each API request (start → end), the app's own marks (`vigil:*`) — from Playwright's
resource timings.

    .venv/bin/python -m bench.probe_dashboard [--data-dir /tmp/probe-data] [--runs 7] [--remembered]
        [--refresh]

`--data-dir`: reuse a seeded data directory (seeded on the first use: 20 hosts x 7 days at 60 s and
rolled up, as `bench_dashboard`). `--remembered`: reuse one browser context, so the second and later
loads have what a returning user's localStorage holds. `--refresh`: after each load, the timeline of
three live-refresh cycles (`window.vigil.refreshNow()`, what `bench_dashboard`'s `refresh_ms` times)
instead of the load's.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.bench_dashboard import CHARTS_DRAWN, roll_up, seed_fleet, settled
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.seeding import running_server

TIMELINE_JS = """() => {
  const short = (n) => n.replace(location.origin, '')
    .replace(/[?].*/, (q) => q.length > 40 ? q.slice(0, 40) + '…' : q);
  const nav = performance.getEntriesByType('navigation')[0];
  const rows = [['document', nav.requestStart, nav.responseEnd]];
  for (const e of performance.getEntriesByType('resource')) {
    rows.push([short(e.name), e.startTime, e.responseEnd]);
  }
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('vigil:')) rows.push([m.name, m.startTime, m.startTime]);
  }
  rows.push(['domInteractive', nav.domInteractive, nav.domInteractive]);
  return rows;
}"""


# the requests and marks of the last refresh cycle, relative to its start
REFRESH_JS = """() => {
  const start = performance.getEntriesByName('vigil:refresh-start').at(-1).startTime;
  const short = (n) => n.replace(location.origin, '')
    .replace(/[?].*/, (q) => q.length > 40 ? q.slice(0, 40) + '…' : q);
  const rows = [];
  for (const e of performance.getEntriesByType('resource')) {
    if (e.startTime >= start) rows.push([short(e.name), e.startTime - start, e.responseEnd - start]);
  }
  const cycle = performance.getEntriesByName('vigil:refresh').at(-1);
  rows.push(['vigil:refresh', cycle.duration, cycle.duration]);
  return rows;
}"""


def timelines(
    url: str, token: str, runs: int, remembered: bool, refresh: bool = False
) -> list[list[tuple[str, float, float]]]:
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        for i in range(runs + (1 if remembered else 0)):
            if not remembered:
                ctx.close()
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            page.goto(f"{url}/#token={token}")
            page.wait_for_function(CHARTS_DRAWN, timeout=30000)
            rows = [(str(n), float(a), float(b)) for n, a, b in page.evaluate(TIMELINE_JS)]
            if refresh:
                for _ in range(3):
                    page.evaluate("window.vigil.refreshNow()")
                    out.append([(str(n), float(a), float(b)) for n, a, b in page.evaluate(REFRESH_JS)])
                page.close()
                continue
            page.close()
            if remembered and i == 0:
                continue  # the first load fills localStorage
            out.append(rows)
        ctx.close()
        browser.close()
    return out


def report(loads: list[list[tuple[str, float, float]]]) -> None:
    starts: dict[str, list[float]] = defaultdict(list)
    ends: dict[str, list[float]] = defaultdict(list)
    for rows in loads:
        seen: dict[str, int] = defaultdict(int)
        for name, a, b in rows:
            seen[name] += 1
            key = name if seen[name] == 1 else f"{name} #{seen[name]}"
            starts[key].append(a)
            ends[key].append(b)
    order = sorted(starts, key=lambda k: statistics.median(starts[k]))
    print(f"{'median of ' + str(len(loads)) + ' loads':<64}{'start':>8}{'end':>8}{'took':>7}  (ms)")
    for key in order:
        a, b = statistics.median(starts[key]), statistics.median(ends[key])
        took = f"{b - a:7.0f}" if b > a else ""
        print(f"{re.sub(r'^/', '', key)[:64]:<64}{a:8.0f}{b:8.0f}{took}  (n={len(starts[key])})")
    for mark in ("vigil:charts-drawn", "vigil:refresh"):
        took = [r[1] for rows in loads for r in rows if r[0] == mark]
        if took:
            print(
                f"{mark}: median {statistics.median(took):.0f} ms, min {min(took):.0f}, max {max(took):.0f}"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, help="a seeded data directory to reuse (seeded when absent)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--remembered", action="store_true", help="one context: localStorage kept between loads")
    ap.add_argument("--refresh", action="store_true", help="time live-refresh cycles after each load")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp) / "data"
        fresh = not (data / "vigil.sqlite3").exists()
        data.mkdir(parents=True, exist_ok=True)
        with running_server(data) as server:
            if fresh:
                t0 = time.perf_counter()
                seed_fleet(server, hosts=20, days=7.0, step=60, list_hosts=100)
                roll_up(server)  # as bench_dashboard: else the fine tier's hours stay marked dirty
                print(f"seeded and rolled up in {time.perf_counter() - t0:.0f} s")
            print(f"settled after {settled(server):.1f} s")
            report(timelines(server.url, server.admin_token, args.runs, args.remembered, args.refresh))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
