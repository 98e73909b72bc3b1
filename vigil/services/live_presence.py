"""Whether any dashboard is watching pushed updates — so ingest in AWS publishes only then.

AppSync Events bills every publish, watched or not: a fleet whose batches arrive every second would
publish ~2.6 M times a month per warm ingest container (≈ US$2.6) with no dashboard open. Open
dashboards therefore say so (`POST /api/live/watch`, once a minute while subscribed), which writes
one document with a deadline; ingest reads it at most every `CHECK_EVERY_SECONDS` per container and
publishes only before that deadline. Costs: one meta-table write per open dashboard a minute, one
eventually consistent read per ingest container every 10 s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vigil.ports import Store

KIND, DOC_ID = "live", "watched"
WATCH_SECONDS = 90.0  # a dashboard says it is watching every 60 s; a missed beat is tolerated
CHECK_EVERY_SECONDS = 10.0


def note_watching(store: Store, now: float) -> None:
    store.put_doc(KIND, DOC_ID, {"until": now + WATCH_SECONDS})


class Presence:
    """`watched()` for the AppSync feed: the deadline document, read at most every 10 s."""

    def __init__(self, store: Callable[[], Store], clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._until = 0.0
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def watched(self) -> bool:
        now = self._clock()
        with self._lock:
            if now - self._checked >= CHECK_EVERY_SECONDS:
                self._checked = now
                doc = self._store().get_doc(KIND, DOC_ID)
                self._until = float(doc["until"]) if doc else 0.0
            return now < self._until
