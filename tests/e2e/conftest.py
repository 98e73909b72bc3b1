"""Browser fixtures: one seeded `vigil serve` and one Debian Chromium per test session, a fresh
browser context per test, and console-error capture (any console error or uncaught exception fails
the test that caused it). All browser tests share the xdist group "browser" so they run on one
worker next to one server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.e2e.seeding import Server, running_server, seed, top_up

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # a 2 s evaluation interval lets the alert test see a rule fire within seconds
    with running_server(tmp_path_factory.mktemp("vigil") / "data", interval="2") as srv:
        yield srv


@pytest.fixture(scope="session")
def ingest_key(server: Server) -> str:
    return seed(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium (make chromium)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)

    def on_message(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def on_error(self, exc: Any) -> None:
        self.errors.append(f"uncaught: {exc}")


@dataclass
class Session:
    """A signed-in tab and the console errors it produced."""

    page: Page
    console: Console
    base: str

    def open(self, route: str) -> None:
        """Navigate within the app (hash route) and let it render."""
        self.page.goto(f"{self.base}/#/{route}")
        self.page.wait_for_selector("main#main")


OpenTab = Callable[..., Session]


def watched_page(
    browser: Browser,
    width: int = 1280,
    height: int = 860,
    sign_in: tuple[str, str] | None = None,
    color_scheme: str = "light",
) -> tuple[BrowserContext, Page, Console]:
    """A new context and page whose console errors are collected; `sign_in`: (server URL, token) to
    sign in with first. The caller closes the context."""
    ctx = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=color_scheme,  # type: ignore[arg-type]
        accept_downloads=True,
    )
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_error)
    if sign_in:
        page.goto(f"{sign_in[0]}/#token={sign_in[1]}")
        page.wait_for_selector("main#main")
    return ctx, page, console


def open_session(
    browser: Browser,
    server: Server,
    contexts: list[BrowserContext],
    *,
    token: str | None = None,
    width: int = 1280,
    height: int = 860,
    color_scheme: str = "light",
    sign_in: bool = True,
) -> Session:
    """A fresh browser context on `server` (kept in `contexts` for closing), signed in by default."""
    credentials = (server.url, token or server.admin_token) if sign_in else None
    ctx, page, console = watched_page(browser, width, height, credentials, color_scheme)
    contexts.append(ctx)
    return Session(page, console, server.url)


@pytest.fixture
def open_tab(browser: Browser, server: Server, ingest_key: str) -> Iterator[OpenTab]:
    contexts: list[BrowserContext] = []

    def make(**kw: Any) -> Session:
        return open_session(browser, server, contexts, **kw)

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def tab(open_tab: OpenTab) -> Session:
    return open_tab()


@pytest.fixture
def viewer_token(server: Server) -> str:
    created = server.api("POST", "/api/keys", json={"name": "wallboard", "role": "viewer"})
    assert created.status_code == 201, created.text
    token: str = created.json()["key"]
    return token


# Past 20 hosts (other tests add theirs to the session's server) the overview's cards come from the
# fleet job's snapshot, built every minute: a topped-up minute shows once it is built.
KPI_SHOWN = "() => (document.querySelector('[data-kpi=cpu] .kpi-value') || {}).textContent?.endsWith('%')"


def open_overview_with_current_kpis(open_tab: OpenTab, server: Server, ingest_key: str, **kw: Any) -> Session:
    """A tab on the overview once its CPU card shows a value: the seeded hosts are topped up first (the
    cards cover only the last few agent intervals), then the live refresh is waited for."""
    top_up(server, ingest_key)
    tab = open_tab(**kw)
    tab.page.wait_for_function(KPI_SHOWN, timeout=150_000)
    return tab
