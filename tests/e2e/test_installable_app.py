"""The installable app in real Chromium, Lighthouse-style: a valid manifest whose icons load, a
service worker that registers and controls the page, and an offline reload (at phone width) that
shows the shell with a clear offline state and the last data the tab had — under the shared CSP,
without console errors other than the failed requests being offline causes."""

from __future__ import annotations

import struct

import requests

from tests.e2e.conftest import OpenTab, Session, open_overview_with_current_kpis
from tests.e2e.seeding import Server

OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "ERR_FAILED")


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def test_the_manifest_names_the_app_its_start_and_icons_that_load(tab: Session, server: Server) -> None:
    href = tab.page.get_attribute("link[rel=manifest]", "href")
    answer = requests.get(f"{server.url}/{href}", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["name"] and manifest["short_name"] == "Vigil"
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("./")
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    wanted = {(f"{n}x{n}", purpose) for n in (192, 512) for purpose in ("any", "maskable")}
    assert wanted <= purposes
    for icon in manifest["icons"]:
        image = requests.get(f"{server.url}/{icon['src']}", timeout=10)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        size = int(icon["sizes"].split("x")[0])
        assert _png_size(image.content) == (size, size)
    schemes = tab.page.locator("meta[name=theme-color]").evaluate_all("els => els.map(e => e.media)")
    assert sorted(schemes) == ["(prefers-color-scheme: dark)", "(prefers-color-scheme: light)"]
    tab.page.click("#theme-toggle")  # light → dark: the installed app's title bar follows
    colours = tab.page.locator("meta[name=theme-color]").evaluate_all("els => els.map(e => e.content)")
    assert colours == ["#181c23", "#181c23"]
    assert tab.console.errors == []


def test_the_service_worker_registers_controls_the_page_and_is_never_cached(
    tab: Session, server: Server
) -> None:
    tab.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    scope = tab.page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == f"{server.url}/"
    assert requests.get(f"{server.url}/sw.js", timeout=10).headers["cache-control"] == "no-cache"
    names = tab.page.evaluate("async () => await caches.keys()")
    assert len(names) == 1 and names[0].startswith("vigil-shell-")
    cached = tab.page.evaluate(
        "async () => (await (await caches.open((await caches.keys())[0])).keys()).map(r => r.url)"
    )
    assert not [url for url in cached if "/api/" in url or "/v1/" in url]  # no API answer, ever
    assert tab.console.errors == []


def _go_offline_and_reload(tab: Session, forget_kept: bool = False) -> None:
    tab.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    tab.page.context.set_offline(True)
    if forget_kept:  # offline first, so no answer still in flight is kept after this
        tab.page.evaluate(
            "Object.keys(sessionStorage).filter(k => k.startsWith('vigil.last:'))"
            ".forEach(k => sessionStorage.removeItem(k))"
        )
    tab.page.reload()
    tab.page.wait_for_selector("main#main")


def test_an_offline_reload_at_phone_width_shows_the_shell_and_the_last_data(
    open_tab: OpenTab, server: Server, ingest_key: str
) -> None:
    tab = open_overview_with_current_kpis(open_tab, server, ingest_key, width=390, height=844)
    _go_offline_and_reload(tab)
    banner = tab.page.wait_for_selector(".banner.offline")
    assert "Offline — showing the last data this tab had" in (banner.text_content() or "")
    cpu = tab.page.text_content("[data-kpi=cpu] .kpi-value") or ""
    assert cpu.endswith("%") and any(ch.isdigit() for ch in cpu)  # the kept answer, not a blank card
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
    assert [e for e in tab.console.errors if not any(n in e for n in OFFLINE_NOISE)] == []


def test_an_offline_reload_without_kept_data_says_data_is_unavailable(
    open_tab: OpenTab, server: Server, ingest_key: str
) -> None:
    tab = open_overview_with_current_kpis(open_tab, server, ingest_key)
    _go_offline_and_reload(tab, forget_kept=True)
    banner = tab.page.wait_for_selector(".banner.offline")
    assert (banner.text_content() or "").strip() == "Offline — showing the app; data unavailable."
    assert tab.page.is_visible("header.top .brand")


def test_signing_out_forgets_the_kept_answers(open_tab: OpenTab, server: Server, ingest_key: str) -> None:
    tab = open_overview_with_current_kpis(open_tab, server, ingest_key)
    kept = "() => Object.keys(sessionStorage).filter(k => k.startsWith('vigil.last:')).length"
    assert tab.page.evaluate(kept) > 0
    tab.page.click("button[title='Sign out']")
    tab.page.wait_for_selector("#token")
    assert tab.page.evaluate(kept) == 0


def test_visiting_the_status_page_never_replaces_the_cached_shell(tab: Session, server: Server) -> None:
    tab.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    tab.page.goto(f"{server.url}/status")  # a page of the same origin, not the app
    shell = tab.page.evaluate(
        "async () => { const c = await caches.open((await caches.keys())[0]);"
        " return (await (await c.match('/index.html')).text()); }"
    )
    assert 'id="app"' in shell and "manifest.webmanifest" in shell
