"""Static files of the dashboard for local mode: the built `frontend/dist/` (or a minimal page when it
has not been built yet), plus a generated `config.json` so the same build runs locally and in AWS.
Standard library only."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import orjson

from vigil.local.events import HttpResponse

DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
# Always revalidated: the page itself, and the service worker (a stale one would keep an old shell).
NO_CACHE = frozenset({"index.html", "sw.js"})
mimetypes.add_type("application/manifest+json", ".webmanifest")
_TEXT_TYPES = ("application/javascript", "application/json", "application/manifest+json")
_FALLBACK = b"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Vigil</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Vigil is running</h1><p>The dashboard has not been built yet: run <code>make run</code> (it builds
<code>frontend/dist</code>), or read the API at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""


def local_config_json() -> bytes:
    return orjson.dumps({"apiUrl": "", "auth": {"mode": "local"}})


def serve_static(path: str, root: Path = DIST) -> HttpResponse:
    if path == "/config.json":
        return HttpResponse(
            200, [("Content-Type", "application/json"), ("Cache-Control", "no-cache")], local_config_json()
        )
    rel = path.lstrip("/") or "index.html"
    if not root.is_dir():
        if rel == "index.html":
            return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], _FALLBACK)
        return _not_found()
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        if "." not in rel.rsplit("/", 1)[-1]:  # client-side route: hand the SPA its shell
            target = root / "index.html"
        else:
            return _not_found()
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in _TEXT_TYPES:
        ctype += "; charset=utf-8"
    # index.html and sw.js must be revalidated so a new build is picked up; hashed assets may be cached.
    cache = "no-cache" if target.name in NO_CACHE else "public, max-age=300"
    return HttpResponse(
        200,
        [("Content-Type", ctype), ("Cache-Control", cache), ("X-Content-Type-Options", "nosniff")],
        target.read_bytes(),
    )


def _not_found() -> HttpResponse:
    return HttpResponse(404, [("Content-Type", "text/plain; charset=utf-8")], b"not found")
