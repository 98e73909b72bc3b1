"""Local mode's stand-in for SNS + the notify Lambda + its retries and DLQ. `LocalDispatcher.publish`
makes the first delivery attempt in-process (`deliver_once`); channels that fail retryably are kept
as a `notify_retry` document and tried again by the scheduler's `retry_due` job with exponential
back-off (10 s, 30 s, 90 s, ...), and after `VIGIL_NOTIFY_MAX_ATTEMPTS` (5) attempts the notification
becomes a dead letter with the last reasons. A message that cannot be handled at all (a poison
message) is dead-lettered at once. A failing notification never blocks others: each attempt is one
bounded try (`LOCAL_ATTEMPT_SECONDS`, at most two HTTP requests), the waiting is done by the queue,
not by sleeping in the evaluator's tick.

Imports: `vigil.alerting`, `vigil.config`, `vigil.ports`, `vigil.adapters.notify`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.http import Deadline, HttpClient, RetryPolicy
from vigil.adapters.notify.ssrf import policy_for
from vigil.alerting import dead_letters
from vigil.alerting.delivery import deliver_once, notify_context
from vigil.alerting.ports import Attributes
from vigil.config import Config
from vigil.ports import Store

log = logging.getLogger(__name__)

RETRY_KIND = "notify_retry"
FIRST_RETRY_SECONDS = 10.0
RETRY_FACTOR = 3.0
MAX_RETRY_DELAY_SECONDS = 900.0
LOCAL_ATTEMPT_SECONDS = 10.0  # one attempt's total budget, all channels together
LOCAL_RETRY = RetryPolicy(max_attempts=2)  # inside one attempt; longer waits belong to the queue


def retry_delay(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts: 10, 30, 90, 270, ... capped at 15 min."""
    return min(MAX_RETRY_DELAY_SECONDS, FIRST_RETRY_SECONDS * RETRY_FACTOR ** (attempts - 1))


def attempt_context(config: Config, store: Store) -> NotifyContext:
    """One bounded delivery attempt's context (local dispatch, and a replay in either mode)."""
    http = HttpClient(policy_for(config), Deadline.after(LOCAL_ATTEMPT_SECONDS), retry=LOCAL_RETRY)
    return notify_context(config, store, http=http)


def attempt(
    store: Store, config: Config, message: dict[str, Any], attempts: int, context: NotifyContext
) -> str:
    """One delivery attempt (the `attempts`-th) of `message`. Returns what became of it:
    "delivered" (or failed for good: then already a dead letter), "retry" or "dead"."""
    now = context.clock()
    nid = str(message.get("id"))
    try:
        report = deliver_once(message, store, config, context=context)
    except Exception as exc:
        dead_letters.record(
            store, message, {"*": f"{type(exc).__name__}: {exc}"}, now, source="local", attempts=attempts
        )
        store.delete_doc(RETRY_KIND, nid)
        return "dead"
    if not report.retry:
        store.delete_doc(RETRY_KIND, nid)
        return "delivered"
    if attempts >= config.notify_max_attempts:
        dead_letters.record(store, message, report.retry, now, source="local", attempts=attempts)
        store.delete_doc(RETRY_KIND, nid)
        return "dead"
    store.put_doc(
        RETRY_KIND,
        nid,
        {
            "id": nid,
            "message": message,
            "attempts": attempts,
            "next_at": now + retry_delay(attempts),
            "reason": "; ".join(f"{cid}: {why}" for cid, why in report.retry.items()),
        },
    )
    return "retry"


def retry_due(
    store: Store, config: Config, now: float, context_factory: Callable[[], NotifyContext] | None = None
) -> dict[str, str]:
    """The scheduler's job: one more attempt for every queued notification whose back-off is over.
    Returns notification id → outcome."""
    factory = context_factory or (lambda: attempt_context(config, store))
    out = {}
    for doc in sorted(store.list_docs(RETRY_KIND), key=lambda d: float(d.get("next_at", 0))):
        if float(doc.get("next_at", 0)) <= now:
            out[str(doc["id"])] = attempt(store, config, doc["message"], int(doc["attempts"]) + 1, factory())
    return out


class LocalDispatcher:
    """The evaluator's publisher in local mode: delivers in-process, never raises for a delivery
    failure (the retry queue or the dead letters own the notification from here)."""

    def __init__(
        self, store: Store, config: Config, context_factory: Callable[[], NotifyContext] | None = None
    ) -> None:
        self.store, self.config = store, config
        self.context_factory = context_factory or (lambda: attempt_context(config, store))

    def publish(self, message: dict[str, Any], attributes: Attributes) -> None:
        attempt(self.store, self.config, message, 1, self.context_factory())
