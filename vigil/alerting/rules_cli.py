"""`vigil rules apply -f rules.yaml [--prune] [--dry-run]`: rules as code, against the local store
(`--data-dir`, default `.vigil`) or a running Vigil over its HTTP API (`--url` + `--token`, an admin
token; works against AWS). Both compute the same idempotent plan (`vigil.domain.rules_yaml.plan`,
rules matched by name) and print it; a second apply of the same file reports everything unchanged.

Remote mode uses the standard library's HTTP client (no extra import cost for `vigil agent` hosts).
Imports: `vigil.domain`, `vigil.alerting`, `vigil.config`, `vigil.wiring` (lazily, local mode only).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from vigil.domain.errors import Invalid
from vigil.domain.rules import Rule
from vigil.domain.rules_yaml import Plan, parse_rules_yaml, plan

HTTP_TIMEOUT_SECONDS = 30.0


class RemoteError(Exception):
    """The server refused a request; the message holds its status and error text."""


def apply_local(text: str, data_dir: Path, *, prune: bool, dry_run: bool) -> Plan:
    """Apply to the SQLite store in `data_dir` (a running `vigil serve` picks changes up on its next
    evaluation tick). Pruned rules with firing alerts send their resolve notices from here.

    Raises:
        Invalid: the file (the field names the rule and key).
    """
    from vigil.alerting.admin import apply_rules_yaml
    from vigil.alerting.entry import publisher_for
    from vigil.config import Config
    from vigil.wiring import AppContext

    ctx = AppContext(Config.from_env().with_(data_dir=data_dir))
    try:
        return apply_rules_yaml(
            ctx.store, text, prune=prune, dry_run=dry_run, now=ctx.clock.now(), publisher=publisher_for(ctx)
        )
    finally:
        ctx.store.close()


def apply_remote(text: str, url: str, token: str, *, prune: bool, dry_run: bool) -> Plan:
    """Apply through `GET/POST/PUT/DELETE /api/alerts/rules` of the server at `url`.

    Raises:
        Invalid: the file.
        RemoteError: the server answered an error (e.g. 401, or a 422 naming a field).
    """
    desired = parse_rules_yaml(text)
    existing = [Rule.model_validate(r) for r in call_api(url, token, "GET", "/api/alerts/rules")]
    result = plan(desired, existing, prune=prune)
    if not dry_run:
        for rule in result.create:
            call_api(url, token, "POST", "/api/alerts/rules", rule.content())
        for rule in result.update:
            call_api(url, token, "PUT", f"/api/alerts/rules/{rule.id}", rule.content())
        for rule in result.delete:
            call_api(url, token, "DELETE", f"/api/alerts/rules/{rule.id}")
    return result


def call_api(url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url.rstrip("/") + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise RemoteError(f"{method} {path}: HTTP {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise RemoteError(f"{method} {path}: cannot reach {url}: {exc.reason}") from None


def render(result: Plan, *, dry_run: bool) -> str:
    """The plan as lines `<action>  <rule name>` and a one-line summary."""
    lines = [f"{action:<10} {name}" for action, names in result.summary().items() for name in names]
    unchanged = len(result.unchanged)
    lines.append(
        f"{len(result.create)} to create, {len(result.update)} to update, {len(result.delete)} to delete, "
        f"{unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    )
    return "\n".join(lines)


def run(path: str, *, prune: bool, dry_run: bool, data_dir: str, url: str | None, token: str | None) -> int:
    """The subcommand: 0 applied (or planned), 1 server or I/O error, 2 invalid file."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        if url:
            if not token:
                print("vigil rules apply: --url needs --token (an admin token)", file=sys.stderr)
                return 2
            result = apply_remote(text, url, token, prune=prune, dry_run=dry_run)
        else:
            result = apply_local(text, Path(data_dir), prune=prune, dry_run=dry_run)
    except Invalid as exc:
        print(f"vigil rules apply: {path}: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, RemoteError) as exc:
        print(f"vigil rules apply: {exc}", file=sys.stderr)
        return 1
    print(render(result, dry_run=dry_run))
    return 0
