"""Chart overlays of `/api/metrics/series` through the real gateway on a real SQLite file: the
hour-of-week band (`band=week`) from stored hourly rollups, "same time last week" (`offset=7d`), the
forecast line (`forecast=7d`), no band for a series with 3 days of history, and 400s naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import FrozenClock
from vigil.domain.models import Point
from vigil.domain.rollups import rollup_points
from vigil.local.client import GatewayClient, json_of
from vigil.services.rollups import STATE_KIND, WATERMARK_ID

HOUR = 3600.0
DAY = 86400.0
NOW = 1_764_028_800.0 + 21 * DAY + 15 * HOUR + 1200  # 3 weeks after a midnight, 15:20 UTC


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def usual(ts: float) -> float:
    return 0.4 + 0.2 * math.sin(2 * math.pi * (ts % DAY) / DAY)


def seed(ctx: Any, host: str, days: float) -> None:
    """`days` of 10-minute samples: hourly rollups before the last day (what the rollup job keeps) and
    raw samples for the last day, plus the job's watermark at the current hour."""
    hour = math.floor(NOW / HOUR) * HOUR
    points = [
        Point(host, "cpu", (), ts, usual(ts))
        for ts in (NOW - days * DAY + 600 * i for i in range(int(days * 144)))
    ]
    ctx.store.put_rollups(rollup_points([p for p in points if p.ts < hour], "1h"), NOW)
    ctx.store.put_samples(host, [p for p in points if p.ts >= NOW - DAY], f"{host}-raw", NOW)
    ctx.store.put_doc(STATE_KIND, WATERMARK_ID, {"hour": hour})


def series(client: GatewayClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/metrics/series", params={"metric": "cpu", "step": "3600", **params})
    assert r.status == 200, r.body
    return dict(json_of(r))


def test_a_weekly_pattern_lies_inside_its_band_and_last_week_overlays_it(
    ctx: Any, viewer: GatewayClient
) -> None:
    seed(ctx, "web-1", 22)
    found = series(viewer, host="web-1", **{"from": "-24h"}, band="week", offset="7d")
    assert found["band"] == {"kind": "week", "weeks": 4, "available": True}
    [entry] = found["series"]
    band = entry["band"]
    checked = 0
    for i, value in enumerate(entry["values"]):
        if value is None:
            continue
        assert band["lower"][i] < band["mean"][i] < band["upper"][i]
        assert band["lower"][i] <= value <= band["upper"][i]
        assert entry["offset_values"][i] == pytest.approx(value, abs=0.02)  # the same hour a week ago
        checked += 1
    assert checked >= 23 and found["offset"] == 7 * DAY
    assert max(band["upper"][i] - band["lower"][i] for i in range(len(band["mean"])) if band["mean"][i]) < 0.4


def test_three_days_of_history_give_no_band(ctx: Any, viewer: GatewayClient) -> None:
    seed(ctx, "new-1", 3)
    found = series(viewer, host="new-1", **{"from": "-24h"}, band="week")
    assert found["band"]["available"] is False
    assert set(found["series"][0]["band"]["upper"]) == {None}


def test_the_forecast_line_runs_from_the_last_step_to_the_horizon(ctx: Any, viewer: GatewayClient) -> None:
    ramp = [Point("db-1", "cpu", (), NOW - DAY + 600 * i, 0.5 + 0.1 * i / 144) for i in range(144)]
    ctx.store.put_samples("db-1", ramp, "ramp", NOW)
    found = series(viewer, host="db-1", **{"from": "-24h", "to": str(NOW)}, forecast="7d")
    line = found["series"][0]["forecast"]
    assert line["timestamps"][1] == NOW + 7 * DAY
    assert line["slope_per_day"] == pytest.approx(0.1, rel=0.02)
    assert line["values"][1] == pytest.approx(0.6 + 0.7, abs=0.02)


@pytest.mark.parametrize(("param", "value"), [("band", "month"), ("forecast", "soon"), ("offset", "0")])
def test_bad_overlay_parameters_are_refused_naming_the_field(
    viewer: GatewayClient, param: str, value: str
) -> None:
    r = viewer.get("/api/metrics/series", params={"metric": "cpu", param: value})
    assert r.status == 400
    assert json_of(r)["error"]["field"] == param
