"""The host collector: real psutil readings become valid `SampleIn`s under the documented names."""

from __future__ import annotations

import logging
import re
from collections import namedtuple
from pathlib import Path

import psutil

from vigil.agent.collector import METRICS, HostCollector
from vigil.domain.models import SampleBatch, SampleIn

DiskIO = namedtuple("DiskIO", "read_bytes write_bytes")
NetIO = namedtuple("NetIO", "bytes_recv bytes_sent")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def by_key(samples: list[SampleIn]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.metric, tuple(sorted(s.labels.items()))): s.value for s in samples if s.value is not None}


def test_two_real_ticks_give_valid_samples_with_opentelemetry_names():
    collector = HostCollector()
    first = collector.collect()
    second = collector.collect()
    for samples in (first, second):
        # round-trip through the wire model exactly as the pusher sends it
        batch = SampleBatch.model_validate_json(SampleBatch(host="h", samples=samples).model_dump_json())
        assert len(batch.samples) == len(samples)
        assert {s.metric for s in samples} <= set(METRICS)
    names = {s.metric for s in second}
    always = {
        "system.cpu.utilization",
        "system.memory.usage",
        "system.memory.limit",
        "system.memory.utilization",
        "system.process.count",
        "system.filesystem.utilization",
    }
    assert always <= names
    assert "system.cpu.utilization" not in {s.metric for s in first}  # needs two readings
    values = by_key(second)
    for key, value in values.items():
        if METRICS[key[0]][0] == "1":
            assert 0.0 <= value <= 1.0, key
        assert value >= 0, key
    assert values[("system.memory.usage", (("state", "used"),))] <= values[("system.memory.limit", ())]


def test_disk_and_network_rates_are_bytes_per_second_from_the_second_tick(monkeypatch):
    mono = FakeClock()
    disk = iter([DiskIO(1000, 5000), DiskIO(3000, 5000), DiskIO(500, 9000)])
    nets = iter(
        [
            {"lo": NetIO(0, 0), "eth0": NetIO(100, 200)},
            {"lo": NetIO(10**9, 10**9), "eth0": NetIO(600, 1200)},
        ]
    )
    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: next(disk))
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic=True: next(nets))
    collector = HostCollector(monotonic=mono)

    first = by_key(collector.collect())
    assert not any(m in ("system.disk.io", "system.network.io") for m, _ in first)

    mono.t += 2.0
    second = by_key(collector.collect())
    assert second[("system.disk.io", (("direction", "read"),))] == 1000.0
    assert second[("system.disk.io", (("direction", "write"),))] == 0.0
    assert second[("system.network.io", (("direction", "receive"),))] == 250.0  # loopback excluded
    assert second[("system.network.io", (("direction", "transmit"),))] == 500.0

    mono.t += 2.0
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic=True: {"eth0": NetIO(600, 1200)})
    third = by_key(collector.collect())
    assert ("system.disk.io", (("direction", "read"),)) not in third  # counter went down: skipped
    assert third[("system.disk.io", (("direction", "write"),))] == 2000.0


def test_connections_that_need_privileges_are_skipped_with_one_warning(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="vigil.agent")

    def denied(kind: str = "inet") -> list[object]:
        raise psutil.AccessDenied(pid=None)

    monkeypatch.setattr(psutil, "net_connections", denied)
    collector = HostCollector()
    first, second = collector.collect(), collector.collect()
    assert "system.network.connections" not in {s.metric for s in first + second}
    assert "system.memory.utilization" in {s.metric for s in second}
    assert caplog.text.count("network connections: access denied") == 1


def test_established_tcp_connections_are_counted(monkeypatch):
    Conn = namedtuple("Conn", "status")
    conns = [Conn(psutil.CONN_ESTABLISHED), Conn(psutil.CONN_LISTEN), Conn(psutil.CONN_ESTABLISHED)]
    monkeypatch.setattr(psutil, "net_connections", lambda kind="inet": conns)
    values = by_key(HostCollector().collect())
    assert values[("system.network.connections", (("protocol", "tcp"), ("state", "ESTABLISHED")))] == 2.0


def test_a_host_without_disk_counters_still_reports_everything_else(monkeypatch):
    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: None)
    collector = HostCollector()
    collector.collect()
    names = {s.metric for s in collector.collect()}
    assert "system.disk.io" not in names
    assert "system.cpu.utilization" in names


def test_docs_agent_md_lists_every_metric_with_its_unit():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9_.]+)` \| `([^`]+)` \|", doc, flags=re.M))
    assert rows == {name: unit for name, (unit, _) in METRICS.items()}
