"""Store contract for long alert windows (`vigil.alerting.windows`): a 7-day rule reads daily and
hourly rollups for its settled whole hours and raw samples only at its edges, gives the value the
whole week of raw samples gives, and reads per tick a number of rows/items that does not grow with the
week's samples — on SqliteStore and DynamoStore (moto)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from vigil.alerting.service import run_evaluation
from vigil.alerting.windows import read_window, rollup_span, window_key
from vigil.domain import histograms
from vigil.domain.aggregate import aggregate
from vigil.domain.models import Point
from vigil.domain.rules import Rule
from vigil.services.rollups import note_late_samples, run_rollups

HOUR = 3600.0
WEEK = 7 * 86400.0
MIDNIGHT = 1_764_028_800.0
NOW = MIDNIGHT + 1807  # half past an hour: a partial hour at the head and at the tail
RAN = MIDNIGHT + 67  # the rollup job's last run, in this hour: its watermark is MIDNIGHT
STEP = 600.0  # one sample every 10 minutes per series
HOSTS = ("web-1", "web-2")
HIST_BOUNDS = (0.1, 0.5, 1.0)


def week_of_samples(host: str) -> list[Point]:
    """8 days (the window's head is older than 7 days) of a gauge with quarter values (their float
    sums are exact, so rollups and raw agree to the last bit), a latency histogram, and a counter."""
    out = []
    start = NOW - 8 * 86400
    for i in range(int((NOW - start) // STEP)):
        ts = start + i * STEP + (3 if host == "web-1" else 17)
        out.append(Point(host, "cpu", (), ts, ((i * 7) % 16) / 4))
        hist = histograms.from_values([0.0625 * (1 + i % 5), 0.75], HIST_BOUNDS)
        out.append(Point(host, "latency", (), ts, None, hist))
        out.append(Point(host, "requests", (), ts, float(i * 3 + (i % 5))))  # +4 +4 +4 +4 -1: a reset
    return out


def seed(store: Any) -> None:
    """The week, the rollup job's run at `RAN`, then three things it has not folded in: samples after
    its run (the tail), a sample in the hour before its watermark, and a late sample for an old hour
    (ingest marks it dirty)."""
    for host in HOSTS:
        points = [p for p in week_of_samples(host) if p.ts < RAN]
        for day in range(9):  # one batch per host-day
            batch = [p for p in points if NOW - (9 - day) * 86400 <= p.ts < NOW - (8 - day) * 86400]
            if batch:
                store.put_samples(host, batch, f"{host}-{day}", RAN)
    run_rollups(store, RAN, retention_seconds=WEEK)
    for host in HOSTS:
        store.put_samples(host, [p for p in week_of_samples(host) if p.ts >= RAN], f"{host}-tail", NOW)
    store.put_samples("web-2", [Point("web-2", "cpu", (), RAN - 1800, 3.75)], "unsettled", NOW)
    late = [Point("web-1", "cpu", (), NOW - 3 * 86400 + 5, 3.5), Point("web-1", "cpu", (), NOW - 86400, 0.25)]
    store.put_samples("web-1", late, "late", NOW)
    assert note_late_samples(store, "web-1", late, NOW) == 2


def weekly(agg: str, metric: str = "cpu", group_by: tuple[str, ...] = ("host",)) -> Rule:
    return Rule(
        id=f"weekly-{agg}-{metric}-{len(group_by)}",
        name=f"weekly {agg}",
        metric=metric,
        agg=agg,
        window="7d",
        op=">",
        threshold=1e9,
        group_by=list(group_by),
    )


EXACT = [
    weekly("avg"),
    weekly("min"),
    weekly("max"),
    weekly("sum"),
    weekly("count"),
    weekly("avg", group_by=()),
    weekly("sum", group_by=()),
    weekly("p95", "latency"),
    weekly("p50", "latency", group_by=()),
    weekly("avg", "latency"),
    weekly("count", "latency"),
    weekly("rate", "latency"),
]


def test_a_seven_day_rule_from_rollups_and_raw_gives_what_raw_alone_gives(store: Any) -> None:
    seed(store)
    first, last = rollup_span(store, NOW - WEEK, NOW)
    # settled: up to the hour before the watermark; 166 whole hours (5 days and 2 x 23 hours), raw
    # for 0.5 h + 1.5 h around them
    assert (first, last) == (MIDNIGHT - WEEK + HOUR, MIDNIGHT - HOUR)
    data = read_window(store, EXACT, NOW)
    raw = list(store.query_many(["cpu", "latency"], NOW - WEEK, NOW, now=NOW))
    for rule in EXACT:
        window = data[window_key(rule)]
        assert window.rollups, "the long window must be answered from rollups"
        from_raw = aggregate(rule, raw, NOW - WEEK, NOW)
        got = aggregate(rule, window.points, NOW - WEEK, NOW, window.rollups)
        assert {k: v.value for k, v in got.items()} == {k: v.value for k, v in from_raw.items()}, rule.id
    # web-1's late samples are not in its rollups yet: that host is read raw, the other from rollups
    cpu = data[("cpu", 7 * 86400.0, False)]
    assert {r.host for r in cpu.rollups} == {"web-2"}


def test_approximated_aggregations_stay_close_to_raw(store: Any) -> None:
    """Plain-value percentiles come from the rollups' sketches (about 1 %), a counter's rate leaves out
    the sample gap at each hour boundary (docs/alerting.md)."""
    seed(store)
    rules = [weekly("p95"), weekly("p50", group_by=()), weekly("rate", "requests")]
    data = read_window(store, rules, NOW)
    raw = list(store.query_many(["cpu", "requests"], NOW - WEEK, NOW, now=NOW))
    for rule in rules:
        window = data[window_key(rule)]
        from_raw = aggregate(rule, raw, NOW - WEEK, NOW)
        got = aggregate(rule, window.points, NOW - WEEK, NOW, window.rollups)
        assert got.keys() == from_raw.keys()
        for key, value in got.items():
            assert value.value == pytest.approx(from_raw[key].value, rel=0.02), (rule.id, key)


class ReadCounter:
    """Delegates to a real store, counting the raw points and rollups its reads yield."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.read: Counter[str] = Counter()

    def query_many(self, *args: Any, **kwargs: Any) -> Iterator[Point]:
        for p in self.inner.query_many(*args, **kwargs):
            self.read["points"] += 1
            yield p

    def query_rollups(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for r in self.inner.query_rollups(*args, **kwargs):
            self.read["rollups"] += 1
            yield r

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def items_read(store: Any) -> Iterator[Counter[str]]:
    """On DynamoDB, the items each Query returned by partition kind (`R#` raw chunks, `H#` hourly
    rollups), counted by botocore hooks on the store's client; on SQLite an empty counter."""
    counts: Counter[str] = Counter()
    client = getattr(getattr(store, "io", None), "client", None)
    if client is None:
        yield counts
        return
    asked: dict[str, str] = {}

    def before(params: dict[str, Any], **_: Any) -> None:
        asked["pk"] = params["ExpressionAttributeValues"][":pk"]["S"]

    def after(parsed: dict[str, Any], **_: Any) -> None:
        counts[asked["pk"][:2]] += int(parsed.get("Count", 0))

    client.meta.events.register("provide-client-params.dynamodb.Query", before)
    client.meta.events.register("after-call.dynamodb.Query", after)
    try:
        yield counts
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.Query", before)
        client.meta.events.unregister("after-call.dynamodb.Query", after)


class Recorder:
    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        pass


def test_a_seven_day_rule_reads_per_tick_what_does_not_grow_with_a_week_of_samples(
    store: Any, items_read: Counter[str]
) -> None:
    seed(store)
    counter = ReadCounter(store)
    rule = weekly("avg")
    run_evaluation(counter, Recorder(), [rule], NOW)  # the first tick creates the state
    counter.read.clear()
    report = run_evaluation(counter, Recorder(), [rule], NOW + 60)
    assert report.evaluated == 1 and not report.failed
    week = sum(1 for p in week_of_samples("web-1") if p.metric == "cpu" and p.ts > NOW - WEEK)
    # web-1 has late samples the rollup job has not recomputed yet: read raw (a week) this tick, its
    # rollups dropped; web-2 from 5 daily and 46 hourly rollups and ~2 h of raw samples at the edges.
    assert counter.read["rollups"] == 2 * (5 + 46)
    assert week + 2 < counter.read["points"] <= week + 2 + 2 * 2 * HOUR / STEP + 3
    run_rollups(store, NOW + 120, retention_seconds=WEEK)  # the job folds the late samples in
    counter.read.clear()
    items_read.clear()
    run_evaluation(counter, Recorder(), [rule], NOW + 180)
    assert counter.read["rollups"] == 2 * (5 + 46)
    assert counter.read["points"] <= 2 * 2 * HOUR / STEP + 3  # a week is 1,008 per host
    if items_read:  # DynamoDB: rollup items and raw chunk items, not a week of chunks
        assert (items_read["D#"], items_read["H#"]) == (2 * 5, 2 * 46)
        assert items_read["R#"] <= 2 * (2 * HOUR / STEP + 3)
