"""Pushed dashboard updates in local mode: Server-Sent Events at `GET /api/live?ticket=`.

The stream is served beside the gateway (a Lambda cannot hold a connection; AWS uses the WebSocket
API), inside waitress' event loop rather than in a handler thread: `http_server.TimedChannel` hands
the request to `LiveHub.open`, which checks the ticket (`vigil.api.live_tickets`), writes the
response head and keeps the connection. No thread is held per stream, so open dashboards cannot use
up the 24 handler threads, and `/health` answers as fast with streams open as without.

`LiveHub` is also the process' `ChangeFeed`: the ingest service and the evaluator tell it what
changed after each successful write. Every stream has ONE pending `domain.changes.Pending` (bounded,
so a busy server cannot queue messages for a slow client): changes fold into it, and one sender
thread writes it out at most once per `MIN_GAP_SECONDS` per stream. A stream whose client reads
slower than that (more than `MAX_UNSENT_BYTES` waiting in its buffer) is closed — the page falls back
to polling and reconnects. At most `MAX_STREAMS` streams; the next is refused with 503.

Knows waitress' channel only by the attributes it uses (`write_soon`, `connected`, buffers).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.parse
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.api.errors import error_payload
from vigil.api.live_tickets import LIVE_PATH, TicketVerifier
from vigil.domain.changes import Pending
from vigil.domain.errors import Unavailable, VigilError
from vigil.ports import Clock

log = logging.getLogger("vigil.local")
MIN_GAP_SECONDS = 1.0  # at most one message per second per stream
HEARTBEAT_SECONDS = 15.0  # a comment line: keeps proxies and waitress' 30 s idle timeout from closing it
MAX_STREAMS = 64
MAX_UNSENT_BYTES = 64 * 1024  # a client this far behind is cut off (it polls, then reconnects)
RETRY_MS = 5000  # EventSource's reconnection delay, sent in the stream


@dataclass(eq=False)
class Stream:
    channel: Any  # waitress HTTPChannel
    pending: Pending = field(default_factory=Pending)
    last_sent: float = 0.0
    last_write: float = field(default_factory=time.monotonic)


class LiveHub:
    path = LIVE_PATH

    def __init__(
        self,
        verifier: TicketVerifier,
        clock: Clock,
        headers: Sequence[tuple[str, str]] = (),
        *,
        max_streams: int = MAX_STREAMS,
        max_unsent_bytes: int = MAX_UNSENT_BYTES,
    ) -> None:
        self._verifier = verifier
        self._clock = clock
        self._headers = list(headers)
        self.max_streams = max_streams
        self.max_unsent_bytes = max_unsent_bytes
        self._streams: list[Stream] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.dropped_slow = 0

    # -- ChangeFeed ----------------------------------------------------------------------------
    def samples_stored(self, host: str, metrics: Collection[str]) -> None:
        with self._cond:
            for stream in self._streams:
                stream.pending.add_samples(host, metrics)
            self._cond.notify()

    def alerts_changed(self) -> None:
        with self._cond:
            for stream in self._streams:
                stream.pending.add_alerts()
            self._cond.notify()

    # -- streams -------------------------------------------------------------------------------
    @property
    def open_streams(self) -> int:
        with self._cond:
            return sum(1 for s in self._streams if s.channel.connected)

    def open(self, channel: Any, query: str) -> bool:
        """Answer `GET /api/live?<query>` on `channel` (a handler thread, once per stream). True: the
        stream is open and this hub writes to it from now on; False: an error answer was written."""
        ticket = urllib.parse.parse_qs(query).get("ticket", [None])[0]
        try:
            self._verifier.redeem(ticket, self._clock.now())
            with self._cond:
                self._streams = [s for s in self._streams if s.channel.connected]
                if len(self._streams) >= self.max_streams:
                    raise Unavailable("too many live streams open; the page polls instead", retry_after=30)
                head = self._head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])
                channel.write_soon(head + f"retry: {RETRY_MS}\n: open\n\n".encode())
                self._streams.append(Stream(channel))
        except VigilError as exc:
            status, body, extra = error_payload(exc)
            headers = [("Content-Type", "application/json"), *extra.items()]
            channel.write_soon(self._head(status, [*headers, ("Content-Length", str(len(body)))]) + body)
            return False
        return True

    def _head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        reason = {200: "OK", 401: "Unauthorized", 503: "Service Unavailable"}.get(status, "Error")
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers + self._headers)]
        return ("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1")

    # -- the sender thread ---------------------------------------------------------------------
    def start(self) -> LiveHub:
        self._thread = threading.Thread(target=self._run, name="vigil-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                due, wait = self._due(time.monotonic())
                if not due:
                    self._cond.wait(wait)
                    continue
            for stream, data in due:  # outside the lock: a write may flush to the socket
                self._write(stream, data)

    def _due(self, now: float) -> tuple[list[tuple[Stream, bytes]], float]:
        """(stream, bytes) to write now, and how long to sleep when nothing is due. Holds the lock."""
        due: list[tuple[Stream, bytes]] = []
        wait = HEARTBEAT_SECONDS
        for stream in self._streams:
            if stream.pending and now - stream.last_sent >= MIN_GAP_SECONDS:
                due.append((stream, b"event: change\ndata: " + stream.pending.message() + b"\n\n"))
                stream.pending, stream.last_sent, stream.last_write = Pending(), now, now
            elif stream.pending:
                wait = min(wait, MIN_GAP_SECONDS - (now - stream.last_sent))
            elif now - stream.last_write >= HEARTBEAT_SECONDS:
                due.append((stream, b": ping\n\n"))
                stream.last_write = now
            else:
                wait = min(wait, HEARTBEAT_SECONDS - (now - stream.last_write))
        return due, max(wait, 0.01)

    def _write(self, stream: Stream, data: bytes) -> None:
        channel = stream.channel
        try:
            if channel.total_outbufs_len > self.max_unsent_bytes:
                self.dropped_slow += 1
                raise ConnectionError("client reads too slowly")
            channel.write_soon(data)
            channel.server.pull_trigger()  # small writes wait for the loop: wake it
        except Exception:  # ClientDisconnected, a socket error or a slow client: forget the stream
            channel.will_close = True
            with self._cond:
                if stream in self._streams:
                    self._streams.remove(stream)
            with contextlib.suppress(OSError):
                channel.server.pull_trigger()
