"""The local server's ingest process: ingest requests (`POST /v1/...`) run the real `metrics` handler
in a worker process of their own, so parsing, validating and writing a batch never competes with the
dashboard's reads for the main process' interpreter lock (measured: reads under 16 pushers went from
~5x to ~1.5x idle p95, see docs/architecture.md "Local server under load").

The gateway hands the worker the same API Gateway event it would have run in-process and gets the
handler's result back; the worker answers only after the handler returned, i.e. after the batch's
transaction committed, so a 2xx still means "stored". One worker, one request at a time (the
gateway's admission slot already runs one ingest handler at a time): the OTLP cumulative-to-delta
state and the ingest-key cache live in that one process, as they would in one Lambda environment.
The main process keeps everything else (reads, admin API, scheduler, self-metrics); both write the
same SQLite file, SQLite's own lock and busy timeout ordering their transactions.

If the worker dies or does not answer within `ANSWER_TIMEOUT`, the request gets 503 + Retry-After
(whether it was stored is unknown, as after a crash; a retried `batch_id` is recognised as a
duplicate) and a new worker is started for the next one.

Standard library only, plus the gateway's own loaders; must not import waitress.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from vigil.config import Config
from vigil.domain.errors import Unavailable

log = logging.getLogger("vigil.local")
ANSWER_TIMEOUT = 25.0  # seconds; under the clients' usual 30 s, far above a batch's ~50 ms
STOP_TIMEOUT = 3.0
READY_TIMEOUT = 60.0  # spawning an interpreter and importing the handlers: ~1 s, much more on a busy machine
RETRY_AFTER_SECONDS = 1
PRELOAD = ("metrics",)  # the functions ingest routes bind to: imported before the first request
_SPAWN = multiprocessing.get_context("spawn")  # the server has threads: never fork it


def serve(conn: Connection, config: Config, started: float) -> None:
    """The worker process' loop: (function, event) in, ("ok", result) or ("error", text) out.
    `started`: when the server started (OTLP's cumulative state tracks from then, not from this
    process' later start)."""
    from vigil.local.gateway import LocalLambdaContext, load_function_handler
    from vigil.wiring import AppContext, bind

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[ingest]: %(message)s")
    ctx = AppContext(config)
    ctx.started = started
    handlers = {name: load_function_handler(name) for name in PRELOAD}
    conn.send(("ready", os.getpid()))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the server went away
                return
            if message is None:
                return
            function, event = message
            try:
                if function not in handlers:
                    handlers[function] = load_function_handler(function)
                with bind(ctx):
                    answer: tuple[str, Any] = (
                        "ok",
                        handlers[function](event, LocalLambdaContext(f"vigil-{function}")),
                    )
            except Exception as exc:  # the handler maps every domain error: this is a bug
                log.exception("ingest worker: %s failed", function)
                answer = ("raised", f"{type(exc).__name__}: {exc}")
            conn.send(answer)
    finally:
        ctx.store.close()


class IngestWorker:
    """`worker.invoke(function, event)` runs the handler in the worker process; thread-safe (calls
    take turns)."""

    def __init__(self, config: Config, started: float) -> None:
        self.config = config
        self.started = started
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._proc: BaseProcess | None = None
        self._pid: int | None = None  # set once the worker said it is ready
        self.restarts = 0

    def start(self) -> IngestWorker:
        """Starts the worker; `wait_ready` waits for it (both at once: the server starts meanwhile)."""
        with self._lock:
            self._spawn()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> int:
        """The worker's pid once it has imported the ingest handlers.

        Raises:
            Unavailable: it did not come up within `timeout` seconds (it is replaced)."""
        with self._lock:
            return self._ready(timeout)

    def _ready(self, timeout: float) -> int:
        if self._pid is None:
            try:
                assert self._conn is not None
                ready, pid = self._conn.recv() if self._conn.poll(timeout) else (None, None)
            except (EOFError, OSError):
                ready, pid = None, None
            if ready != "ready":
                self._replace()
                raise Unavailable(
                    f"the ingest worker did not start within {timeout:.0f} s", retry_after=RETRY_AFTER_SECONDS
                )
            self._pid = int(pid or 0)
        return self._pid

    def _spawn(self) -> None:
        parent, child = _SPAWN.Pipe()
        proc = _SPAWN.Process(
            target=serve, args=(child, self.config, self.started), name="vigil-ingest", daemon=True
        )
        proc.start()
        child.close()
        self._conn, self._proc, self._pid = parent, proc, None

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's result for `event`, run in the worker.

        Raises:
            Unavailable: the worker died or did not answer in time (it is replaced for the next call).
        """
        with self._lock:
            if self._conn is None:
                raise Unavailable("the server is stopping", retry_after=RETRY_AFTER_SECONDS)
            self._ready(ANSWER_TIMEOUT)  # a replaced worker may still be starting
            try:
                self._conn.send((function, event))
                if self._conn.poll(ANSWER_TIMEOUT):
                    status, payload = self._conn.recv()
                else:
                    status, payload = "error", f"no answer within {ANSWER_TIMEOUT:.0f} s"
            except (EOFError, OSError) as exc:
                status, payload = "error", f"the ingest worker exited ({exc or type(exc).__name__})"
            if status == "ok":
                result: dict[str, Any] = payload
                return result
            if status == "raised":  # as if the handler had raised here: the worker itself is fine
                raise RuntimeError(f"the {function} handler raised in the ingest worker: {payload}")
            log.error("ingest worker: %s; starting a new one", payload)
            self._replace()
        raise Unavailable(
            f"ingest failed in the worker ({payload}); retry after {RETRY_AFTER_SECONDS} s",
            retry_after=RETRY_AFTER_SECONDS,
        )

    def _replace(self) -> None:
        self._close(timeout=0.5)
        self.restarts += 1
        self._spawn()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Let the worker finish its request and exit (killed after `timeout` s)."""
        if self._lock.acquire(timeout=timeout):  # a request still running gets the budget...
            try:
                self._close(timeout)
            finally:
                self._lock.release()
        elif self._proc is not None:  # ...then the worker is killed: its transaction rolls back
            self._proc.kill()

    def _close(self, timeout: float) -> None:
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            with contextlib.suppress(OSError):  # already gone
                conn.send(None)
            conn.close()
        if proc is not None:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
