"""The alerts function's two scheduled runs (AWS), through `scheduled_evaluation` on a real SQLite store
with the shipped default rules: the minute tick evaluates every rule but the hourly ones (forecasts over
the settled rollups), the hourly run (`HOURLY_DETAIL`, infra/alerting.py's hourly target) only those, so
"Filesystem full within 7 days" still fires and notifies the inbox — from the hourly run. Local mode's
tick (`evaluate_now`) evaluates them all, as before. An evaluation the handler does not know is refused."""

from __future__ import annotations

import pytest

from tests.conftest import FrozenClock
from vigil.alerting.entry import HOURLY_DETAIL, evaluate_now, scheduled_evaluation
from vigil.alerting.repo import load_rules, load_state
from vigil.alerting.windows import hourly
from vigil.domain.errors import Invalid
from vigil.domain.models import Point
from vigil.services.rollups import run_rollups
from vigil.wiring import AppContext, bind

HOUR, DAY, MIN = 3600.0, 86400.0, 60.0
T0 = 1_764_028_800.0  # a midnight UTC
CROSSING = T0 + 3 * DAY  # 50 % at T0, +5 % a day: full in 7 days from here
FS = "system.filesystem.utilization"
FORECAST = "default-disk-forecast"
MINUTE_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
HOURLY_EVENT = {**MINUTE_EVENT, "detail": HOURLY_DETAIL}


def fill_disk(ctx: AppContext) -> None:
    """14 hours of a filling disk on db-1, hourly rollups settled by the rollup job."""
    points = [
        Point("db-1", FS, (("mountpoint", "/"),), ts, 0.5 + 0.05 * (ts - T0) / DAY)
        for ts in (CROSSING - 14 * HOUR + 300 * i + 150 for i in range(14 * 12 + 1))
    ]
    ctx.store.put_samples("db-1", points, "ramp", CROSSING)
    run_rollups(ctx.store, CROSSING - 5 * MIN, retention_seconds=7 * DAY)


def test_the_disk_forecast_fires_from_the_hourly_run_and_not_from_the_minute_tick(
    ctx: AppContext, clock: FrozenClock
) -> None:
    clock.t = CROSSING
    fill_disk(ctx)
    with bind(ctx):
        minute = scheduled_evaluation(MINUTE_EVENT)
        rules = load_rules(ctx.store)
        assert [r.id for r in rules if hourly(r)] == [FORECAST]
        assert minute["evaluated"] == len(rules) - 1 and minute["transitions"] == 0
        assert load_state(ctx.store, FORECAST)[0] is None  # never looked at by the minute tick
        clock.advance(MIN)
        hour = scheduled_evaluation(HOURLY_EVENT)
    assert hour["evaluated"] == 1 and hour["transitions"] == 1 and hour["published"] == 1
    assert hour["checks_ran"] == 0  # the checks run with the minute tick only
    state, _ = load_state(ctx.store, FORECAST)
    assert state is not None and state.groups["host=db-1,mountpoint=/"].status == "firing"
    inbox = ctx.store.list_docs("inbox")
    assert [m["rule_id"] for m in inbox] == [FORECAST] and "predicted 100% in 7 d" in inbox[0]["message"]


def test_local_mode_evaluates_the_hourly_rules_in_every_tick(ctx: AppContext, clock: FrozenClock) -> None:
    clock.t = CROSSING
    fill_disk(ctx)
    clock.advance(MIN)  # the first minute the prediction is inside 7 days
    report = evaluate_now(ctx)
    assert report.transitions == 1 and load_state(ctx.store, FORECAST)[0] is not None


def test_an_unknown_evaluation_is_refused_naming_the_field(ctx: AppContext) -> None:
    with bind(ctx), pytest.raises(Invalid) as refused:
        scheduled_evaluation({**MINUTE_EVENT, "detail": {"evaluate": "weekly"}})
    assert refused.value.field == "evaluate"
