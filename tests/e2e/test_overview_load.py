"""The overview's load path in real Chromium: its critical requests (the hosts, which decide the
default range, and the charts' one series request) leave at boot beside `GET /api/me` instead of after
it, every host comes in one request, and the page reuses those answers rather than asking twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import OpenTab
from tests.e2e.seeding import FRONTEND, Server

CHARTS_DRAWN = "() => performance.getEntriesByName('vigil:charts-drawn').length > 0"
REQUESTS = """() => performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/api/'))
  .map(e => ({url: e.name, start: e.startTime, end: e.responseEnd}))"""


def _requests(tab: Any) -> list[dict[str, Any]]:
    tab.page.wait_for_function(CHARTS_DRAWN, timeout=15000)
    entries: list[dict[str, Any]] = tab.page.evaluate(REQUESTS)
    return entries


def test_the_charts_and_hosts_requests_leave_before_the_role_is_known(
    open_tab: OpenTab, server: Server
) -> None:
    # The order in which the page sends requests and receives answers, as the browser reports them
    # (DevTools' requestWillBeSent / responseReceived, in order). Resource timings' start times were not
    # used: on a loaded machine Chromium stamped a request started in the same task as `/api/me` after
    # `/api/me` had been answered.
    tab = open_tab(sign_in=False)
    events: list[tuple[str, str]] = []
    tab.page.on("request", lambda r: events.append(("sent", r.url)))
    tab.page.on("response", lambda r: events.append(("answered", r.url)))
    tab.page.goto(f"{server.url}/#token={server.admin_token}")
    _requests(tab)

    def first(kind: str, matches: Callable[[str], bool]) -> int:
        return next(i for i, (k, url) in enumerate(events) if k == kind and matches(url))

    me_answered = first("answered", lambda url: url.endswith("/api/me"))
    assert first("sent", lambda url: "/api/metrics/series" in url and "from=-1h" in url) < me_answered
    assert first("sent", lambda url: "/api/hosts" in url) < me_answered
    tab.page.wait_for_function("() => document.querySelector('.role')?.textContent === 'admin'")
    assert tab.console.errors == []


def test_the_page_reuses_the_early_answers_instead_of_asking_again(open_tab: OpenTab) -> None:
    tab = open_tab()
    entries = _requests(tab)
    # the seeded fleet was first seen less than a day ago: the default range is 1 h, as guessed
    charts = [e for e in entries if "/api/metrics/series" in e["url"] and "from=-1h" in e["url"]]
    hosts = [e["url"] for e in entries if "/api/hosts" in e["url"]]
    assert len(charts) == 1
    assert hosts == [hosts[0]] and "limit=1000" in hosts[0] and "cursor=" not in hosts[0]
    assert tab.console.errors == []


MARK = "(name) => performance.getEntriesByName(name)[0].startTime"


def test_the_charts_requests_leave_before_the_apps_modules_are_evaluated(open_tab: OpenTab) -> None:
    # the entry signs in and sends them; the app (pages, uPlot) is a preloaded chunk evaluated after
    tab = open_tab()
    entries = _requests(tab)
    app = float(tab.page.evaluate(MARK, "vigil:app"))
    series = next(e for e in entries if "/api/metrics/series" in e["url"])
    hosts = next(e for e in entries if "/api/hosts" in e["url"])
    assert series["start"] < app and hosts["start"] < app
    preloaded = tab.page.eval_on_selector_all(
        "link[rel=modulepreload]", "links => links.map(l => l.getAttribute('href'))"
    )
    assert any(href.startswith("chunk-start-") for href in preloaded)
    assert tab.console.errors == []


def test_the_bell_the_push_stream_and_the_service_worker_wait_until_the_charts_are_drawn(
    open_tab: OpenTab,
) -> None:
    tab = open_tab()
    entries = _requests(tab)
    drawn = float(tab.page.evaluate(MARK, "vigil:charts-drawn"))
    tab.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)
    entries = tab.page.evaluate(REQUESTS)
    later = [e for e in entries if e["url"].endswith(("/api/notifications", "/api/live/ticket"))]
    assert {e["url"].rsplit("/", 1)[-1] for e in later} == {"notifications", "ticket"}
    assert all(e["start"] >= drawn for e in later)
    sw = tab.page.evaluate("() => performance.getEntriesByName(location.origin + '/sw.js')")
    assert all(e["startTime"] >= drawn for e in sw)
    assert tab.console.errors == []


def test_the_overviews_other_requests_wait_until_its_charts_are_drawn(open_tab: OpenTab) -> None:
    # Sent beside the charts' request they share the server with it (locally one interpreter): the
    # cards, errors, alerts, checks and the badge's /health are asked for once both charts are drawn.
    tab = open_tab()
    _requests(tab)
    drawn = float(tab.page.evaluate(MARK, "vigil:charts-drawn"))
    # a resource timing is recorded once its answer has arrived: wait for all five
    tab.page.wait_for_function(f"() => {DEFERRED_SENT} === {len(DEFERRED)}", timeout=15000)
    later = tab.page.evaluate(DEFERRED_TIMINGS)
    assert len(later) >= len(DEFERRED)
    assert all(e["start"] >= drawn for e in later), (drawn, later)
    assert tab.console.errors == []


DEFERRED = ("/api/metrics", "/api/errors", "/api/alerts", "/api/checks", "/health")  # by exact path
_DEFERRED_ENTRIES = f"""performance.getEntriesByType('resource')
  .filter(e => {list(DEFERRED)!r}.includes(new URL(e.name).pathname))"""
DEFERRED_SENT = f"new Set({_DEFERRED_ENTRIES}.map(e => new URL(e.name).pathname)).size"
DEFERRED_TIMINGS = f"() => {_DEFERRED_ENTRIES}.map(e => ({{url: e.name, start: e.startTime}}))"


# Records every Intl object built and every locale-sensitive builtin called, with when.
INTL_WATCH = """
window.__intl = [];
const note = (what) => window.__intl.push([what, performance.now()]);
const kinds = ['NumberFormat', 'DateTimeFormat', 'Collator', 'PluralRules', 'RelativeTimeFormat'];
for (const kind of kinds) {
  const built = Intl[kind];
  Intl[kind] = new Proxy(built, {
    construct(target, args) { note(kind); return Reflect.construct(target, args); },
    apply(target, self, args) { note(kind); return Reflect.apply(target, self, args); },
  });
}
const methods = [[Number.prototype, 'toLocaleString'], [Date.prototype, 'toLocaleString'],
  [Date.prototype, 'toLocaleDateString'], [Date.prototype, 'toLocaleTimeString'],
  [String.prototype, 'localeCompare']];
for (const [proto, name] of methods) {
  const original = proto[name];
  proto[name] = function (...args) { note(name); return original.apply(this, args); };
}
"""


def test_the_overview_draws_its_charts_without_building_an_intl_formatter(
    open_tab: OpenTab, server: Server
) -> None:
    # The first Intl object a page builds loads ICU's locale data: 35-50 ms of a cold load's main
    # thread on a 2-vCPU machine. Cards, host grid, axes and uPlot itself (made lazy by the build)
    # format without one until the charts are drawn.
    tab = open_tab(sign_in=False)
    tab.page.context.add_init_script(INTL_WATCH)
    tab.page.goto(f"{server.url}/#token={server.admin_token}")
    _requests(tab)
    drawn = float(tab.page.evaluate(MARK, "vigil:charts-drawn"))
    built = tab.page.evaluate("window.__intl")
    assert [call for call in built if call[1] <= drawn] == []
    assert tab.console.errors == []


HINT = "//# allFunctionsCalledOnLoad"


def test_the_preloaded_app_chunks_ask_v8_to_compile_them_whole_and_the_cognito_chunk_does_not(
    open_tab: OpenTab, server: Server
) -> None:
    # V8 then compiles them on the streaming thread as they arrive, not function by function on the
    # main thread during the first render; the OIDC client (AWS mode's sign-in) is mostly never run.
    tab = open_tab()
    preloaded = tab.page.eval_on_selector_all(
        "link[rel=modulepreload]", "links => links.map(l => l.getAttribute('href'))"
    )
    assert len(preloaded) >= 2
    for href in preloaded:
        assert tab.page.request.get(f"{server.url}/{href}").text().startswith(HINT + "\n"), href
    cognito = [f.name for f in (FRONTEND / "dist").iterdir() if f.name.startswith("chunk-cognito-")]
    assert len(cognito) == 1
    assert not tab.page.request.get(f"{server.url}/{cognito[0]}").text().startswith(HINT)
    assert tab.console.errors == []
