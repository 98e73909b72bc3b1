"""`vigil notifications dead-letters | replay ID`: list undeliverable notifications and deliver one
again, against the local store (`--data-dir`, default `.vigil`) or a running Vigil over its HTTP API
(`--url` + `--token`, an admin token; works against AWS, where the API imports the notify function's
SQS dead-letter queue first). Both print the same lines; exit 0 when the replay delivered everything,
1 when a channel still fails (the dead letter stays) or the server refused, 2 for bad usage.
Imports: `vigil.alerting`, `vigil.config`, `vigil.wiring` (lazily, local mode only).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vigil.alerting.rules_cli import RemoteError, call_api
from vigil.domain.errors import VigilError

DEAD_LETTERS_PATH = "/api/notifications/dead-letters"


def _local(data_dir: str, action: str, dead_id: str | None) -> Any:
    from vigil.alerting import dead_letters
    from vigil.config import Config
    from vigil.wiring import AppContext

    ctx = AppContext(Config.from_env().with_(data_dir=Path(data_dir)))
    try:
        if action == "replay":
            assert dead_id is not None
            return dead_letters.replay(ctx.store, ctx.config, dead_id, ctx.clock.now())
        return dead_letters.page(ctx.store, limit=dead_letters.MAX_PAGE)
    finally:
        ctx.store.close()


def render_replay(result: dict[str, Any]) -> str:
    lines = [f"delivered  {cid}" for cid in result.get("delivered", [])]
    lines += [f"failed     {cid}: {why}" for cid, why in (result.get("failed") or {}).items()]
    lines.append(
        f"{result['id']}: still a dead letter" if result.get("dead_letter") else f"{result['id']}: replayed"
    )
    return "\n".join(lines)


def render_list(listing: dict[str, Any]) -> str:
    items = listing.get("items", [])
    lines = [
        f"{d['id']}  {_one_line(d.get('rule_name') or '-')}  "
        f"attempts={d.get('attempts')}  {_one_line(d['reason'])}"
        for d in items
    ]
    return "\n".join(
        [
            *lines,
            f"{len(items)} dead letter(s)" + (" (more: use the API)" if listing.get("next_cursor") else ""),
        ]
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run(action: str, dead_id: str | None, *, data_dir: str, url: str | None, token: str | None) -> int:
    """The subcommand's exit status (see the module docstring)."""
    if url and not token:
        print("vigil notifications: --url needs --token (an admin token)", file=sys.stderr)
        return 2
    try:
        if action == "replay":
            assert dead_id is not None
            result = (
                call_api(url, str(token), "POST", f"{DEAD_LETTERS_PATH}/{quote(dead_id, safe='')}/replay")
                if url
                else _local(data_dir, action, dead_id)
            )
            print(render_replay(result))
            return 1 if result.get("dead_letter") else 0
        listing = (
            call_api(url, str(token), "GET", DEAD_LETTERS_PATH + "?limit=200")
            if url
            else _local(data_dir, action, None)
        )
        print(render_list(listing))
        return 0
    except VigilError as exc:
        print(f"vigil notifications {action}: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, RemoteError) as exc:
        print(f"vigil notifications {action}: {exc}", file=sys.stderr)
        return 1
