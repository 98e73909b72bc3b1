"""Samples this host with psutil under OpenTelemetry semantic-convention names and units.

`METRICS` is the catalogue the agent emits (name -> unit, description); docs/agent.md shows it as a
table and the `--otlp` mode creates one observable gauge per entry. Utilizations are ratios in [0, 1]
(OpenTelemetry's unit "1"); the dashboard multiplies by 100 for display. Counters that the OS reports
as running totals (disk and network bytes) are turned into per-second rates with `vigil.agent.rates`,
so the first tick after start emits no rate and a counter reset skips one tick. Each reading is guarded
on its own: a metric the platform cannot provide (no disks in a container, connections needing root on
macOS) is skipped with one warning and the rest still arrive.

Imports: psutil, the standard library, `vigil.domain.models` and `vigil.agent.rates`; never HTTP code.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import psutil

from vigil.agent.rates import CounterRates, CpuTicks, cpu_utilization
from vigil.domain.models import SampleIn

log = logging.getLogger("vigil.agent")

# name -> (UCUM unit as OpenTelemetry writes it, description). Order is the order samples are emitted.
METRICS: Final[dict[str, tuple[str, str]]] = {
    "system.cpu.utilization": ("1", "Share of CPU time busy since the previous sample, all CPUs (0..1)"),
    "system.cpu.load_average.1m": ("{thread}", "1-minute load average (absent on platforms without one)"),
    "system.cpu.load_average.5m": ("{thread}", "5-minute load average"),
    "system.cpu.load_average.15m": ("{thread}", "15-minute load average"),
    "system.memory.usage": ("By", "Memory in use (total - available), label state=used"),
    "system.memory.limit": ("By", "Total physical memory"),
    "system.memory.utilization": ("1", "Memory in use / total, label state=used (0..1)"),
    "system.disk.io": ("By/s", "Disk bytes per second, label direction=read|write"),
    "system.network.io": ("By/s", "Network bytes per second, loopback excluded, direction=receive|transmit"),
    "system.network.connections": ("{connection}", "Established TCP connections"),
    "system.process.count": ("{process}", "Number of processes"),
    "system.filesystem.utilization": ("1", "Used share of the root filesystem, label mountpoint (0..1)"),
}

Collect = Callable[[], list[SampleIn]]


def _cpu_ticks() -> CpuTicks:
    times = psutil.cpu_times()
    fields = times._asdict()
    # guest/guest_nice are already counted inside user/nice on Linux; psutil's cpu_percent skips them too.
    total = sum(v for k, v in fields.items() if k not in ("guest", "guest_nice"))
    idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
    return CpuTicks(busy=total - idle, total=total)


def _is_loopback(nic: str) -> bool:
    return nic.startswith("lo") or "loopback" in nic.lower()  # lo (Linux), lo0 (macOS), Windows name


class HostCollector:
    """Reads this host's system metrics; call `collect()` once per tick (it keeps counter baselines).

    Not thread-safe: one collector belongs to one sampling loop.
    """

    def __init__(
        self,
        *,
        root_path: str | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = root_path or os.path.abspath(os.sep)
        self._clock = clock
        self._monotonic = monotonic
        self._rates = CounterRates()
        self._cpu_prev: CpuTicks | None = None
        self._warned: set[str] = set()

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Skip one reading that the platform refuses, warning once per reading (not once per tick)."""
        try:
            yield
        except psutil.AccessDenied:
            self._warn_once(what, f"{what}: access denied (run as a user allowed to read it); skipping")
        except (psutil.Error, OSError, NotImplementedError, AttributeError, RuntimeError) as exc:
            self._warn_once(what, f"{what}: not available on this host ({exc!r}); skipping")

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning(message)

    def collect(self) -> list[SampleIn]:
        """One tick's samples. Rates and CPU utilization appear from the second call on."""
        ts = self._clock()
        mono = self._monotonic()
        out: list[SampleIn] = []

        def add(metric: str, value: float, **labels: str) -> None:
            out.append(SampleIn(metric=metric, value=float(value), ts=ts, labels=labels))

        def add_rate(metric: str, key: str, counter: float, **labels: str) -> None:
            rate = self._rates.update(key, counter, mono)
            if rate is not None:
                add(metric, rate, **labels)

        with self._guard("cpu"):
            ticks = _cpu_ticks()
            util = cpu_utilization(self._cpu_prev, ticks)
            self._cpu_prev = ticks
            if util is not None:
                add("system.cpu.utilization", util, cpu="total")
        with self._guard("load average"):
            one, five, fifteen = psutil.getloadavg()
            add("system.cpu.load_average.1m", one)
            add("system.cpu.load_average.5m", five)
            add("system.cpu.load_average.15m", fifteen)
        with self._guard("memory"):
            vm = psutil.virtual_memory()
            # total - available matches psutil's `percent`; psutil's `used` is defined differently per OS.
            used = max(0, vm.total - vm.available)
            add("system.memory.usage", used, state="used")
            add("system.memory.limit", vm.total)
            if vm.total > 0:
                add("system.memory.utilization", used / vm.total, state="used")
        with self._guard("disk io"):
            disk = psutil.disk_io_counters(perdisk=False)
            if disk is None:  # containers and some VMs have no block devices visible
                raise NotImplementedError("no disk counters")
            add_rate("system.disk.io", "disk.read", disk.read_bytes, direction="read")
            add_rate("system.disk.io", "disk.write", disk.write_bytes, direction="write")
        with self._guard("network io"):
            nics = psutil.net_io_counters(pernic=True)
            real = [c for name, c in nics.items() if not _is_loopback(name)]
            # Sum of all non-loopback interfaces; an interface vanishing lowers the sum, which the rate
            # logic treats as a reset (one skipped tick) rather than a negative rate.
            add_rate("system.network.io", "net.rx", sum(c.bytes_recv for c in real), direction="receive")
            add_rate("system.network.io", "net.tx", sum(c.bytes_sent for c in real), direction="transmit")
        with self._guard("network connections"):
            conns = psutil.net_connections(kind="tcp")
            established = sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED)
            add("system.network.connections", established, protocol="tcp", state="ESTABLISHED")
        with self._guard("process count"):
            add("system.process.count", len(psutil.pids()))
        with self._guard("filesystem"):
            usage = psutil.disk_usage(self._root)
            # psutil's percent is used / (used + free), like `df`: blocks reserved for root don't count.
            add("system.filesystem.utilization", usage.percent / 100.0, mountpoint=self._root)
        return out
