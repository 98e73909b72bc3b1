"""Regenerate the dashboard screenshots in docs/screenshots/ (desktop, phone, dark) from a freshly
seeded local server: `.venv/bin/python -m tests.e2e.screenshots`. Not collected by pytest."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

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


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data", interval="2") as server:
        key = seed(server, minutes=24 * 60, step=120)
        seed_trace(server, key)
        # one overloaded host, so the overview shows a KPI near its threshold and a firing alert
        now = time.time()
        hot = [{"metric": "system.cpu.utilization", "ts": now - i * 10, "value": 0.97} for i in range(36)]
        push(server, key, "hot-1", iter(hot))
        wait_until(
            lambda: server.api("GET", "/api/alerts").json()["firing"], timeout=60, what="an alert to fire"
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, route, width, height, scheme, full in SHOTS:
                ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)  # type: ignore[arg-type]
                page = ctx.new_page()
                page.goto(f"{server.url}/#token={server.admin_token}")
                page.wait_for_selector("main#main")
                page.goto(f"{server.url}/#/{route}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
                ctx.close()
                print(f"wrote docs/screenshots/{name}.png")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
