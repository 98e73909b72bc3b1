"""What every rule's window holds at one evaluator tick, read once per window length and, for long
windows, mostly from the rollups.

- Rules with windows up to `SHARED_WINDOW_SECONDS` (1 h) share ONE raw read (`Store.query_many`) over
  their metrics and their longest window: on DynamoDB one Query per host, items hold all of a host's
  metrics.
- Each longer window gets its own read of only its rules' metrics, so one 7-day rule does not make
  every rule's read 7 days long.
- A window longer than `ROLLUP_WINDOW_SECONDS` (6 h) reads the stored rollups for its whole hours that
  the rollup job has settled — daily ones for the whole UTC days among them, hourly ones for the hours
  before and after those days — and raw samples only for the partial hour at its head and the hours
  after the settled ones at its tail (`_read_long`): per tick and host about 2 to 3 hours of raw chunks
  and at most 6 daily + 46 hourly rollup items, whatever the sample density, instead of the whole
  week's raw samples (10,080 minutes of them).

Settled hours: the rollup job's watermark (`rollup_state/watermark`, the hour its last run reached)
minus one hour. The hour just before the watermark may still get samples that ingest does not mark
dirty (the next run recomputes it anyway), so it is read raw. A day's rollup is the job's merge of
its hours, recomputed whenever one of them is, so a day whose hours are all settled is settled too.
Every older hour that receives a late sample gets a dirty marker (`services.rollups.note_late_samples`),
and a host with a marker inside the window is read raw over the rollups' span until the job has
recomputed it. No watermark (the job never ran): the whole window is read raw, as before.

A forecast rule over such a window reads only the settled rollups (`settled_only`: no raw head or
tail), in a read of its own. An `outside_band` rule also reads its baseline: the hourly rollups of
the same hour of the week (± 1 hour) in each of the past 4 weeks (`read_baseline`, 4 rollup reads
per rule).

Hosts are restricted only when every rule of a read filters on one. Rules watching reporting cadence
(`missed_intervals`) read every host's pushes instead (`read_tick(with_hosts=True)`): on DynamoDB from
the shared read's own Queries (`capabilities.WindowHostsStore`). Forecasts over settled rollups are
`hourly`: AWS evaluates them in an hourly run of their own, not in the minute tick (`EvalRun`).
Imports: `vigil.domain`, `vigil.ports`, `vigil.capabilities` and the rollup job's document names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from vigil.capabilities import WindowHostsStore
from vigil.domain.records import HostInfo, Point
from vigil.domain.rollups import Rollup
from vigil.domain.rule_records import RuleRecord
from vigil.domain.seasonal import NEIGHBOURS, baseline_hours, hour_of
from vigil.ports import Store
from vigil.services.rollups import DIRTY_KIND, STATE_KIND, WATERMARK_ID

SHARED_WINDOW_SECONDS = 3600.0  # rules with windows up to this share one read; longer ones read alone
ROLLUP_WINDOW_SECONDS = 6 * 3600.0  # longer windows read hourly rollups for their settled whole hours
HOUR = 3600.0
DAY = 86400.0


@dataclass
class WindowData:
    """One window's raw points and, for a long window, the hourly and daily rollups of the whole hours
    the points leave out (`aggregate` merges both)."""

    points: list[Point] = field(default_factory=list)
    rollups: list[Rollup] = field(default_factory=list)
    baseline: list[Rollup] = field(default_factory=list)  # outside_band rules: past weeks' hours


WindowKey = tuple[str, float, bool]
# Which rules one evaluation run evaluates: "minute" (the AWS evaluator's tick: every rule but the
# `hourly` ones), "hourly" (the AWS hourly run: only those), "all" (local mode's tick, and tests).
EvalRun = Literal["all", "minute", "hourly"]


def settled_only(rule: RuleRecord) -> bool:
    """A forecast over a long window reads only the settled rollups, no raw edges: a prediction days
    ahead does not need the last hour or two, and it saves a raw read of every host per tick."""
    return rule.forecast is not None and rule.window > ROLLUP_WINDOW_SECONDS


def window_key(rule: RuleRecord) -> WindowKey:
    """Which of `read_window`'s answers a rule reads."""
    return rule.metric, rule.window, settled_only(rule)


def hourly(rule: RuleRecord) -> bool:
    """Whether the hourly run evaluates the rule rather than the minute tick (`EvalRun`): a forecast that
    reads only settled rollups (`settled_only`), which change when the rollup job runs, once an hour."""
    return settled_only(rule)


def in_run(rule: RuleRecord, run: EvalRun) -> bool:
    """Whether an evaluation run of kind `run` evaluates `rule`."""
    return run == "all" or hourly(rule) == (run == "hourly")


def read_window(store: Store, rules: Sequence[RuleRecord], now: float) -> dict[WindowKey, WindowData]:
    """The data every enabled rule needs at `now`, keyed by `window_key`; see the module."""
    return read_tick(store, rules, now)[0]


def read_tick(
    store: Store, rules: Sequence[RuleRecord], now: float, *, with_hosts: bool = False
) -> tuple[dict[WindowKey, WindowData], list[HostInfo] | None]:
    """`read_window`, and with `with_hosts` every host's listing (`Store.list_hosts()`, None without):
    from the shared window's read itself on a store that can (`WindowHostsStore`), so a tick costs one
    request per host for both (docs/data-model.md, "Alert evaluation")."""
    enabled = [r for r in rules if r.enabled and r.missed_intervals is None]
    groups: dict[tuple[float, bool], list[RuleRecord]] = {}
    for rule in enabled:
        key = rule.window if rule.window > SHARED_WINDOW_SECONDS else 0.0
        groups.setdefault((key, settled_only(rule)), []).append(rule)
    out: dict[WindowKey, WindowData] = {}
    listed: list[HostInfo] | None = None
    for (_, settled), group in groups.items():
        filtered = [r.filter.host for r in group]
        hosts = None if any(h is None for h in filtered) else sorted({h for h in filtered if h is not None})
        longest = max(r.window for r in group)
        metrics = sorted({r.metric for r in group})
        if longest > ROLLUP_WINDOW_SECONDS:
            data = _read_long(store, metrics, now - longest, now, hosts, edges=not settled)
        elif with_hosts and listed is None and hosts is None and isinstance(store, WindowHostsStore):
            points, listed = store.window_and_hosts(metrics, now - longest, now, now)
            data = WindowData(points)
        else:
            data = WindowData(list(store.query_many(metrics, now - longest, now, hosts=hosts, now=now)))
        by_metric: dict[str, WindowData] = {}
        for point in data.points:
            by_metric.setdefault(point.metric, WindowData()).points.append(point)
        for rollup in data.rollups:
            by_metric.setdefault(rollup.metric, WindowData()).rollups.append(rollup)
        for rule in group:
            out[window_key(rule)] = by_metric.get(rule.metric, WindowData())
    for rule in enabled:
        if rule.condition == "outside_band":
            target = out.setdefault(window_key(rule), WindowData())
            if not target.baseline:
                target.baseline = read_baseline(store, rule, now)
    if with_hosts and listed is None:
        listed = store.list_hosts()
    return out, listed


def read_baseline(store: Store, rule: RuleRecord, now: float) -> list[Rollup]:
    """The hourly rollups an `outside_band` rule's band is made of (`seasonal.baseline_hours`): one
    3-hour read per past week, whatever the raw sample density."""
    hosts = None if rule.filter.host is None else [rule.filter.host]
    labels = rule.filter.labels or None
    hours = baseline_hours(hour_of(now))
    spans = [hours[i : i + len(NEIGHBOURS)] for i in range(0, len(hours), len(NEIGHBOURS))]
    return [
        r
        for span in spans
        for r in store.query_rollups(rule.metric, "1h", span[0], span[-1], hosts, labels, now)
    ]


def rollup_span(store: Store, start: float, end: float) -> tuple[float, float]:
    """[first, last): the whole hours of the window `(start, end]` that settled rollups answer (empty,
    first >= last, when there are none: no rollup run yet, or a short window)."""
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    settled = float(state.get("hour", -math.inf)) - HOUR
    first = math.floor(start / HOUR) * HOUR + HOUR  # an hour starting AT `start` holds ts == start: out
    return first, min(math.floor(end / HOUR) * HOUR, settled)


def rollup_pieces(first: float, last: float) -> list[tuple[str, float, float]]:
    """(resolution, first bucket start, last bucket start) covering the whole hours [first, last):
    daily rollups for the whole days inside, hourly ones for the hours before and after them."""
    day_first = math.ceil(first / DAY) * DAY
    day_last = math.floor(last / DAY) * DAY
    if day_first >= day_last:
        return [("1h", first, last - HOUR)]
    hours = [("1h", first, day_first - HOUR), ("1h", day_last, last - HOUR)]
    return [("1d", day_first, day_last - DAY), *((res, a, b) for res, a, b in hours if a <= b)]


def _read_long(
    store: Store, metrics: list[str], start: float, end: float, hosts: list[str] | None, *, edges: bool = True
) -> WindowData:
    """`edges=False`: the settled rollups only (and raw for hosts with late samples), not the raw
    partial hours at either end (`settled_only`)."""
    first, last = rollup_span(store, start, end)
    if first >= last:
        return WindowData(list(store.query_many(metrics, start, end, hosts=hosts, now=end)))
    late = {
        str(doc["host"])
        for doc in store.list_docs(DIRTY_KIND)
        if first <= float(doc["hour"]) < last and (hosts is None or doc["host"] in hosts)
    }
    rollups = [
        r
        for resolution, a, b in rollup_pieces(first, last)
        for metric in metrics
        for r in store.query_rollups(metric, resolution, a, b, hosts, None, end)
        if r.host not in late
    ]
    points: list[Point] = []
    if edges:
        head = store.query_many(metrics, start, first, hosts=hosts, now=end)
        points.extend(p for p in head if p.ts < first)  # a sample at `first` is in the first rollup
        points.extend(store.query_many(metrics, last, end, hosts=hosts, now=end))
    for host in sorted(late):  # late samples the rollup job has not folded in yet: raw for this host
        points.extend(p for p in store.query_many(metrics, first, last, hosts=[host], now=end) if p.ts < last)
    return WindowData(points, rollups)
