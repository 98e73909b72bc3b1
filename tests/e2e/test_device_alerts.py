"""Web Push in real Chromium: the Settings "Alerts on this device" toggle and the service worker's
`push` handler.

What headless Chromium allows, and so what is tested here: a Playwright browser context is an
incognito profile, where Chromium refuses every push subscription ("Registration failed - permission
denied", crbug 41124656); a persistent profile tries to reach Google's push service, which this
machine cannot, and hangs. So the toggle is tested up to the real `pushManager.subscribe` call (its
arguments recorded by a spy that then calls Chromium's own method): permission asked, the server's
VAPID key passed as `applicationServerKey`, Chromium's refusal shown, nothing stored. The POST of a
subscription is covered through the API (tests/functional/push). The worker's `push` handler is driven
by DevTools' `ServiceWorker.deliverPushMessage` (what a push service would hand the browser, already
decrypted), and the notification it shows is read back; clicking a notification is not scriptable
headless, so `notificationclick` is untested."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.e2e.conftest import OpenTab, Session
from tests.e2e.seeding import Server
from tests.waiting import wait_until

SPY = """
(() => {
  const original = PushManager.prototype.subscribe;
  window.__subscribeCalls = [];
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__subscribeCalls.push({ userVisibleOnly: options.userVisibleOnly, key: Array.from(key) });
    return original.call(this, options);
  };
})();
"""


def signed_in_with_worker(open_tab: OpenTab, server: Server, *, notifications: bool) -> Session:
    session = open_tab()
    if notifications:
        session.page.context.grant_permissions(["notifications"], origin=server.url)
    session.page.context.add_init_script(SPY)
    session.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    session.page.reload()
    session.open("settings")
    session.page.wait_for_selector("#device-alerts-toggle:not([disabled])")
    return session


def test_the_toggle_asks_permission_and_subscribes_with_the_servers_vapid_key(
    open_tab: OpenTab, server: Server
) -> None:
    tab = signed_in_with_worker(open_tab, server, notifications=True)
    page = tab.page
    assert page.get_attribute("#device-alerts-toggle", "aria-pressed") == "false"

    page.click("#device-alerts-toggle")

    page.wait_for_selector("#device-alerts-error")
    (call,) = page.evaluate("window.__subscribeCalls")
    public_key = server.api("GET", "/api/push/vapid-public-key").json()["public_key"]
    assert call["userVisibleOnly"] is True
    assert base64.urlsafe_b64encode(bytes(call["key"])).decode().rstrip("=") == public_key
    assert "Registration failed" in page.inner_text("#device-alerts-error")  # Chromium's own refusal
    assert page.get_attribute("#device-alerts-toggle", "aria-pressed") == "false"
    incognito = "does not support the Push API in incognito"
    assert [e for e in tab.console.errors if incognito not in e] == []


def test_without_notification_permission_the_toggle_explains_and_does_not_subscribe(
    open_tab: OpenTab, server: Server
) -> None:
    tab = signed_in_with_worker(open_tab, server, notifications=False)
    tab.page.click("#device-alerts-toggle")
    tab.page.wait_for_selector("#device-alerts-error")
    assert "Notifications are blocked" in tab.page.inner_text("#device-alerts-error")
    assert tab.page.evaluate("window.__subscribeCalls") == []
    assert tab.console.errors == []


def test_the_service_worker_shows_a_pushed_alert_as_a_notification(open_tab: OpenTab, server: Server) -> None:
    tab = open_tab()
    page = tab.page
    page.context.grant_permissions(["notifications"], origin=server.url)
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")

    def ours() -> list[dict[str, Any]]:
        page.evaluate("0")  # a round trip lets Playwright dispatch the DevTools events received
        return [r for r in registrations if r["scopeURL"] == f"{server.url}/" and not r["isDeleted"]][:1]

    (registration,) = wait_until(ours, what="the service worker's registration", timeout=30)
    pushed = {
        "title": "[FIRING] CPU on fire (host=web-1)",
        "body": "avg(system.cpu.utilization) over 2m is 97% (alert when > 90%).",
        "url": f"{server.url}/#/alerts?rule=r-1",
        "severity": "critical",
        "status": "firing",
    }
    message = {"origin": f"{server.url}/", "registrationId": registration["registrationId"]}
    cdp.send("ServiceWorker.deliverPushMessage", {**message, "data": json.dumps(pushed)})
    listed = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
        .map((n) => ({title: n.title, body: n.body, url: n.data.url, sticky: n.requireInteraction}))"""
    shown = wait_until(lambda: page.evaluate(listed), what="the notification the worker shows", timeout=30)
    assert shown == [{"title": pushed["title"], "body": pushed["body"], "url": pushed["url"], "sticky": True}]
    assert tab.console.errors == []
