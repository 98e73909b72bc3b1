"""Forecast and band rules through the real evaluation run on SqliteStore and DynamoStore (moto): the
shipped "Filesystem full within 7 days" rule reads its 12-hour window from hourly rollups plus raw
edges and fires at the minute its linear prediction crosses 100 %; an `outside_band` rule reads its
hour-of-week baseline from stored hourly rollups, stays quiet on its weekly pattern, fires after `for`
on a step change, and never fires for a series with only 3 days of history."""

from __future__ import annotations

import math
from typing import Any

from vigil.alerting.repo import load_state
from vigil.alerting.service import run_evaluation
from vigil.alerting.windows import read_window, window_key
from vigil.config import Thresholds
from vigil.domain.models import Point
from vigil.domain.rollups import rollup_points
from vigil.domain.rules import Rule, default_rules
from vigil.services.rollups import run_rollups

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
T0 = 1_764_028_800.0  # a midnight UTC
MIN = 60.0
FS = "system.filesystem.utilization"


class Recorder:
    """A publisher that keeps what the evaluator published."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages.append(message)


def firing(recorder: Recorder) -> list[dict[str, Any]]:
    return [m for m in recorder.messages if m.get("kind") == "firing"]


def test_the_shipped_disk_forecast_fires_from_rollups_at_the_predicted_minute(store: Any) -> None:
    rule = next(r for r in default_rules(Thresholds(), 10.0) if r.id == "default-disk-forecast")
    crossing = T0 + 3 * DAY  # 50 % at T0, +5 % a day: full at T0 + 10 d, "within 7 days" from here
    points = [
        Point("db-1", FS, (("mountpoint", "/"),), ts, 0.5 + 0.05 * (ts - T0) / DAY)
        for ts in (crossing - 14 * HOUR + 300 * i + 150 for i in range(14 * 12 + 1))
    ]
    store.put_samples("db-1", points, "ramp", crossing)
    run_rollups(store, crossing - 5 * MIN, retention_seconds=WEEK)
    read = read_window(store, [rule], crossing)[window_key(rule)]
    # the settled whole hours only (11 h to 2 h ago: the job ran in the last hour), no raw edges
    assert read.points == [] and len(read.rollups) == 9
    recorder = Recorder()
    for now in (crossing - 2 * MIN, crossing - MIN):
        run_evaluation(store, recorder, [rule], now)
        assert recorder.messages == []
    run_evaluation(store, recorder, [rule], crossing)
    run_evaluation(store, recorder, [rule], crossing + MIN)
    [note] = firing(recorder)
    assert note["group"] == {"host": "db-1", "mountpoint": "/"}
    assert "predicted 100% in 7 d" in note["message"]
    state, _ = load_state(store, rule.id)
    assert state is not None and state.groups["host=db-1,mountpoint=/"].status == "firing"


def usual(ts: float) -> float:
    """A daily wave between 20 % and 60 %, the same every week."""
    return 0.4 + 0.2 * math.sin(2 * math.pi * (ts % DAY) / DAY)


def seed_history(store: Any, host: str, days: float, now: float, level: float = 0.0) -> None:
    """`days` of 10-minute samples before the current hour as stored hourly rollups (what the rollup
    job leaves), and raw samples for the current hour, `level` added to them."""
    hour = math.floor(now / HOUR) * HOUR
    past = [
        Point(host, "cpu", (), ts, usual(ts))
        for ts in (hour - days * DAY + 600 * i + 5 for i in range(int(days * 144)))
    ]
    store.put_rollups(rollup_points(past, "1h"), now)
    recent = [
        Point(host, "cpu", (), ts, usual(ts) + level)
        for ts in (hour + 60 * i for i in range(int((now - hour) // 60) + 1))
    ]
    store.put_samples(host, recent, f"{host}-{now}", now)


BAND_RULE = Rule(
    id="r-band",
    name="CPU unusual for the hour",
    metric="cpu",
    agg="avg",
    window="15m",
    condition="outside_band",
    **{"for": "10m"},
)


def test_a_weekly_pattern_stays_in_its_band_and_a_step_change_fires_after_for(store: Any) -> None:
    now = T0 + 21 * DAY + 14 * HOUR + 30 * MIN
    seed_history(store, "web-1", 21, now)
    recorder = Recorder()
    run_evaluation(store, recorder, [BAND_RULE], now)
    state, _ = load_state(store, BAND_RULE.id)
    assert state is None or all(g.status == "inactive" for g in state.groups.values())
    later = now + HOUR  # the next hour: 0.5 above the usual level from its first minute
    store.put_samples(
        "web-1",
        [Point("web-1", "cpu", (), later - 1800 + 60 * i, usual(later) + 0.5) for i in range(31)],
        "step",
        later,
    )
    for minutes in (0, 5):
        run_evaluation(store, recorder, [BAND_RULE], later + minutes * MIN)
    assert firing(recorder) == []
    state, _ = load_state(store, BAND_RULE.id)
    assert state is not None and state.groups["host=web-1"].status == "pending"
    run_evaluation(store, recorder, [BAND_RULE], later + 10 * MIN)
    [note] = firing(recorder)
    assert note["group"] == {"host": "web-1"} and "outside its usual range" in note["message"]


def test_a_series_with_three_days_of_history_has_no_band_and_never_fires(store: Any) -> None:
    now = T0 + 3 * DAY + 14 * HOUR + 30 * MIN
    seed_history(store, "new-1", 3, now, level=5.0)  # far above anything it did before
    recorder = Recorder()
    for minutes in (0, 10, 20):
        run_evaluation(store, recorder, [BAND_RULE], now + minutes * MIN)
    assert recorder.messages == []
