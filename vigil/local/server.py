"""The local server: a WSGI app (waitress, threaded) in front of the gateway and the static dashboard,
plus everything `vigil serve` runs beside it (scheduler, local agent).

`LocalServer` is also what end-to-end tests and benchmarks start on a free port.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from vigil.adapters.private_files import private_dir
from vigil.alerting.push import vapid_keys
from vigil.api.live_tickets import TicketVerifier, ticket_key
from vigil.config import Config
from vigil.domain.errors import Unavailable
from vigil.local import http_server
from vigil.local.admission import Admission
from vigil.local.events import HttpResponse
from vigil.local.gateway import Gateway
from vigil.local.http_server import THREADS, LoadReport
from vigil.local.ingest_pool import IngestPool
from vigil.local.jobs import STORAGE_JOBS, fleet_job, rollup_job, trace_retention_job
from vigil.local.live import LiveHub
from vigil.local.malloc_arenas import limit_arenas
from vigil.local.metered_store import metered_store as metered_store  # tests build it from here
from vigil.local.scheduler import Scheduler
from vigil.local.self_metrics import SelfMetrics, gateway_route
from vigil.local.static import serve_static
from vigil.local.usage_meter import AWS_EVALUATION_SECONDS, UsageMeter
from vigil.local.worker import Worker
from vigil.ports import SystemClock
from vigil.security_headers import local_headers
from vigil.wiring import AppContext, ensure_admin_token

log = logging.getLogger("vigil.local")
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
LOAD_REPORT_EVERY_SECONDS = 60.0  # one summary line per minute when requests queued or were refused
SWITCH_INTERVAL_SECONDS = 0.001
STOP_TIMEOUT_SECONDS = 9.0  # SIGTERM → exit within 10 s
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # the gateway enforces per-route limits; this only stops abuse


_SECURITY_HEADERS = local_headers()  # on every answer, as CloudFront adds them in AWS
Observer = Callable[[str, str, int, float], None]  # (method, path, status, seconds) of an API request


def wsgi_app(gateway: Gateway, observe: Observer | None = None) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_REQUEST_BYTES:
            response = HttpResponse(
                413,
                [("Content-Type", "application/json")],
                b'{"error":{"code":"too_large","message":"body too large","field":"body"}}',
            )
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            if gateway.routes(path):
                headers = [
                    (k[5:].replace("_", "-").lower(), v) for k, v in environ.items() if k.startswith("HTTP_")
                ]
                if environ.get("CONTENT_TYPE"):
                    headers.append(("content-type", environ["CONTENT_TYPE"]))
                started = time.perf_counter()
                response = gateway.handle_request(
                    method, path, environ.get("QUERY_STRING", ""), headers, body
                )
                if observe is not None:
                    observe(method, path, response.status, time.perf_counter() - started)
            elif method in ("GET", "HEAD") and path in STATUS_PATHS:
                response = status_page(gateway.ctx, path)
            elif method in ("GET", "HEAD"):
                response = serve_static(path)
            else:
                response = HttpResponse(405, [("Allow", "GET, HEAD")], b"")
        headers = response.headers + [h for h in _SECURITY_HEADERS if response.header(h[0]) is None]
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        return [b"" if method == "HEAD" else response.body]

    return app


STATUS_PATHS = ("/status", "/status.json")


def status_page(ctx: AppContext, path: str) -> HttpResponse:
    """The public status page, rendered now (AWS serves the files its scheduled job wrote)."""
    from vigil.services.status_page import public_status, render_html, status_json

    status = public_status(ctx.store, ctx.clock.now())
    if path.endswith(".json"):
        body, ctype = status_json(status), "application/json"
    else:
        body, ctype = render_html(status), "text/html; charset=utf-8"
    return HttpResponse(200, [("Content-Type", ctype), ("Cache-Control", "no-cache")], body)


@dataclass
class LocalServer:
    """Everything `vigil serve` runs, startable from tests: `with LocalServer(config) as s: s.url`."""

    config: Config
    host: str = "127.0.0.1"
    port: int = 8080
    agent: bool = True
    threads: int = THREADS
    ingest_process: bool = True  # ingest handlers and storage jobs in worker processes (`worker.py`)
    ingest_workers: int = field(init=False)  # ingest worker processes (`Config.ingest_workers`)
    ctx: AppContext = field(init=False)
    scheduler: Scheduler = field(init=False)
    _server: Any = None
    _thread: threading.Thread | None = None
    _stopping: bool = False
    _agent_handle: Any = None

    def __post_init__(self) -> None:
        # Powertools would print EMF metrics to stdout for every request; they only mean something in AWS.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        private_dir(self.config.data_dir)  # 0700: the database and tokens inside are the owner's only
        self.config = ensure_admin_token(self.config)
        clock = SystemClock()
        self.usage = UsageMeter(self.config.sqlite_path, started=clock.now())
        self.ctx = AppContext(self.config, clock=clock, _store=metered_store(self.config, self.usage))
        vapid_keys(self.ctx.store, self.config)  # first start: the Web Push key pair, 0600 in the data dir
        # one admission slot per ingest worker: each runs one request at a time
        self.ingest_workers = self.config.ingest_workers if self.ingest_process else 1
        self.gateway = Gateway(self.ctx, usage=self.usage, admission=Admission(slots=self.ingest_workers))
        self.live = live_hub(self.config, self.ctx)
        self.ctx.changes = self.live  # ingest and the evaluator tell open dashboards what changed
        self.scheduler = Scheduler(self.ctx.clock, self.config.interval_seconds)
        # The storage jobs run in the jobs worker at a low priority (`worker.py`), so they may take a
        # while on a busy machine: on a scheduler thread of their own, alert evaluation, self-metrics
        # and the cost flush never wait behind them.
        self.storage_scheduler = Scheduler(self.ctx.clock, self.config.interval_seconds)
        self.jobs: Worker | None = None  # runs STORAGE_JOBS once started (`ingest_process`)
        uncounted = self.usage.uncounted  # chores AWS does not bill as store work (see usage_meter)
        self.storage_scheduler.add("retention", uncounted(self._storage_job("retention")), every=3600)
        self.self_metrics = SelfMetrics(self.ctx, gateway_route(self.gateway))
        self.scheduler.add("self-metrics", uncounted(self.self_metrics.flush))  # every tick
        for name, job, every in local_jobs(self.ctx):
            storage = name in STORAGE_JOBS
            scheduler = self.storage_scheduler if storage else self.scheduler
            job = self._storage_job(name) if storage else job
            scheduler.add(name, metered_job(self.usage, self.config, name, job), every)
        # Checks run from 10 s intervals: their own short tick, so a slow check never delays the
        # evaluator and a 10 s check does not wait for a 60 s MONITORING_INTERVAL.
        self.check_scheduler = Scheduler(self.ctx.clock, CHECK_TICK_SECONDS)
        self.check_scheduler.add("checks", lambda now: check_job(self.ctx, now))
        self.scheduler.add("cost-usage", uncounted(lambda now: self.usage.flush(self.ctx.store, now)))

    def _storage_job(self, name: str) -> Callable[[float], object]:
        def run(now: float) -> object:
            if self.jobs is not None:
                return self.jobs.run_job(name, now)
            return STORAGE_JOBS[name](self.ctx, now)

        return run

    def schedulers(self) -> tuple[Scheduler, ...]:
        return (self.scheduler, self.storage_scheduler, self.check_scheduler)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def admin_token(self) -> str:
        assert self.config.admin_token
        return self.config.admin_token

    def start(self) -> LocalServer:
        # Handlers share one interpreter lock: a 1 ms switch interval (default 5 ms) lets a dashboard
        # read get the CPU between other threads' slices (measured when ingest still ran here: read p95
        # under 16 pushers ~2x idle instead of 5-11x). Process-wide, set by the server.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        limit_arenas()  # before the handler threads exist: two malloc heaps, not one per thread (RSS)
        self._server = http_server.create(
            wsgi_app(self.gateway, self.self_metrics.observe),
            self.host,
            self.port,
            self.threads,
            stream_opener=self.live.start(),
        )
        self.load_report = LoadReport(self._server.task_dispatcher.queue_logger, self.gateway.admission)
        self.scheduler.add("load-report", self.load_report.log, every=LOAD_REPORT_EVERY_SECONDS)
        self.port = int(self._server.effective_port)
        if self.config.public_url is None:  # notification links point where this server really listens
            self.config = self.config.with_(public_url=self.links_url())
            self.ctx.config = self.config
        if self.ingest_process:  # spawned now, waited for at the end of start(): all start meanwhile
            started, usage, live = self.ctx.started, self.usage, self.live
            new_worker = functools.partial(Worker, self.config, started, "ingest", usage, live)
            self.gateway.ingest = IngestPool(new_worker, self.ingest_workers).start()
            self.jobs = Worker(self.config, started, "jobs", usage, live).start()
        # Cold starts before the first request and the first tick, not during them (the workers
        # import theirs meanwhile, in their own processes).
        self.gateway.warm_up()
        warm_up_jobs()
        self._thread = threading.Thread(target=self._serve_until_stopped, name="vigil-http", daemon=True)
        self._thread.start()
        for scheduler in self.schedulers():
            scheduler.start()
        for worker in (self.gateway.ingest, self.jobs):  # "started" means ingest works too
            try:
                if worker is not None:
                    worker.wait_ready()
            except Unavailable as exc:  # ingest answers 503 meanwhile and tries a new worker per request
                log.error("%s", exc)
        if self.agent:
            self._agent_handle = start_agent(self)
        return self

    def links_url(self) -> str:
        """The address notification links use; for a wildcard bind this machine's name, which other
        machines can reach (0.0.0.0 is no address to open)."""
        import socket

        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    def _serve_until_stopped(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):  # select() on a descriptor stop() just closed
            if not self._stopping:
                raise

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Graceful and bounded: stop accepting, finish the requests and the scheduler job running now,
        close; returns within about `timeout` seconds even under load."""
        deadline = time.monotonic() + timeout
        if self._agent_handle is not None:  # its final flush gets 2 s of the budget, not its own 30 s
            self._agent_handle.stop(timeout=min(2.0, timeout / 4))
        for scheduler in self.schedulers():  # no new tick; the running jobs are waited for below
            scheduler.stop(timeout=0)
        self.live.stop()  # no more pushes; drain() closes the streams' connections
        if self._server is not None:
            self._stopping = True
            # The loop thread finds an empty socket map once everything is closed and returns (or trips
            # over a closed descriptor, which means "stopped").
            http_server.drain(self._server, timeout=min(5.0, timeout / 2))
        if self.gateway.ingest is not None:  # no ingest request is running any more (drained)
            self.gateway.ingest.stop(timeout=max(0.1, min(2.0, deadline - time.monotonic() - 1.0)))
        for scheduler in self.schedulers():
            scheduler.stop(timeout=max(0.0, deadline - time.monotonic() - 1.0))
        if self.jobs is not None:  # a job still running after that is killed: its transaction rolls back
            self.jobs.stop(timeout=max(0.1, deadline - time.monotonic() - 0.5))
        if self._thread is not None:
            self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.ctx.store.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def live_hub(config: Config, ctx: AppContext) -> LiveHub:
    """The pushed-updates hub; its tickets are signed with a key derived from the admin token."""
    assert config.admin_token
    return LiveHub(TicketVerifier(ticket_key(config.admin_token)), ctx.clock, _SECURITY_HEADERS)


def metered_job(
    usage: UsageMeter, config: Config, name: str, job: Callable[[float], object]
) -> Callable[[float], object]:
    """Local jobs AWS runs as Lambda invocations, counted as such: alert evaluation (every minute in
    AWS, so a local run is `interval / 60` of one) and the 5-minute scheduled job (rollups; the fleet
    tier's local runs add compute, no request). In AWS the jobs function runs these (the metrics code,
    1,769 MB, the rollups as 14 shard invocations); here they are priced as one metrics-function
    invocation (`FUNCTION_MEMORY_MB["metrics"]`), which understates their GB-seconds."""
    if name == "alerts":
        return usage.scheduled("alerts", job, share=config.evaluation_period_seconds / AWS_EVALUATION_SECONDS)
    if name == "rollups":
        return usage.scheduled("metrics", job)
    if name == "fleet":
        return usage.scheduled(
            "metrics", job, share=FLEET_EVERY_SECONDS / ROLLUP_EVERY_SECONDS, request=False
        )
    return job


def local_jobs(ctx: AppContext) -> list[tuple[str, Callable[[float], object], float | None]]:
    """Scheduled jobs other features contribute (rollups, alert evaluation)."""
    return [
        # lambdas so the trace store is only built when the job first runs (lazy, like every adapter)
        ("trace-retention", lambda now: trace_retention_job(ctx, now), 3600),
        ("rollups", lambda now: rollup_job(ctx, now), ROLLUP_EVERY_SECONDS),
        ("fleet", lambda now: fleet_job(ctx, now), FLEET_EVERY_SECONDS),
        ("alerts", lambda now: alert_job(ctx, now), None),  # every MONITORING_INTERVAL
        ("notify-retries", lambda now: notify_retry_job(ctx, now), None),  # due delivery retries
    ]


ROLLUP_EVERY_SECONDS = 300.0  # AWS runs it hourly; locally the newest hour's rollup stays fresher
FLEET_EVERY_SECONDS = 60.0  # AWS runs it every 5 minutes; SQLite reads the tail after it from raw anyway


CHECK_TICK_SECONDS = 2.0  # how often local mode looks for due checks (their intervals start at 10 s)


def check_job(ctx: AppContext, now: float) -> object:
    """The due synthetic checks (in their own thread: a slow target delays nothing else)."""
    from vigil.services.check_runner import run_due

    return run_due(ctx.store, ctx.config, now)


def warm_up_jobs() -> None:
    """The imports the server process' scheduled jobs do on their first run (the alerts evaluator
    alone held the interpreter lock ~300 ms on the first tick, while the first requests waited)."""
    import vigil.alerting.entry
    import vigil.alerting.local_delivery
    import vigil.services.check_runner  # noqa: F401


def alert_job(ctx: AppContext, now: float) -> object:
    from vigil.alerting.entry import evaluate_now

    return evaluate_now(ctx, now)


def notify_retry_job(ctx: AppContext, now: float) -> object:
    from vigil.alerting.local_delivery import retry_due

    return retry_due(ctx.store, ctx.config, now)


def start_agent(server: LocalServer) -> Any:
    """Sample this machine into the local server so charts fill at once."""
    import socket

    from vigil.agent.runner import start_local_agent
    from vigil.local.bootstrap import local_agent_key

    key = local_agent_key(server.ctx)
    return start_local_agent(server.url, key, server.config.interval_seconds, socket.gethostname())
