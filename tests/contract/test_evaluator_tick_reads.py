"""The evaluator's tick read on both stores: the shared window's points and every host's listing read
together (`windows.read_tick(with_hosts=True)`, one Query per host on DynamoDB) answer exactly what the
window read and `list_hosts()` answer apart: the same points, and for each host the same newest push
(cadence, last seen) — for a steady host, one silent since before the window, one whose newest chunk is
timestamped ahead of the clock, and one whose latest push carried only old samples (a flushed backlog)."""

from __future__ import annotations

from typing import Any

from vigil.alerting.windows import read_tick, read_window
from vigil.domain.models import Point
from vigil.domain.rules import Rule

T0 = 1_764_028_800.0
CPU = "system.cpu.utilization"
MEM = "system.memory.utilization"
RULES = [
    Rule(id="cpu", name="CPU", metric=CPU, agg="avg", window=300, op=">", threshold=0.9),
    Rule(id="mem", name="Mem", metric=MEM, agg="max", window=600, op=">", threshold=0.9),
    Rule(id="down", name="Down", metric=CPU, agg="absent", window=180, group_by=["host"], missed_intervals=3),
]


def push(store: Any, host: str, at: float, stamps: list[float], interval: float | None = 60.0) -> None:
    """One agent push received at `at` carrying CPU and memory samples at `stamps`."""
    points = [Point(host, m, (), ts, 0.5) for ts in stamps for m in (CPU, MEM)]
    store.put_samples(host, points, None, at, push_interval=interval)


def seed(store: Any, now: float) -> None:
    for minute in range(30, 0, -1):  # steady: a push every minute up to a minute ago
        at = now - 60 * minute
        push(store, "steady", at, [at - 50 + 10 * i for i in range(6)])
        if minute >= 20:  # silent for the last 20 minutes, well before the 10-minute window
            push(store, "silent", at, [at - 30, at])
        if minute >= 15:  # declared nothing: judged by its learned gaps
            push(store, "backlog", at, [at], interval=None)
    # ahead of the clock: its newest chunk's minute is after `now`
    push(store, "ahead", now - 120, [now - 125, now + 400])
    # after 15 silent minutes the agent flushes a backlog of samples 12 minutes old: the newest push
    push(store, "backlog", now - 30, [now - 720, now - 710], interval=None)


def test_the_window_and_the_hosts_read_together_answer_what_they_answer_apart(store: Any) -> None:
    now = T0 + 6 * 3600
    seed(store, now)
    apart_window = read_window(store, RULES, now)
    apart_hosts = store.list_hosts()
    together, hosts = read_tick(store, RULES, now, with_hosts=True)
    assert hosts == apart_hosts
    assert {h.host for h in hosts} == {"steady", "silent", "ahead", "backlog"}
    assert together.keys() == apart_window.keys()
    for key, data in together.items():
        assert sorted(data.points, key=repr) == sorted(apart_window[key].points, key=repr)
        assert data.points, key  # the window holds samples of every rule's metric
    pushes = {h.host: h.cadence.last_push for h in hosts if h.host != "ahead"}
    assert pushes == {"steady": now - 60, "silent": now - 1200, "backlog": now - 30}
    assert read_tick(store, RULES, now)[1] is None  # no listing unless asked


def test_a_tick_without_a_cadence_rule_lists_no_hosts(store: Any) -> None:
    now = T0 + 6 * 3600
    seed(store, now)
    window, hosts = read_tick(store, RULES[:2], now, with_hosts=False)
    assert hosts is None and window.keys() == read_window(store, RULES[:2], now).keys()
