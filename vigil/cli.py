"""`vigil serve | agent | keys | rules` — the command line. Each subcommand imports its heavy parts
lazily so `vigil agent` on a small host never loads the server stack.

  vigil serve [--host 127.0.0.1] [--port 8080] [--data-dir .vigil] [--no-agent]
  vigil agent --url URL --key KEY [--interval 10] [--host NAME] [--otlp]
  vigil keys create NAME [--role ingest|viewer] [--data-dir .vigil]   (local store, no server needed)
  vigil rules apply -f rules.yaml [--prune] [--dry-run] [--data-dir .vigil | --url URL --token T]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from vigil.config import Config
    from vigil.local.server import LocalServer

    config = Config.from_env().with_(data_dir=Path(args.data_dir), allow_private_webhooks=True)
    try:
        server = LocalServer(config, host=args.host, port=args.port, agent=not args.no_agent).start()
    except OSError as exc:
        print(
            f"vigil: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
            f"Is another Vigil running? Try --port {args.port + 1}.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Vigil is running. Open the dashboard:\n\n    {server.url}/#token={server.admin_token}\n", flush=True
    )
    print(
        f"Data: {config.data_dir.resolve()}  (admin token in {config.data_dir / 'admin-token'})", flush=True
    )
    print(f"For the README's examples:  export VIGIL_URL={server.url}", flush=True)
    if not args.no_agent:
        print(
            f"A local agent is sampling this machine every {config.interval_seconds:g} s. Stop with Ctrl-C.",
            flush=True,
        )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("Stopping…", flush=True)
    server.stop()
    return 0


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
    return _keys(args)


if __name__ == "__main__":
    sys.exit(main())
