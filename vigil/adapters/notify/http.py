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

import email.utils
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import requests

from vigil.adapters.notify.redact import redact, redact_library_logs
from vigil.adapters.notify.ssrf import Resolver, WebhookPolicy, pinned_session, resolve_target
from vigil.domain.errors import DeliveryError

redact_library_logs()


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
    timeout: float = 5.0  # per request (connect + read)


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
        target = resolve_target(url, self.policy, self.resolver)  # once: every retry reuses the IP
        session = pinned_session(target)
        sent = {**headers, "Host": target.host_header}
        attempt = 0
        try:
            while True:
                attempt += 1
                error = self._attempt(session, url, body, sent, what, secrets)
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
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        what: str,
        secrets: Sequence[str | None],
    ) -> DeliveryError | None:
        timeout = max(0.1, min(self.retry.timeout, self.deadline.remaining()))
        try:
            resp = session.post(url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            reason = redact(f"{what}: connection failed: {type(exc).__name__}: {exc}", secrets)
            return DeliveryError(reason, retryable=True)
        return classify(resp.status_code, resp.headers, resp.text[:200], what=what, secrets=secrets)


def classify(
    status: int, headers: Mapping[str, str], body: str, *, what: str, secrets: Sequence[str | None] = ()
) -> DeliveryError | None:
    """None when delivered, else the error with its retry decision."""
    if 200 <= status < 300:
        return None
    detail = redact(f"{what} answered HTTP {status}" + (f": {body.strip()}" if body.strip() else ""), secrets)
    if status == 429 or status >= 500:
        return DeliveryError(detail, retryable=True, retry_after=retry_after(headers.get("Retry-After")))
    if 300 <= status < 400:
        return DeliveryError(f"{detail} (redirects are not followed)", retryable=False)
    return DeliveryError(detail, retryable=False)


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
