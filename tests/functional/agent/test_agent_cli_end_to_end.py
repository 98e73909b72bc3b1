"""`vigil agent` end to end against a loopback receiver: `--once`, SIGTERM, and `--otlp` via the SDK."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from vigil.agent import command
from vigil.agent.collector import METRICS
from vigil.domain.models import SampleBatch

ROOT = Path(__file__).resolve().parents[3]
RATES = {"system.cpu.utilization", "system.disk.io", "system.network.io"}


def test_once_samples_twice_and_pushes_one_batch_of_real_samples(receiver):
    rc = command.main(
        ["--url", receiver.url + "/", "--key", "k-once", "--interval", "0.05", "--once", "--host", "cron-1"]
    )
    assert rc == 0
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req.headers["authorization"] == "Bearer k-once"
    batch = SampleBatch.model_validate_json(req.body)
    assert batch.host == "cron-1"
    assert batch.batch_id is None and all(s.ts is not None for s in batch.samples)
    names = {s.metric for s in batch.samples}
    assert "system.cpu.utilization" in names  # the second tick supplies the rates
    assert names <= set(METRICS)


def test_the_agent_declares_its_push_interval_with_every_batch(receiver):
    argv = [
        "--url",
        receiver.url,
        "--key",
        "k",
        "--interval",
        "0.05",
        "--flush",
        "300",
        "--once",
        "--host",
        "h",
    ]
    assert command.main(argv) == 0
    assert SampleBatch.model_validate_json(receiver.requests[0].body).push_interval == 300.0


def test_once_reads_the_key_from_the_environment_and_exits_1_when_undelivered(receiver, monkeypatch):
    monkeypatch.setenv("VIGIL_INGEST_KEY", "k-env")
    assert command.main(["--url", receiver.url, "--interval", "0.01", "--once"]) == 0
    assert receiver.requests[0].headers["authorization"] == "Bearer k-env"
    receiver.stop()
    assert command.main(["--url", receiver.url, "--interval", "0.01", "--once"]) == 1


def test_sigterm_makes_the_agent_flush_once_and_exit_cleanly(receiver):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigil.agent",
            "--url",
            receiver.url,
            "--key",
            "k-sig",
            "--interval",
            "0.02",
            "--flush",
            "3600",
            "--host",
            "sig-1",
            "-v",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        receiver.wait_for(lambda r: len(r.stored) == 1)  # the first sample goes out at once
        # The loop logs "collected ..." before pushing, on one thread: the second such line therefore
        # reports samples taken after the first push, which only the final flush can deliver.
        ticks = 0
        while ticks < 2:
            line = lines.get(timeout=10)
            seen.append(line)
            ticks += bool(re.search(r"collected \d+ samples, [1-9]\d* buffered", line))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    while not lines.empty():
        seen.append(lines.get())
    log = "".join(seen)
    assert "received SIGTERM" in log
    assert "k-sig" not in log
    assert len(receiver.stored) == 2  # the final flush
    final = list(receiver.stored.values())[-1]
    assert {s.metric for s in final.samples} & RATES


def test_otlp_mode_posts_protobuf_metrics_from_the_official_exporter(receiver):
    def otlp(req):
        return (
            200,
            {"Content-Type": "application/x-protobuf"},
            ExportMetricsServiceResponse().SerializeToString(),
        )

    receiver.responder = otlp
    rc = command.main(
        [
            "--url",
            receiver.url,
            "--key",
            "k-otlp",
            "--otlp",
            "--once",
            "--interval",
            "0.05",
            "--host",
            "otel-1",
        ]
    )
    assert rc == 0
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req.path == "/v1/metrics"
    assert req.headers["content-type"] == "application/x-protobuf"
    assert req.headers["authorization"] == "Bearer k-otlp"
    export = ExportMetricsServiceRequest.FromString(req.body)
    (rm,) = export.resource_metrics
    resource = {a.key: a.value.string_value for a in rm.resource.attributes}
    assert resource["host.name"] == "otel-1"
    metrics = {m.name: m for sm in rm.scope_metrics for m in sm.metrics}
    assert {
        "system.cpu.utilization",
        "system.memory.utilization",
        "system.memory.usage",
        "system.process.count",
        "system.filesystem.utilization",
    } <= set(metrics)
    assert set(metrics) <= set(METRICS)
    memory = metrics["system.memory.utilization"]
    assert memory.unit == "1"
    (point,) = memory.gauge.data_points
    assert {a.key: a.value.string_value for a in point.attributes} == {"state": "used"}
    assert 0.0 < point.as_double <= 1.0
