"""The public status page: `status.json` and a small server-rendered HTML page built from the public
checks (`vigil.domain.status`), served by the local server on every request (`GET /status`,
`GET /status.json`) and, in AWS, written to the dashboard's S3 site by the alerts function's
per-minute job when something changed or an hour has passed (`publish_if_due`), so the public page
never reaches the API or DynamoDB.

The page has no script (CSP `script-src 'self'` holds trivially), one inline stylesheet (the policy
allows inline styles), text states beside every colour, and bars hidden from screen readers behind a
one-line uptime summary. Imports: `vigil.domain`, `vigil.ports`, `vigil.services`; boto3 lazily.
"""

from __future__ import annotations

import hashlib
import html
from typing import TYPE_CHECKING, Any

import orjson

from vigil.domain.check_runs import CHECK_KIND, CHECK_STATE_KIND
from vigil.domain.status import build_status
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.wiring import AppContext

HISTORY_KIND = "alert_history"  # `vigil.alerting.repo.HISTORY_KIND` (services do not import alerting)
MARKER_KIND, MARKER_ID = "status_page", "published"
REPUBLISH_SECONDS = 3600.0
CACHE_SECONDS = 60  # CloudFront and browsers keep a published page at most this long
JSON_KEY, HTML_KEY = "status.json", "status"


def public_status(store: Store, now: float) -> dict[str, Any]:
    """The status page's content at `now`: public checks by name, their results, their incidents."""
    public = sorted((d for d in store.list_docs(CHECK_KIND) if d.get("public") is True), key=_name_key)
    # One read per public check rather than every check's results: public ones are usually few.
    states = [store.get_doc(CHECK_STATE_KIND, str(d["id"])) for d in public]
    history = store.list_docs(HISTORY_KIND) if public else []
    return build_status([(str(d["name"]), st) for d, st in zip(public, states, strict=True)], history, now)


def _name_key(doc: dict[str, Any]) -> tuple[str, str]:
    return str(doc.get("name", "")).lower(), str(doc.get("id", ""))


def status_json(status: dict[str, Any]) -> bytes:
    return orjson.dumps(status)


_BANNER = {
    "operational": ("ok", "All systems operational"),
    "degraded": ("warn", "Some systems are down"),
    "outage": ("bad", "Major outage"),
}
_STATE = {"up": ("ok", "Operational"), "down": ("bad", "Down"), "pending": ("none", "No data yet")}
_STYLE = (
    ":root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;"
    "--warn:#9a6700;--bad:#cf222e;--none:#8c959f}"
    "@media(prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;"
    "--ok:#3fb950;--warn:#d29922;--bad:#f85149;--none:#6e7681}}"
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);"
    "background:var(--bg)}main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.6rem;"
    "margin:0 0 1rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}h3{font-size:1rem;margin:0;"
    "overflow-wrap:anywhere}ul,ol{list-style:none;margin:0;padding:0}.banner{padding:.75rem 1rem;"
    "border-radius:.5rem;color:#fff;font-weight:600}.banner.ok{background:var(--ok)}.banner.warn{"
    "background:var(--warn)}.banner.bad{background:var(--bad)}.component{border:1px solid var(--line);"
    "border-radius:.5rem;padding:.75rem 1rem;margin:.5rem 0}.row{display:flex;justify-content:"
    "space-between;gap:1rem;align-items:baseline}.state{font-weight:600;white-space:nowrap}"
    ".state.ok{color:var(--ok)}.state.bad{color:var(--bad)}.state.none{color:var(--muted)}"
    ".bars{display:flex;gap:1px;height:2rem;margin:.5rem 0 .25rem}.bars li{flex:1 1 0;min-width:0;"
    "border-radius:1px;background:var(--none)}.bars .b3{background:var(--ok)}.bars .b2{background:"
    "var(--warn)}.bars .b1{background:var(--bad)}.legend{display:flex;justify-content:space-between;"
    "gap:.5rem;margin:0;font-size:.8rem;color:var(--muted)}.incidents li{padding:.5rem 0;border-bottom:"
    "1px solid var(--line)}footer{margin-top:2rem;font-size:.85rem;color:var(--muted)}"
)


def render_html(status: dict[str, Any]) -> bytes:
    """The page for `status` (the `status.json` content); every text from data is escaped."""
    tone, text = _BANNER[status["status"]]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request: the page stands alone (CSP allows data:)
        f"<title>Status</title><style>{_STYLE}</style></head><body><main>",
        f'<h1>Service status</h1><p class="banner {tone}" role="status">{text}</p>',
        '<section aria-labelledby="components"><h2 id="components">Components</h2>',
    ]
    if not status["components"]:
        parts.append("<p>No components are published yet.</p>")
    parts.append('<ul class="components">')
    for component in status["components"]:
        parts.append(_component(component))
    parts.append("</ul></section>")
    parts.append('<section aria-labelledby="incidents"><h2 id="incidents">Recent incidents</h2>')
    parts.append(
        _incidents(status["incidents"], len(status["components"][0]["days"]) if status["components"] else 90)
    )
    generated = html.escape(status["generated_at"])
    parts.append(f'</section><footer><p>Updated <time datetime="{generated}">{_when(generated)}</time>.</p>')
    parts.append("</footer></main></body></html>")
    return "".join(parts).encode()


def _component(c: dict[str, Any]) -> str:
    name = html.escape(c["name"])
    tone, label = _STATE.get(c["status"], _STATE["pending"])
    bars = "".join(
        f'<li class="{_bar(d["uptime"])}" title="{d["date"]}: {_pct(d["uptime"])}"></li>' for d in c["days"]
    )
    uptime = "no data" if c["uptime"] is None else f"{c['uptime']:.2f}% uptime"
    return (
        f'<li class="component"><div class="row"><h3>{name}</h3>'
        f'<span class="state {tone}">{label}</span></div><ol class="bars" aria-hidden="true">{bars}</ol>'
        f'<p class="legend"><span>{len(c["days"])} days ago</span><span>{uptime}</span>'
        "<span>Today</span></p></li>"
    )


def _bar(uptime: float | None) -> str:
    if uptime is None:
        return "b0"
    return "b3" if uptime >= 99.5 else "b2" if uptime >= 95.0 else "b1"


def _pct(uptime: float | None) -> str:
    return "no data" if uptime is None else f"{uptime:g}%"


def _incidents(incidents: list[dict[str, Any]], days: int) -> str:
    if not incidents:
        return f"<p>No incidents in the last {days} days.</p>"
    items = []
    for i in incidents:
        name, start = html.escape(i["component"]), html.escape(i["started_at"])
        began = f'<time datetime="{start}">{_when(start)}</time>'
        if i["resolved_at"] is None:
            items.append(f"<li><strong>{name}</strong> is down since {began}.</li>")
            continue
        end = html.escape(i["resolved_at"])
        ended = f'<time datetime="{end}">{_when(end)}</time>'
        items.append(
            f"<li><strong>{name}</strong> was down from {began} to {ended} ({_span(i['duration_s'])}).</li>"
        )
    return f'<ol class="incidents">{"".join(items)}</ol>'


def _when(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")[:16] + " UTC"


def _span(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def mark_stale(store: Store) -> None:
    """A public check was added, changed or removed: the next scheduled run republishes (AWS)."""
    store.delete_doc(MARKER_KIND, MARKER_ID)


def publish_if_due(ctx: AppContext, now: float, *, changed: bool) -> str:
    """AWS: write `status.json` and the page to the status bucket when `changed` (a check's status, an
    alert transition, a public check edited) turned out to change the content, or an hour passed.
    Returns what happened: `local` (no bucket: the server renders it), `fresh`, `unchanged`, `published`."""
    bucket = ctx.config.status_bucket
    if bucket is None:
        return "local"
    marker = ctx.store.get_doc(MARKER_KIND, MARKER_ID)
    age = now - float(marker["at"]) if marker else float("inf")
    if not changed and age < REPUBLISH_SECONDS:
        return "fresh"
    status = public_status(ctx.store, now)
    digest = hashlib.sha256(status_json({**status, "generated_at": ""})).hexdigest()
    if marker and marker.get("digest") == digest and age < REPUBLISH_SECONDS:
        return "unchanged"
    from vigil.adapters.status_site import S3StatusSite

    site = S3StatusSite(bucket)
    site.put(JSON_KEY, status_json(status), "application/json", CACHE_SECONDS)
    site.put(HTML_KEY, render_html(status), "text/html; charset=utf-8", CACHE_SECONDS)
    ctx.store.put_doc(MARKER_KIND, MARKER_ID, {"at": now, "digest": digest})
    return "published"
