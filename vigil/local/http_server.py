"""The local server's HTTP layer: waitress, tuned for traffic it does not control.

- Slow and idle clients are cut off: a request (headers and body) must arrive within
  `REQUEST_READ_TIMEOUT` seconds of its first byte (waitress itself only has an idle timeout, which a
  slowloris client dripping one byte a second never trips), and an idle keep-alive connection closes
  after `IDLE_TIMEOUT`. Half-received requests live in the event loop, not in worker threads, so they
  cannot starve handlers; the connection limit is high and the loop uses poll() (select() stops at
  1,024 descriptors), so 500 of them leave `/health` answering at once.
- Logs stay useful under load: waitress' "Task queue depth is N" warning (one line per queued request)
  becomes a count that `LoadReport` turns into one summary line per interval.
- Connections stay open after a 204 or 304: waitress 3.0.2 closes the connection after any answer
  without a Content-Length, bodiless ones included, so every live-refresh revalidation (304) and
  every remote-write request (204) paid a new TCP connection (`KeepAliveTask`).
- Shutdown is graceful and bounded: `drain()` stops accepting, lets the worker threads finish the
  requests they are running (queued ones are cancelled), flushes their answers, then closes.

Imports waitress; only `vigil.local.server` imports this module.
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from vigil.local.admission import Admission

log = logging.getLogger("vigil.local")
REQUEST_READ_TIMEOUT = 10.0  # seconds from a request's first byte to its last (headers and body)
IDLE_TIMEOUT = 30  # seconds a keep-alive connection may sit idle
CONNECTION_LIMIT = 2000  # open connections before the listener pauses (needs the fd limit raised)
ACCEPT_BURST = 128  # connections accepted per event-loop pass at most
THREADS = 24  # handler threads: ingest is capped by admission slots, the rest stay free for reads


class QueueDepth:
    """Stands in for waitress' queue logger: counts "task queue depth" events instead of logging each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events = 0
        self.max_depth = 0

    def warning(self, msg: str, depth: int, *args: object) -> None:
        with self._lock:
            self.events += 1
            self.max_depth = max(self.max_depth, depth)

    def take(self) -> tuple[int, int]:
        """(events, deepest queue) since the last call."""
        with self._lock:
            taken = (self.events, self.max_depth)
            self.events = self.max_depth = 0
        return taken


class Dispatcher(ThreadedTaskDispatcher):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.queue_logger = QueueDepth()


class StreamOpener(Protocol):
    """Serves one path as a long-lived stream from the event loop (`vigil.local.live.LiveHub`)."""

    path: str

    def open(self, channel: Any, query: str) -> bool:
        """Write the answer's head on `channel`; True when the channel now belongs to the stream."""
        ...


class KeepAliveTask(WSGITask):  # type: ignore[misc]
    """A WSGI task that keeps an HTTP/1.1 connection open after a 1xx, 204 or 304 answer. Such an
    answer ends at its blank line (RFC 9112 section 6.3), so the client can send its next request on
    the same connection; waitress closes it because the answer has no Content-Length. Every other
    reason to close (the client asked, HTTP/1.0, an error, a body of unknown length) still closes."""

    _bodiless_keep_alive = False

    def build_response_header(self) -> bytes:
        self._bodiless_keep_alive = (
            not self.has_body
            and self.version == "1.1"
            and not self.close_on_finish
            and self.request.headers.get("CONNECTION", "").lower() != "close"
        )
        try:
            header: bytes = super().build_response_header()
        finally:
            self._bodiless_keep_alive = False
        return header

    def set_close_on_finish(self) -> None:
        if not self._bodiless_keep_alive:  # waitress' "no Content-Length" reason, for a bodiless answer
            super().set_close_on_finish()


class TimedChannel(HTTPChannel):  # type: ignore[misc]
    """Remembers when the request being received started (None between requests), and hands
    `GET <stream path>` to the server's `StreamOpener` instead of a WSGI task: the connection then
    stays open without holding a handler thread."""

    task_class = KeepAliveTask
    request_started: float | None = None
    streaming = False
    requests: list[Any]

    def received(self, data: bytes) -> bool:
        if self.streaming:  # a stream takes no further requests on its connection
            return False
        result: bool = super().received(data)
        if self.request is None:
            self.request_started = None
        elif self.request_started is None:
            self.request_started = time.monotonic()
        return result

    def handle_write(self) -> None:
        """waitress flushes a channel without its lock while no request is running, because then no
        other thread writes to it; a stream's sender thread does, so a stream's flush takes the lock
        (re-entrant) like every `write_soon` does."""
        if not self.streaming:
            super().handle_write()
            return
        with self.outbuf_lock:
            super().handle_write()

    def service(self) -> None:
        request = self.requests[0]
        opener: StreamOpener | None = getattr(self.server, "stream_opener", None)
        if opener is None or request.error or request.command != "GET" or request.path != opener.path:
            super().service()
            return
        self.streaming = opener.open(self, request.query)
        with self.requests_lock:
            for queued in self.requests:
                queued.close()
            self.requests = []  # the loop flushes what the stream writes from now on
            self.close_when_flushed = not self.streaming
        self.last_activity = time.time()
        self.server.pull_trigger()


class Server(TcpWSGIServer):  # type: ignore[misc]
    channel_class = TimedChannel
    stream_opener: StreamOpener | None = None

    def handle_accept(self) -> None:
        """Accept every waiting connection, not one per loop pass: each pass walks every open
        channel, so a burst of 500 connections cost 500 passes over up to 500 channels and held
        `/health` up for a quarter of a second."""
        for _ in range(ACCEPT_BURST):
            before = len(self._map)
            super().handle_accept()
            if len(self._map) == before or len(self._map) >= self.adj.connection_limit:
                return

    def maintenance(self, now: float) -> None:
        """Every `cleanup_interval`: waitress closes idle channels; we also close the ones whose
        request has been arriving for longer than `REQUEST_READ_TIMEOUT` (slowloris)."""
        super().maintenance(now)
        cutoff = time.monotonic() - REQUEST_READ_TIMEOUT
        for channel in list(self.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and started < cutoff and not channel.requests:
                channel.will_close = True


def raise_fd_limit(wanted: int = CONNECTION_LIMIT + 256) -> int:
    """Raise this process' soft open-file limit towards `wanted` (never above the hard limit), so the
    connection limit is reachable; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("cannot raise the open-file limit above %d", soft)
    return soft


def create(
    app: Callable[..., Any],
    host: str,
    port: int,
    threads: int = THREADS,
    stream_opener: StreamOpener | None = None,
) -> Server:
    limit = raise_fd_limit()
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident="vigil",
        clear_untrusted_proxy_headers=True,
        channel_timeout=IDLE_TIMEOUT,
        cleanup_interval=1,  # how often maintenance() runs: bounds how late a slow request is cut
        connection_limit=max(100, min(CONNECTION_LIMIT, limit - 256)),
        asyncore_use_poll=True,
        backlog=1024,
    )
    dispatcher = Dispatcher()
    dispatcher.set_thread_count(adj.threads)
    server = Server(app, {}, True, None, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    server.stream_opener = stream_opener
    return server


def drain(server: Server, timeout: float) -> None:
    """Stop accepting, let running requests finish (at most `timeout` s; queued ones are cancelled),
    give their answers up to a second to flush, then close every connection."""
    deadline = time.monotonic() + timeout
    server.accepting = False
    server.del_channel()  # the listener leaves the event loop...
    server.socket.close()  # ...and new connections are refused from here on
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(0.1, deadline - time.monotonic() - 1))
    flush_by = min(deadline, time.monotonic() + 1.0)
    channels = [c for c in list(server._map.values()) if c is not server]
    while time.monotonic() < flush_by and any(getattr(c, "total_outbufs_len", 0) for c in channels):
        time.sleep(0.02)  # the event loop thread is writing them out; nothing to wait on but the buffers
    for channel in channels:
        channel.will_close = True  # the loop closes them once written (or at once when idle)
        if not getattr(channel, "total_outbufs_len", 0):
            channel.close()


class LoadReport:
    """One log line per interval saying how loaded the server was, instead of a line per request."""

    def __init__(self, queue: QueueDepth, admission: Admission) -> None:
        self._queue = queue
        self._admission = admission
        self._refused_before = 0

    def log(self, now: float) -> None:
        events, deepest = self._queue.take()
        refused = self._admission.refused
        new_refusals, self._refused_before = refused - self._refused_before, refused
        if events or new_refusals:
            log.warning(
                "under load since the last report: %d requests waited for a handler thread (queue up to"
                " %d deep); %d ingest requests refused with 503 (write path saturated)",
                events,
                deepest,
                new_refusals,
            )
