"""The local server's worker processes, so that work no reader waits for never holds the interpreter
lock the dashboard's reads and `/health` need (measured in docs/architecture.md "Local server under
load"):

- **ingest**: ingest requests (`POST /v1/...`) run the real `metrics` handler here. The gateway hands
  over the same API Gateway event it would have run in-process and gets the handler's result back;
  the answer comes only after the handler returned, i.e. after the batch's transaction committed, so
  a 2xx still means "stored". Each worker runs one request at a time; `ingest_pool.IngestPool` runs
  several workers (one admission slot each) and sends OTLP metrics, whose cumulative-to-delta state
  lives in one process as it would in one Lambda environment, to its first worker only.
  What a stored batch changed (hosts, metrics: `ports.ChangeFeed`) comes back with the result and is
  told to the server's live hub, so pushed dashboard updates see batches stored here.
- **jobs**: the scheduler's storage jobs (`jobs.STORAGE_JOBS`: rollups, fleet tier, retention), each
  seconds of Python after a burst of ingest. The scheduler stays in the server and waits for each.

The server process keeps everything else (reads, admin API, alert evaluation and delivery,
self-metrics). All write the same SQLite file; SQLite's lock and busy timeout order their transactions.

The local cost meter (`usage_meter.py`) keeps counting the store work done here: each worker wraps
its own store in a `MeteredStore` with a meter of its own and hands what it counted during a call
back with that call's result; the server adds it to its meter on the calling thread. Chosen over
each process persisting its own counts because the counts then arrive with the call they belong to:
a scheduled job's share of an AWS invocation (`usage_meter.scheduled`, a context variable on the
scheduler's thread) and the retention purge's `uncounted` apply to them exactly as when the job ran
in the server, and the server stays the one writer of the hour's usage document (no per-process
documents to sum, no counts lost to a flush racing a worker). What a killed worker counted for the
call it was running is lost with it, like the call.

If a worker dies or does not answer in time, the caller gets `Unavailable` (503 + Retry-After for a
request; whether it was stored is unknown, as after a crash, and a retried `batch_id` is recognised as
a duplicate; a job is retried on the next tick) and a new worker is started.

Standard library only, plus the gateway's loaders and the jobs; must not import waitress.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Collection
from multiprocessing.connection import Connection
from typing import Any

from vigil.config import Config
from vigil.domain.errors import Unavailable
from vigil.local.usage_meter import UsageMeter
from vigil.ports import ChangeFeed

log = logging.getLogger("vigil.local")
ANSWER_TIMEOUT = 25.0  # seconds; under the clients' usual 30 s, far above a batch's ~50 ms
STOP_TIMEOUT = 3.0
READY_TIMEOUT = 60.0  # spawning an interpreter and importing the handlers: ~1 s, much more on a busy machine
RETRY_AFTER_SECONDS = 1
PRELOAD = {"ingest": ("metrics",)}  # the functions ingest routes bind to: imported before the first request
JOB_TIMEOUT = 600.0  # seconds a storage job may run (rollups of a large backlog take minutes)
# Both workers run at a lower CPU priority than the server process (`nice` +10, set once they are
# ready, so start-up is not slowed): when the CPUs are short, the dashboard's reads and `/health` run
# first and bulk ingest and storage jobs take what is left; on an idle machine they lose nothing.
# Measured (docs/architecture.md, load average 12-18): read p95 under 16 pushers 1.5-3.1x idle at
# nice 0, 1.1-1.4x at nice 10 (medians); ingest yields to other busy processes too.
NICENESS = 10
# A fresh interpreter (`python -m vigil.local.worker <fd>`), not multiprocessing: the server has threads
# (never fork it), and multiprocessing's "spawn" re-imports the parent's __main__ script in the child,
# which fails for `python -` and re-runs any script that starts a server without a __main__ guard.


def serve(conn: Connection, config: Config, started: float, role: str) -> None:
    """A worker process' loop: ("handler", function, event) or ("job", name, now) in, ("ok", result,
    counts, changes) or ("raised", text, counts, changes) out, `counts` what its store work added to the
    cost meter, `changes` what the call told its change feed (`RecordedChanges.take`).
    `started`: when the server started (OTLP's cumulative state tracks from then, not from this
    process' later start)."""
    from vigil.local.gateway import LocalLambdaContext, load_function_handler
    from vigil.local.jobs import STORAGE_JOBS
    from vigil.local.metered_store import metered_store
    from vigil.wiring import AppContext, bind

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s %(name)s[{role}]: %(message)s")
    meter = UsageMeter()
    ctx = AppContext(config, _store=metered_store(config, meter))
    ctx.started = started
    changes = RecordedChanges()
    ctx.changes = changes
    handlers = {name: load_function_handler(name) for name in PRELOAD.get(role, ())}
    with contextlib.suppress(OSError):  # a platform that refuses leaves the worker at the server's
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), NICENESS))
    conn.send(("ready", os.getpid()))
    frozen = False
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the server went away
                return
            if message is None:
                return
            kind, name, arg = message
            try:
                with bind(ctx):
                    if kind == "job":
                        result = STORAGE_JOBS[name](ctx, arg)
                    else:
                        if name not in handlers:
                            handlers[name] = load_function_handler(name)
                        result = handlers[name](arg, LocalLambdaContext(f"vigil-{name}"))
                answer: tuple[str, Any] = ("ok", result)
            except Exception as exc:  # handlers map every domain error: a bug, or a job that failed
                log.exception("%s worker: %s failed", role, name)
                answer = ("raised", f"{type(exc).__name__}: {exc}")
            conn.send((*answer, meter.take_counts(), changes.take()))
            if not frozen:  # after the first call: its lazy imports (numpy, the decoders) are in
                frozen = _freeze_startup_objects()
    finally:
        ctx.store.close()


def _freeze_startup_objects() -> bool:
    """Move every object alive now out of the cyclic collector's sight, so its full collections stop
    walking them: nearly all are the imports' modules, functions and classes, plus the store's caches,
    which live as long as the process (27 k objects in a jobs worker after one job). In a remote-write
    loop those full collections took 0.11-0.16 of 2.8-3.3 CPU-s per 1 M samples, 0.002 once frozen
    (docs/architecture.md, "Ingest, twelfth pass"). Refcounting still frees a frozen object; only
    cyclic garbage among them would stay, and what is alive after the first call is long-lived."""
    gc.collect()
    gc.freeze()
    return True


class RecordedChanges:
    """The worker's change feed: what its calls told it, taken after each call and replayed by the
    server into the feed dashboards listen to (picklable plain tuples)."""

    def __init__(self) -> None:
        self._samples: list[tuple[str, tuple[str, ...]]] = []
        self._alerts = False

    def samples_stored(self, host: str, metrics: Collection[str]) -> None:
        self._samples.append((host, tuple(metrics)))

    def alerts_changed(self) -> None:
        self._alerts = True

    def take(self) -> tuple[list[tuple[str, tuple[str, ...]]], bool]:
        taken = (self._samples, self._alerts)
        self._samples, self._alerts = [], False
        return taken

    @staticmethod
    def replay(taken: tuple[list[tuple[str, tuple[str, ...]]], bool], feed: ChangeFeed) -> None:
        samples, alerts = taken
        for host, metrics in samples:
            feed.samples_stored(host, metrics)
        if alerts:
            feed.alerts_changed()


class Worker:
    """One worker process: `invoke(function, event)` runs a handler there, `run_job(name, now)` a
    storage job; thread-safe (calls take turns). What the worker's store work counted is added to
    `usage` (on the calling thread, so a scheduled job's share applies)."""

    def __init__(
        self,
        config: Config,
        started: float,
        role: str,
        usage: UsageMeter | None = None,
        changes: ChangeFeed | None = None,
    ) -> None:
        self.config = config
        self.started = started
        self.role = role
        self.usage = usage
        self.changes = changes  # told what the worker's calls changed (the server's live hub)
        self._stopped = False
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None  # set once the worker said it is ready
        self.restarts = 0

    def start(self) -> Worker:
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
            if self._conn is None:  # stopped
                raise Unavailable("the server is stopping", retry_after=RETRY_AFTER_SECONDS)
            try:
                ready, pid = self._conn.recv() if self._conn.poll(timeout) else (None, None)
            except (EOFError, OSError):
                ready, pid = None, None
            if ready != "ready":
                self._replace()
                raise Unavailable(
                    f"the {self.role} worker did not start within {timeout:.0f} s",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            self._pid = int(pid or 0)
        return self._pid

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # what we import
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.local.worker", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        conn = Connection(ours.detach())
        conn.send((self.config, self.started, self.role))
        self._conn, self._proc, self._pid = conn, proc, None

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's result for `event`, run in the worker.

        Raises:
            Unavailable: the worker died or did not answer within `ANSWER_TIMEOUT` (it is replaced).
            RuntimeError: the handler raised (a bug: handlers map every domain error)."""
        result: dict[str, Any] = self._call(("handler", function, event), ANSWER_TIMEOUT)
        return result

    def run_job(self, name: str, now: float) -> object:
        """Runs `jobs.STORAGE_JOBS[name](ctx, now)` in the worker and returns its report.

        Raises:
            Unavailable: the worker died or did not finish within `JOB_TIMEOUT` (it is replaced).
            RuntimeError: the job raised."""
        return self._call(("job", name, now), JOB_TIMEOUT)

    def _call(self, message: tuple[str, str, Any], timeout: float) -> Any:
        with self._lock:
            if self._conn is None:
                raise Unavailable("the server is stopping", retry_after=RETRY_AFTER_SECONDS)
            self._ready(ANSWER_TIMEOUT)  # a replaced worker may still be starting
            try:
                self._conn.send(message)
                if self._conn.poll(timeout):
                    status, payload, counts, changed = self._conn.recv()
                    if self.usage is not None:
                        self.usage.add(**counts)
                    if self.changes is not None:
                        RecordedChanges.replay(changed, self.changes)
                else:
                    status, payload = "error", f"no answer within {timeout:.0f} s"
            except (EOFError, OSError) as exc:
                status, payload = "error", f"the {self.role} worker exited ({exc or type(exc).__name__})"
            if status == "ok":
                return payload
            if status == "raised":  # as if it had raised here: the worker itself is fine
                raise RuntimeError(f"{message[1]} raised in the {self.role} worker: {payload}")
            log.error("%s worker: %s; starting a new one", self.role, payload)
            self._replace()
        raise Unavailable(f"{payload}; retry after {RETRY_AFTER_SECONDS} s", retry_after=RETRY_AFTER_SECONDS)

    def _replace(self) -> None:
        self._close(timeout=0.5)
        if not self._stopped:  # a call that fails while the server stops starts no new worker
            self.restarts += 1
            self._spawn()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Let the worker finish its request and exit (killed after `timeout` s)."""
        self._stopped = True
        if self._lock.acquire(timeout=timeout):  # a request still running gets the budget...
            try:
                self._close(timeout)
            finally:
                self._lock.release()
        elif self._proc is not None:  # ...then the worker is killed: its transaction rolls back
            self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(1.0)

    def _close(self, timeout: float) -> None:
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            with contextlib.suppress(OSError):  # already gone
                conn.send(None)
            conn.close()
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                # a killed worker is gone; on a loaded machine it may take a moment to be reaped, and
                # stopping must not raise for that (a CI replay at load 10 did: TimeoutExpired after 1 s)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5.0)


def main(argv: list[str]) -> None:
    """Entry of the worker process: `python -m vigil.local.worker <fd of its end of the socket pair>`;
    the first message is (config, started, role). Its life is the server's: Ctrl-C and a SIGTERM sent
    to the whole process group (systemd does) are the server's to act on; it then stops this worker
    after its running request, and a server that went away closes the socket (EOF: exit)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    conn = Connection(int(argv[0]))
    try:
        config, started, role = conn.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        return
    serve(conn, config, started, role)


if __name__ == "__main__":
    main(sys.argv[1:])
