"""Batches the agent's samples and delivers them to `POST <url>/v1/samples`, surviving a server that is down.

Samples go into an open batch; `seal()` closes it. Every sample carries its own `ts` (one missing is
stamped when added), so a batch is identified by its content: the server stores a retried batch once
without a `batch_id` (`vigil.domain.batches`), which on DynamoDB saves the batch claim's write per push
(docs/data-model.md). A batch sent once is never changed afterwards — it is delivered or dropped whole —
so every retry carries the same content. Sealed batches are sent oldest first. The
answer decides what happens (the same classifier as Alertmanager's notifiers): 2xx delivered; connection
errors, timeouts, 429 and 5xx keep the batch and retry after exponential backoff with jitter (honouring a
numeric Retry-After); 401/403 also keep it (the key may be re-issued; the bounded buffer caps the cost)
but log "check your --key"; any other 4xx drops that batch with the server's message and field, since
sending the same bytes again cannot succeed. Everything buffered (open + sealed) is bounded by a sample
count; when it overflows the oldest samples go first and the count is logged. Nothing here raises on a
transient failure. Not thread-safe: one sampling loop owns a Pusher.

Imports: requests, the standard library and `vigil.domain.models`; never psutil or the server code.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests

from vigil.domain.models import HOST_RE, SampleBatch, SampleIn

log = logging.getLogger("vigil.agent")


@dataclass(frozen=True)
class PushSettings:
    """Tuning knobs; the defaults suit a host sampling every 10 s and pushing once a minute."""

    max_batch: int = 1000  # samples per request; the server accepts 5,000 / 1 MiB
    buffer_limit: int = 10_000  # samples kept in memory while the server is unreachable
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    backoff_base: float = 1.0  # seconds before the first retry
    backoff_max: float = 300.0  # ceiling of the exponential backoff
    push_interval: float | None = None  # declared to the server, which judges "host not reporting" by it


@dataclass
class PushStats:
    """Counters for logs and tests; read from any thread (plain ints)."""

    delivered_samples: int = 0
    delivered_batches: int = 0
    dropped_samples: int = 0  # buffer overflow
    rejected_samples: int = 0  # the server refused the batch (4xx other than 401/403/429)
    failed_attempts: int = 0


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    AUTH = "auth"
    REJECTED = "rejected"


def classify(status: int) -> Outcome:
    """What an HTTP status means for a batch: delivered, retry later, bad key, or give up on it."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in (401, 403):
        return Outcome.AUTH
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED  # other 4xx, and 3xx (a redirect means the --url is wrong)


def backoff_delay(failures: int, base: float, cap: float, rnd: float) -> float:
    """Seconds to wait after `failures` consecutive failures: exponential, capped, "equal jitter".

    The wait lies between half and all of min(cap, base * 2**(failures - 1)), so many agents restarted
    together spread out but none retries immediately. `rnd` is a uniform draw in [0, 1).
    """
    ceiling = min(cap, base * 2.0 ** min(max(failures - 1, 0), 60))
    return ceiling * (0.5 + 0.5 * rnd)


def describe_error(resp: requests.Response) -> str:
    """The server's reason in one line: `code: message (field F)` from Vigil's error body, else text."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        text = f"{err.get('code', 'error')}: {err.get('message', '')}"
        return f"{text} (field {err['field']})" if err.get("field") else text
    body = resp.text.strip().replace("\n", " ")[:300]
    return body or resp.reason or "no details"


def safe_host_name(raw: str) -> str:
    """`raw` (e.g. `socket.gethostname()`) made acceptable to Vigil: characters outside letters, digits
    and `. _ : -` become `-`, at most 128 characters, never empty."""
    name = re.sub(r"[^A-Za-z0-9_.:\-]", "-", raw).lstrip("-_.:")[:128]
    return name or "localhost"


def _retry_after(resp: requests.Response) -> float | None:
    raw = resp.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:  # an HTTP date: rare for this API; the backoff covers it
        return None


@dataclass
class _Batch:
    ref: str  # names the batch in the agent's logs; never sent (the content identifies a retry)
    samples: list[SampleIn] = field(default_factory=list)
    attempted: bool = False  # sent at least once: from then on its content must not change


class Pusher:
    """Buffer + HTTP delivery for one host's samples (see the module docstring for the rules)."""

    def __init__(
        self,
        url: str,
        key: str,
        host: str,
        settings: PushSettings | None = None,
        *,
        session: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """Raises: ValueError when `host` is not a valid Vigil host name."""
        if not HOST_RE.match(host):
            raise ValueError(f"host name {host!r} must match {HOST_RE.pattern}")
        self.settings = settings or PushSettings()
        self.stats = PushStats()
        self._endpoint = url.rstrip("/") + "/v1/samples"
        self._host = host
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "User-Agent": "vigil-agent/0.1",
        }
        self._session = session or requests.Session()
        self._monotonic = monotonic
        self._rand = rand
        self._wall = wall
        self._open = _Batch("")
        self._sealed: deque[_Batch] = deque()
        self._failures = 0
        self._retry_at = 0.0
        self.last_failure: str | None = None  # why the latest attempt failed, for the shutdown log

    def close(self) -> None:
        """Release the HTTP connection pool (keep-alive sockets to the server)."""
        self._session.close()

    # ------------------------------------------------------------------ buffer

    @property
    def buffered(self) -> int:
        """Samples not yet delivered (open batch + sealed batches)."""
        return len(self._open.samples) + sum(len(b.samples) for b in self._sealed)

    @property
    def retry_at(self) -> float | None:
        """Monotonic time of the next retry while backing off, else None."""
        return self._retry_at if self._sealed and self._failures else None

    def add(self, samples: Iterable[SampleIn]) -> None:
        """Buffer samples; seals a batch whenever it reaches `max_batch`; enforces the buffer bound.
        A sample without `ts` is stamped now, so the batch's retries are recognised by their content."""
        for sample in samples:
            if sample.ts is None:
                sample = sample.model_copy(update={"ts": self._wall()})
            self._open.samples.append(sample)
            if len(self._open.samples) >= self.settings.max_batch:
                self.seal()
        self._enforce_bound()

    def seal(self) -> None:
        """Close the open batch (if any); it is sent as it is now through every retry."""
        if self._open.samples:
            self._open.ref = uuid.uuid4().hex[:12]
            self._sealed.append(self._open)
            self._open = _Batch("")

    def _enforce_bound(self) -> None:
        excess = self.buffered - self.settings.buffer_limit
        if excess <= 0:
            return
        dropped = 0
        while excess > 0:
            oldest = self._sealed[0] if self._sealed else self._open
            take = min(excess, len(oldest.samples))
            if oldest.attempted:  # an earlier attempt may have been stored: a trimmed retry would
                take = len(oldest.samples)  # be new content and store its samples twice; drop it whole
            del oldest.samples[:take]
            if not oldest.samples and oldest is not self._open:
                self._sealed.popleft()
            excess -= take
            dropped += take
        self.stats.dropped_samples += dropped
        log.warning(
            "buffer full (%d samples): dropped the oldest %d samples (%d dropped since start)",
            self.settings.buffer_limit,
            dropped,
            self.stats.dropped_samples,
        )

    # ------------------------------------------------------------------ delivery

    def send_due(self) -> bool:
        """Send sealed batches unless backing off. True when nothing sealed is left undelivered."""
        if self._sealed and self._monotonic() >= self._retry_at:
            self._send_sealed()
        return not self._sealed

    def flush(self) -> bool:
        """Seal and try every batch now, ignoring the backoff (shutdown, `--once`).

        Returns True when the whole buffer was delivered or rejected, False when some is still held.
        """
        self.seal()
        self._retry_at = 0.0
        self._send_sealed()
        return not self._sealed

    def _send_sealed(self) -> None:
        while self._sealed:
            batch = self._sealed[0]
            batch.attempted = True
            outcome, retry_after = self._post(batch)
            if outcome in (Outcome.RETRY, Outcome.AUTH):
                self._failures += 1
                self.stats.failed_attempts += 1
                delay = backoff_delay(
                    self._failures, self.settings.backoff_base, self.settings.backoff_max, self._rand()
                )
                if retry_after is not None:
                    delay = min(max(delay, retry_after), self.settings.backoff_max)
                self._retry_at = self._monotonic() + delay
                log.info("%d samples buffered; next attempt in %.1f s", self.buffered, delay)
                return
            self._sealed.popleft()
            if self._failures:
                log.info("server reachable again after %d failed attempts", self._failures)
            self._failures = 0
            self._retry_at = 0.0
            if outcome is Outcome.DELIVERED:
                self.stats.delivered_batches += 1
                self.stats.delivered_samples += len(batch.samples)
            else:
                self.stats.rejected_samples += len(batch.samples)

    def _post(self, batch: _Batch) -> tuple[Outcome, float | None]:
        body = SampleBatch(
            host=self._host,
            samples=batch.samples,
            push_interval=self.settings.push_interval,
        )
        try:
            resp = self._session.post(
                self._endpoint,
                data=body.model_dump_json(exclude_none=True).encode(),
                headers=self._headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                allow_redirects=False,  # requests would turn a redirected POST into a GET
            )
        except requests.RequestException as exc:
            # The exception text names the URL, never the headers, so the key cannot leak here.
            self.last_failure = f"server unreachable ({type(exc).__name__})"
            log.warning("cannot reach %s: %s", self._endpoint, type(exc).__name__)
            log.debug("connection error detail: %s", exc)
            return Outcome.RETRY, None
        outcome = classify(resp.status_code)
        if outcome in (Outcome.RETRY, Outcome.AUTH):
            self.last_failure = f"HTTP {resp.status_code}"
        if outcome is Outcome.RETRY:
            log.warning(
                "server busy or failing (HTTP %d) for batch %s: %s",
                resp.status_code,
                batch.ref,
                describe_error(resp),
            )
        elif outcome is Outcome.AUTH:
            log.error(
                "ingest key rejected by %s (HTTP %d: %s): check your --key (or VIGIL_INGEST_KEY); "
                "keeping the samples and retrying",
                self._endpoint,
                resp.status_code,
                describe_error(resp),
            )
        elif outcome is Outcome.REJECTED:
            log.error(
                "server rejected batch %s (HTTP %d: %s); dropping its %d samples",
                batch.ref,
                resp.status_code,
                describe_error(resp),
                len(batch.samples),
            )
        return outcome, _retry_after(resp)
