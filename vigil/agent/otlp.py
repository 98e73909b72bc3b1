"""`vigil agent --otlp`: the same host samples as OTLP/HTTP metrics, sent by the official OpenTelemetry SDK.

This proves interoperability from our side: nothing Vigil-specific is on the wire, just what
`opentelemetry-exporter-otlp-proto-http` sends to `<url>/v1/metrics` (protobuf, bearer header). Our own
loop samples every `interval` into a snapshot; one observable gauge per `METRICS` entry reports the
snapshot when the SDK's `PeriodicExportingMetricReader` collects, also every `interval`. Resource
attributes `host.name` and `service.name` carry the host. Caveat, documented in docs/agent.md: the
exporter retries internally and then drops; its `force_flush()` returns True even when the server is
down, so this mode cannot report delivery and has no buffer of its own (use the JSON mode for that).

Imports: opentelemetry sdk + exporter (only here, loaded lazily by command.py), `vigil.agent.collector`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from vigil.agent.collector import METRICS, Collect
from vigil.domain.models import SampleIn

log = logging.getLogger("vigil.agent")


class _Snapshot:
    """The latest tick's samples, shared between our sampling loop and the SDK's reader thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: list[SampleIn] = []

    def replace(self, samples: list[SampleIn]) -> None:
        with self._lock:
            self._samples = samples

    def observe(self, metric: str) -> list[Observation]:
        with self._lock:
            return [
                Observation(s.value, dict(s.labels))
                for s in self._samples
                if s.metric == metric and s.value is not None
            ]


def _callback(snapshot: _Snapshot, metric: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        return snapshot.observe(metric)

    return observe


def run_otlp(
    url: str,
    key: str,
    host: str,
    *,
    collect: Collect,
    interval: float,
    stop: threading.Event,
    once: bool = False,
    timeout: float = 5.0,
) -> int:
    """Sample every `interval` and export over OTLP/HTTP until `stop` is set (or once). Returns 0.

    With `once`, samples twice one interval apart and exports a single time (no periodic thread).
    """
    exporter = OTLPMetricExporter(
        endpoint=f"{url.rstrip('/')}/v1/metrics",
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
        compression=Compression.NoCompression,
    )
    reader = PeriodicExportingMetricReader(
        exporter,
        export_interval_millis=math.inf if once else interval * 1000.0,
        export_timeout_millis=timeout * 1000.0,
    )
    provider = MeterProvider(
        resource=Resource.create({"host.name": host, "service.name": "vigil-agent"}),
        metric_readers=[reader],
    )
    snapshot = _Snapshot()
    meter = provider.get_meter("vigil.agent")
    for name, (unit, description) in METRICS.items():
        meter.create_observable_gauge(name, [_callback(snapshot, name)], unit=unit, description=description)

    def tick() -> None:
        try:
            snapshot.replace(collect())
        except Exception:
            log.exception("sampling failed; continuing")

    try:
        tick()
        if once:
            if not stop.wait(interval):
                tick()
            provider.force_flush(timeout_millis=timeout * 1000.0)
        else:
            while not stop.wait(interval):
                tick()
    finally:
        # shutdown() collects and exports one last time; a down server costs at most `timeout`.
        provider.shutdown(timeout_millis=timeout * 1000.0)
    return 0
