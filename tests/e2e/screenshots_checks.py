"""Screenshots of the Checks page and the public status page for docs/screenshots/:
`.venv/bin/python -m tests.e2e.screenshots_checks`. An in-process server with three checks holding an
hour of phase samples, one that went down and came back (an incident on the status page) and one on a
closed port (down). Not collected by pytest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from tests.conftest import ADMIN_TOKEN
from tests.e2e.checks_seed import server_with_incident
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.screenshots import shoot


def main() -> int:
    with (
        tempfile.TemporaryDirectory() as tmp,
        server_with_incident(Path(tmp) / "data", history=True) as server,
    ):
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        checks = requests.get(f"{server.url}/api/checks", headers=auth, timeout=30).json()
        shop = next(c["id"] for c in checks if c["name"] == "Web shop")
        shots = [
            # name, route (None: the public status page), width, height, colour scheme
            ("checks-desktop", "checks", 1280, 600, "light"),
            ("check-page-desktop", f"checks?check={shop}&range=1h", 1280, 900, "light"),
            ("check-editor", f"checks?check={shop}&edit=1", 1280, 700, "light"),
            ("checks-phone-dark", "checks", 390, 844, "dark"),
            ("check-page-phone-dark", f"checks?check={shop}&range=1h", 390, 844, "dark"),
            ("status-page", None, 1280, 900, "light"),
        ]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, route, width, height, scheme in shots:
                url = f"{server.url}/status" if route is None else f"{server.url}/#/{route}"
                shoot(browser, url, None if route is None else ADMIN_TOKEN, name, width, height, scheme, True)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
