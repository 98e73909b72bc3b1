"""Regenerate the dashboard screenshots in docs/screenshots/ (desktop, phone, dark) from a freshly
seeded local server: `.venv/bin/python -m tests.e2e.screenshots [--only issue15|errors] [--suffix
-before]`. The seed has a hot host, a firing critical alert, a host reporting every 30 s and a day of
one error's occurrences. Not collected by pytest."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.seeding import REPO, TRACE_ID, push, running_server, seed, seed_trace
from tests.waiting import wait_until

OUT = REPO / "docs" / "screenshots"
SHOTS = [
    # name, route, width, height, colour scheme, full page
    ("overview-desktop", "overview", 1280, 900, "light", True),
    ("overview-phone", "overview", 375, 812, "light", True),
    ("overview-dark", "overview", 1280, 900, "dark", True),
    (
        "explorer-desktop",
        "explorer?metric=http.server.request.duration&agg=p95&range=24h&type=area",
        1280,
        760,
        "light",
        False,
    ),
    ("hosts-dark", "hosts", 1280, 600, "dark", False),
    ("alerts-rule-editor", "alerts?tab=rules&rule=new", 1280, 900, "light", True),
    ("errors-phone-dark", "errors", 375, 812, "dark", False),
    ("trace-waterfall", f"traces?id={TRACE_ID}", 1280, 600, "light", False),
]
# issue 15: the overview with a hot host and firing alerts, a host page, 30 s data, alerts on a phone
ISSUE15 = [
    ("hot-overview-desktop", "overview", 1280, 1000, "light", True),
    ("hot-overview-dark", "overview", 1280, 1000, "dark", True),
    ("hot-overview-phone", "overview", 390, 844, "light", True),
    ("host-page-desktop", "hosts?host=hot-1", 1280, 1000, "light", True),
    ("host-page-dark", "hosts?host=hot-1", 1280, 1000, "dark", True),
    ("host-page-phone", "hosts?host=hot-1", 390, 844, "light", True),
    (
        "explorer-30s-desktop",
        "explorer?metric=system.cpu.utilization&host=sparse-1&range=1h",
        1280,
        760,
        "light",
        False,
    ),
    (
        "explorer-30s-dark",
        "explorer?metric=system.cpu.utilization&host=sparse-1&range=1h",
        1280,
        760,
        "dark",
        False,
    ),
    (
        "explorer-30s-phone",
        "explorer?metric=system.cpu.utilization&host=sparse-1&range=1h",
        390,
        844,
        "light",
        True,
    ),
    ("alerts-phone", "alerts", 390, 844, "light", True),
    ("alerts-phone-dark", "alerts", 390, 844, "dark", True),
    ("hosts-list-desktop", "hosts", 1280, 700, "light", False),
    ("errors-desktop", "errors", 1280, 600, "light", False),
    ("errors-phone", "errors", 390, 844, "light", False),
]
# issue 14: Settings → Cost (the cost panel is the page's last section: full page)
COST = [
    ("settings-cost-desktop", "settings", 1280, 900, "light", True),
    ("settings-cost-phone-dark", "settings", 390, 844, "dark", True),
]


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--only", choices=["all", "issue15", "errors", "cost"], default="all")
    args.add_argument("--suffix", default="", help="appended to each file name, e.g. -before")
    opts = args.parse_args()
    shots = {"issue15": ISSUE15, "cost": COST}.get(opts.only, SHOTS + ISSUE15 + COST)
    if opts.only == "errors":
        shots = [s for s in shots if s[0].startswith("errors")]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data", interval="2") as server:
        key = seed(server, minutes=24 * 60, step=120)
        seed_trace(server, key)
        # one overloaded host, so the overview shows a KPI near its threshold and a firing alert
        now = time.time()
        hot = [{"metric": "system.cpu.utilization", "ts": now - i * 10, "value": 0.97} for i in range(360)]
        hot += [
            {
                "metric": "system.memory.utilization",
                "ts": now - i * 10,
                "value": 0.62,
                "labels": {"state": "used"},
            }
            for i in range(360)
        ]
        hot += [
            {"metric": "system.network.io", "ts": now - i * 10, "value": v, "labels": {"direction": d}}
            for i in range(360)
            for d, v in (("receive", 1.91e6), ("transmit", 0.35e6))
        ]
        push(server, key, "hot-1", iter(hot))
        # a host reporting every 30 s (OpenTelemetry's default export is 60 s)
        sparse = [
            {"metric": "system.cpu.utilization", "ts": now - i * 30, "value": 0.35 + 0.1 * (i % 7) / 7}
            for i in range(120)
        ]
        push(server, key, "sparse-1", iter(sparse))
        # a day of one error's occurrences, busier in the afternoon, for the errors list's sparkline
        burst = [
            {
                "type": "LookupError",
                "message": "sku 42 not in the catalogue",
                "service": "inventory",
                "ts": now - hours * 3600 - k * 60,
            }
            for hours in range(24)
            for k in range(1 + (hours * 7) % 5 + (6 if hours in (5, 6) else 0))
        ]
        server.api("POST", "/v1/errors", token=key, json={"errors": burst})
        rule = {
            "name": "Queue overflow",
            "metric": "app.queue.depth",
            "agg": "max",
            "window": 300,
            "threshold": 100,
            "severity": "critical",
            "group_by": ["host"],
        }
        server.api("POST", "/api/alerts/rules", json=rule)
        push(server, key, "hot-1", iter([{"metric": "app.queue.depth", "ts": now, "value": 512}]))
        wait_until(
            lambda: len(server.api("GET", "/api/alerts").json()["firing"]) >= 2,
            timeout=60,
            what="alerts to fire",
        )
        wait_until(lambda: server.api("GET", "/api/cost").json()["hours"] > 0, what="the first usage flush")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, route, width, height, scheme, full in shots:
                url = f"{server.url}/#/{route}"
                shoot(browser, url, server.admin_token, f"{name}{opts.suffix}", width, height, scheme, full)
            browser.close()
    return 0


def shoot(
    browser: Browser, url: str, token: str | None, name: str, width: int, height: int, scheme: str, full: bool
) -> None:
    """Write docs/screenshots/<name>.png of `url`, signed in with `token` first (None: nobody)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)  # type: ignore[arg-type]
    page = ctx.new_page()
    if token:
        page.goto(f"{url.split('/#/')[0]}/#token={token}")
        page.wait_for_selector("main#main")
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let charts finish their first draw after the last response
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    ctx.close()
    print(f"wrote docs/screenshots/{name}.png")


if __name__ == "__main__":
    raise SystemExit(main())
