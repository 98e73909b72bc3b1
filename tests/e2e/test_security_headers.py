"""The dashboard runs under the security headers CloudFront sends (one shared definition), in real
Chromium: every page renders with zero console errors and zero CSP violations."""

from __future__ import annotations

import requests

from tests.e2e.conftest import Session
from tests.e2e.seeding import Server
from tests.e2e.test_dashboard import PAGES
from vigil.security_headers import local_headers


def test_every_page_runs_under_the_shared_csp_without_violations_or_console_errors(
    tab: Session, server: Server
) -> None:
    shell = requests.get(f"{server.url}/", timeout=10)
    for name, value in local_headers():
        assert shell.headers[name] == value
    tab.page.evaluate(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))"
    )
    for route, ready in PAGES.items():
        tab.open(route)
        tab.page.wait_for_selector(ready, timeout=10000)
    assert tab.page.evaluate("window.__cspViolations") == []
    assert tab.console.errors == []
