"""In-memory `CumulativeState` for OTLP cumulative-to-delta conversion.

Local mode keeps one per server process (exact). In AWS each warm Lambda container keeps its own:
after a cold start the first export of a series only sets the baseline (one interval per series is
not counted, see `vigil.domain.cumulative`), and when one exporter's requests are spread over several
concurrent containers their deltas overlap and over-count. Apps on AWS should export with delta
temporality (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`), which needs no state at all;
a store-backed state is the upgrade path. Bounded: the least recently written series are forgotten
beyond `max_series`. Standard library only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from vigil.domain.cumulative import CumulativeEntry


class MemoryCumulativeState:
    def __init__(self, tracking_since: float, max_series: int = 100_000) -> None:
        self._since = tracking_since
        self._max = max_series
        self._entries: OrderedDict[str, CumulativeEntry] = OrderedDict()
        self._lock = threading.Lock()  # the local server handles requests on several threads

    @property
    def tracking_since(self) -> float:
        return self._since

    def get(self, key: str) -> CumulativeEntry | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: CumulativeEntry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
