"""`vigil agent`: command-line entry point of the host agent (argument parsing, logging, signals).

`main(argv)` is what `vigil.cli` dispatches `vigil agent ...` to, and what `python -m vigil.agent` runs.
It builds the collector, pusher and loop, turns SIGINT/SIGTERM into a stop request (the loop then
flushes once and exits 0), and with `--otlp` hands over to `vigil.agent.otlp` instead, which is
imported only then because the OpenTelemetry exporter is an optional dependency.

Imports: argparse and friends, `vigil.config` (only for `agent_key_from_env`), `vigil.agent.*`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from vigil.agent.collector import HostCollector
from vigil.agent.pusher import Pusher, PushSettings, safe_host_name
from vigil.agent.runner import AgentLoop
from vigil.config import agent_key_from_env
from vigil.domain.limits import HOST_RE

log = logging.getLogger("vigil.agent")


def default_host_name() -> str:
    """This machine's name made acceptable to Vigil (letters, digits, `. _ : -`; at most 128 chars)."""
    return safe_host_name(socket.gethostname())


def _positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vigil agent",
        description="Sample this host with psutil and push the samples to a Vigil server.",
    )
    p.add_argument("--url", required=True, help="Vigil base URL, e.g. https://vigil.example.com")
    p.add_argument("--key", default=None, help="ingest key (default: $VIGIL_INGEST_KEY)")
    p.add_argument("--interval", type=_positive, default=10.0, help="seconds between samples [10]")
    p.add_argument(
        "--flush",
        type=_positive,
        default=60.0,
        help="seconds between pushes, declared to the server as this host's reporting interval [60]",
    )
    p.add_argument("--host", default=None, help="host name to report [this machine's name]")
    p.add_argument("--batch", type=_count, default=1000, help="push early when a batch reaches N samples")
    p.add_argument(
        "--buffer",
        type=_count,
        default=10_000,
        help="samples kept while the server is unreachable; the oldest go first [10000]",
    )
    p.add_argument(
        "--otlp",
        action="store_true",
        help="export OTLP/HTTP metrics to <url>/v1/metrics with the OpenTelemetry SDK instead",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="sample twice one interval apart, push one batch, exit (cron, tests)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every sample and push")
    return p


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (only possible on the main thread; elsewhere the caller owns signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: flushing and stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    """Run the agent. Returns 0 on a clean stop (or a delivered `--once`), 1 when `--once` could not
    deliver, 2 for usage errors (argparse exits with 2 itself for malformed options)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    key = args.key or agent_key_from_env()
    if not key:
        parser.error("an ingest key is required: --key KEY or the VIGIL_INGEST_KEY environment variable")
    host = args.host or default_host_name()
    if not HOST_RE.match(host):
        parser.error(f"--host {host!r} must be letters, digits and . _ : - (at most 128 characters)")
    if not args.url.startswith(("http://", "https://")):
        parser.error("--url must start with http:// or https://")
    if not logging.getLogger().handlers:  # leave a host application's logging alone
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    stop = threading.Event()
    collect = HostCollector().collect
    with _stop_on_signals(stop):
        if args.otlp:
            try:
                from vigil.agent.otlp import run_otlp
            except ImportError:
                log.error(
                    "--otlp needs the OpenTelemetry exporter: pip install "
                    "opentelemetry-sdk opentelemetry-exporter-otlp-proto-http"
                )
                return 2
            log.info(
                "exporting OTLP metrics for host %s to %s/v1/metrics every %gs",
                host,
                args.url.rstrip("/"),
                args.interval,
            )
            return run_otlp(
                args.url, key, host, collect=collect, interval=args.interval, stop=stop, once=args.once
            )
        settings = PushSettings(max_batch=args.batch, buffer_limit=args.buffer, push_interval=args.flush)
        pusher = Pusher(args.url, key, host, settings)
        loop = AgentLoop(collect, pusher, interval=args.interval, flush_every=args.flush, stop=stop)
        if args.once:
            return 0 if loop.run_once() and pusher.stats.delivered_samples else 1
        log.info(
            "sampling host %s every %gs, pushing to %s every %gs",
            host,
            args.interval,
            args.url.rstrip("/"),
            args.flush,
        )
        loop.run()
        log.info(
            "stopped: %d samples delivered, %d dropped, %d rejected",
            pusher.stats.delivered_samples,
            pusher.stats.dropped_samples,
            pusher.stats.rejected_samples,
        )
        return 0
