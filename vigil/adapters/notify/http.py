"""The one HTTP helper every webhook-style notifier uses: SSRF-checked, DNS-pinned POST with the shared
response classifier and retries.

Classifier (Alertmanager's): 2xx delivered; 429 and 5xx retryable, honouring `Retry-After` (seconds or
an HTTP date); redirects and other 4xx final. Connection errors and timeouts are retryable. Retries back
off exponentially (0.5 s, 1 s, 2 s, ... capped) inside the deadline — in Lambda the function's remaining
time minus a margin — then the last error is raised so Lambda's async retry and its on-failure DLQ keep
the message. Every message is redacted. Imports: standard library, requests, `vigil.adapters.notify`,
`vigil.domain.errors`.
"""

from __future__ import annotations

import contextlib
import email.utils
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vigil.adapters.notify.redact import redact, redact_library_logs
from vigil.adapters.notify.ssrf import Resolver, WebhookPolicy, resolve_target
from vigil.domain.errors import DeliveryError

if TYPE_CHECKING:
    import requests

redact_library_logs()


MAX_BODY_BYTES = 4096  # of a receiver's answer: enough for the error detail, never a flood


@dataclass(frozen=True)
class Deadline:
    """Seconds left to deliver; `remaining` is e.g. Lambda's `get_remaining_time_in_millis() / 1000`."""

    remaining: Callable[[], float]

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        end = time.monotonic() + seconds
        return cls(lambda: end - time.monotonic())


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 5.0  # per request, total: connect + send + the whole answer


@dataclass
class HttpClient:
    """What a webhook notifier needs to POST: the policy, the deadline and injectable sleep/resolver
    (tests record the back-off instead of waiting, and resolve test names to 127.0.0.1)."""

    policy: WebhookPolicy
    deadline: Deadline
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    resolver: Resolver | None = None

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, what: str, secrets: Sequence[str | None]
    ) -> None:
        """POST `body` until delivered, a final answer, the attempt limit or the deadline.

        Raises:
            DeliveryError: redacted; `retryable` tells the caller whether a later retry can help.
        """
        from vigil.adapters.notify.pinned import pinned_session  # loads requests: only when sending

        target = resolve_target(url, self.policy, self.resolver)  # once: every retry reuses the IP
        watchdog = Watchdog()
        session = pinned_session(target, watchdog.attach)
        sent = {**headers, "Host": target.host_header}
        attempt = 0
        try:
            while True:
                attempt += 1
                error = self._attempt(session, watchdog, url, body, sent, what, secrets)
                if error is None:
                    return
                if not error.retryable:
                    raise error
                wait = (
                    error.retry_after
                    if error.retry_after is not None
                    else min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
                )
                if (
                    attempt >= self.retry.max_attempts
                    or self.deadline.remaining() < wait + self.retry.timeout
                ):
                    raise DeliveryError(
                        f"{error.message} (gave up after {attempt} attempts)",
                        retryable=True,
                        retry_after=error.retry_after,
                    )
                self.sleep(wait)
        finally:
            session.close()

    def _attempt(
        self,
        session: requests.Session,
        watchdog: Watchdog,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        what: str,
        secrets: Sequence[str | None],
    ) -> DeliveryError | None:
        """One request within ONE total budget (connect + send + headers + body): requests' timeouts
        are per socket operation, so a receiver trickling its answer byte by byte would never trip
        them; the watchdog shuts the socket down when the budget is spent. At most `MAX_BODY_BYTES`
        of the answer are read (only its first 200 characters are ever shown)."""
        import requests
        import urllib3

        budget = max(0.1, min(self.retry.timeout, self.deadline.remaining()))
        watchdog.start(budget)
        try:
            with session.post(
                url, data=body, headers=dict(headers), timeout=budget, allow_redirects=False, stream=True
            ) as resp:
                text = resp.raw.read(MAX_BODY_BYTES, decode_content=True).decode("utf-8", "replace")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if watchdog.fired:
                return DeliveryError(f"{what}: no complete answer within {budget:.1f} s", retryable=True)
            reason = redact(f"{what}: connection failed: {type(exc).__name__}: {exc}", secrets)
            return DeliveryError(reason, retryable=True)
        finally:
            watchdog.stop()
        if watchdog.fired:
            return DeliveryError(f"{what}: no complete answer within {budget:.1f} s", retryable=True)
        return classify(resp.status_code, resp.headers, text[:200], what=what, secrets=secrets)


class Watchdog:
    """Shuts a connection's socket down when an attempt's budget runs out (unblocking any read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self.fired = False

    def attach(self, sock: socket.socket) -> None:
        """The adapter calls this for each new connection (a kept-alive one stays attached)."""
        with self._lock:
            self._sock = sock
            if self.fired:
                _shutdown(sock)

    def start(self, seconds: float) -> None:
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def classify(
    status: int, headers: Mapping[str, str], body: str, *, what: str, secrets: Sequence[str | None] = ()
) -> DeliveryError | None:
    """None when delivered, else the error with its retry decision."""
    if 200 <= status < 300:
        return None
    detail = redact(f"{what} answered HTTP {status}" + (f": {body.strip()}" if body.strip() else ""), secrets)
    if status == 429 or status >= 500:
        retry = retry_after(headers.get("Retry-After"))
        return DeliveryError(detail, retryable=True, retry_after=retry, status=status)
    if 300 <= status < 400:
        return DeliveryError(f"{detail} (redirects are not followed)", retryable=False, status=status)
    return DeliveryError(detail, retryable=False, status=status)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
