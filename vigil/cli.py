"""`vigil serve | agent | keys | rules | notifications` — the command line. Each subcommand imports
its heavy parts lazily so `vigil agent` on a small host never loads the server stack.

  vigil serve [--host 127.0.0.1] [--port 8080] [--data-dir .vigil] [--no-agent]
  vigil agent --url URL --key KEY [--interval 10] [--host NAME] [--otlp]
  vigil keys create NAME [--role ingest|viewer] [--data-dir .vigil]   (local store, no server needed)
  vigil rules apply -f rules.yaml [--prune] [--dry-run] [--data-dir .vigil | --url URL --token T]
  vigil notifications dead-letters | replay ID [--data-dir .vigil | --url URL --token T]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from vigil.config import Config


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from vigil.config import Config
    from vigil.local.server import LocalServer
    from vigil.wiring import admin_token_path

    config = Config.from_env().with_(data_dir=Path(args.data_dir), allow_private_webhooks=True)
    token_file = admin_token_path(config)
    generates_token = not config.admin_token and not token_file.exists()
    try:
        server = LocalServer(config, host=args.host, port=args.port, agent=not args.no_agent).start()
    except OSError as exc:
        print(
            f"vigil: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
            f"Is another Vigil running? Try --port {args.port + 1}.",
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()  # handlers before the banner: a reader may stop us as soon as it shows
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    for line in serve_banner(server.url, server.admin_token, config, generates_token, sys.stdout):
        print(line, flush=True)
    if not args.no_agent:
        print(
            f"A local agent is sampling this machine every {config.interval_seconds:g} s. Stop with Ctrl-C.",
            flush=True,
        )
    stop.wait()
    print("Stopping…", flush=True)
    server.stop()
    return 0


def serve_banner(url: str, token: str, config: Config, generated: bool, out: TextIO) -> list[str]:
    """What `vigil serve` prints on start. The sign-in URL carries the admin token, so it is printed
    only to a terminal, or on the first start (the one that generated the token) unless stdout is a
    file: a token must never land in a log. The token file is named only when it is where the token
    came from (not when `VIGIL_ADMIN_TOKEN` is set)."""
    from vigil.wiring import admin_token_path

    to_file = _is_regular_file(out)
    show_token = not to_file and (generated or out.isatty())
    lines = ["Vigil is running. Open the dashboard:", ""]
    if show_token:
        lines.append(f"    {url}/#token={token}")
    else:
        lines.append(f"    {url}/   (sign in with the admin token)")
    lines.append("")
    # `config` is the one read from the environment: an admin token there is VIGIL_ADMIN_TOKEN's
    where = (
        "admin token: VIGIL_ADMIN_TOKEN"
        if config.admin_token
        else f"admin token in {admin_token_path(config)}"
    )
    lines.append(f"Data: {config.data_dir.resolve()}  ({where})")
    lines.append(f"For the README's examples:  export VIGIL_URL={url}")
    return lines


def _is_regular_file(out: TextIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(out.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):  # no descriptor (captured in tests)
        return False


def _agent(argv: list[str]) -> int:
    from vigil.agent.command import main

    return main(argv)


def _keys(args: argparse.Namespace) -> int:
    from vigil.config import Config
    from vigil.domain.models import KeyCreate
    from vigil.services.keys import create_key
    from vigil.wiring import AppContext

    ctx = AppContext(Config.from_env().with_(data_dir=Path(args.data_dir)))
    created = create_key(ctx.store, KeyCreate(name=args.name, role=args.role), ctx.clock.now())
    print(created.key)
    print(f"(id {created.id}; shown only once — store it now)", file=sys.stderr)
    return 0


def _rules(args: argparse.Namespace) -> int:
    from vigil.alerting.rules_cli import run

    return run(
        args.file,
        prune=args.prune,
        dry_run=args.dry_run,
        data_dir=args.data_dir,
        url=args.url,
        token=args.token,
    )


def _notifications(args: argparse.Namespace) -> int:
    from vigil.alerting.notifications_cli import run

    return run(
        args.notifications_command,
        getattr(args, "id", None),
        data_dir=args.data_dir,
        url=args.url,
        token=args.token,
    )


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="vigil", description="Vigil performance monitor")
    parser.add_argument("--version", action="version", version=f"vigil {version('vigil')}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run local mode: API, dashboard, scheduler and a local agent")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--data-dir", default=".vigil", help="where data lives (default .vigil)")
    serve.add_argument("--no-agent", action="store_true", help="do not sample this machine")
    sub.add_parser("agent", help="push this host's metrics to a Vigil server", add_help=False)
    keys = sub.add_parser("keys", help="manage keys in the local store")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create an ingest key (or a viewer token) and print it once")
    create.add_argument("name")
    create.add_argument("--role", choices=("ingest", "viewer"), default="ingest")
    create.add_argument("--data-dir", default=".vigil")
    rules = sub.add_parser("rules", help="alert rules as code")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    apply = rules_sub.add_parser("apply", help="create/update rules from a YAML file (idempotent, by name)")
    apply.add_argument("-f", "--file", required=True, help="rules YAML file ('-' = stdin)")
    apply.add_argument("--prune", action="store_true", help="also delete rules the file does not name")
    apply.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    apply.add_argument("--data-dir", default=".vigil", help="local store (default .vigil)")
    apply.add_argument("--url", help="apply to a running Vigil over HTTP instead (e.g. the AWS API URL)")
    apply.add_argument("--token", help="admin token for --url")
    notifications = sub.add_parser("notifications", help="undeliverable notifications (dead letters)")
    notifications_sub = notifications.add_subparsers(dest="notifications_command", required=True)
    listing = notifications_sub.add_parser("dead-letters", help="list dead letters, newest first")
    replay = notifications_sub.add_parser("replay", help="deliver a dead letter again")
    replay.add_argument("id", help="the dead letter's id (the notification id)")
    for command in (listing, replay):
        command.add_argument("--data-dir", default=".vigil", help="local store (default .vigil)")
        command.add_argument("--url", help="a running Vigil over HTTP instead (e.g. the AWS API URL)")
        command.add_argument("--token", help="admin token for --url")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if argv and argv[0] == "agent":  # the agent parses its own flags
        return _agent(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "rules":
        return _rules(args)
    if args.command == "notifications":
        return _notifications(args)
    return _keys(args)


if __name__ == "__main__":
    sys.exit(main())
