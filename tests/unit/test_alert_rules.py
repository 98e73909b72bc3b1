"""Rule validation, default rules, rules-as-code plans, silences and window aggregation."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.config import Thresholds
from vigil.domain.aggregate import aggregate
from vigil.domain.errors import Invalid
from vigil.domain.models import Point
from vigil.domain.rules import Rule, default_rules, parse_rule
from vigil.domain.rules_yaml import parse_rules_yaml, plan
from vigil.domain.silences import Silence

BODY: dict[str, Any] = {
    "name": "High CPU",
    "metric": "system.cpu.utilization",
    "filter": {"host": "web-1"},
    "agg": "avg",
    "window": "5m",
    "op": ">",
    "threshold": 0.8,
    "for": "2m",
    "keep_firing_for": "1m",
    "group_by": ["host"],
    "severity": "critical",
    "channels": ["c1"],
}


def test_rule_accepts_the_spec_body_and_parses_durations() -> None:
    r = parse_rule(BODY)
    assert (r.window, r.for_, r.keep_firing_for, r.repeat_interval) == (300.0, 120.0, 60.0, 14400.0)
    assert r.wire()["for"] == 120.0 and "for_" not in r.wire()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window": "soon"}, "window"),
        ({"for": "-1m"}, "for"),
        ({"threshold": False}, "threshold"),
        ({"threshold": "0.8"}, "threshold"),
        ({"agg": "median"}, "agg"),
        ({"op": "=>"}, "op"),
        ({"severity": "page"}, "severity"),
        ({"message": "{{ value "}, "message"),
        ({"group_by": ["host", "host"]}, "group_by"),
        ({"filter": {"host": "bad host"}}, "filter.host"),
        ({"colour": "red"}, "colour"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_invalid_rule_is_refused_with_the_field_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_rule({**BODY, **change})
    assert err.value.field == field
    assert err.value.message.startswith(f"{field}: ")


def test_template_syntax_error_says_which_line() -> None:
    with pytest.raises(Invalid, match="line 2"):
        parse_rule({**BODY, "message": "ok\n{% if %}"})


def test_default_rules_take_thresholds_from_settings_in_the_units_metrics_use() -> None:
    rules = {r.id: r for r in default_rules(Thresholds(cpu_percent=75, api_p95_ms=1500), 10.0)}
    assert rules["default-cpu"].threshold == 0.75 and rules["default-cpu"].unit == "%"
    assert rules["default-api-p95"].threshold == 1.5 and rules["default-api-p95"].agg == "p95"
    assert rules["default-db-p95"].metric == "db.client.operation.duration"
    assert rules["default-error-rate"].threshold == 0.05
    down = rules["default-host-down"]
    assert (down.agg, down.window, down.group_by, down.severity) == ("absent", 30.0, ["host"], "critical")
    assert [r.id for r in default_rules(Thresholds(), 10.0)] == list(rules)


YAML = """
rules:
  - name: High CPU
    metric: system.cpu.utilization
    threshold: 0.9
    window: 5m
  - name: Disk busy
    metric: system.disk.io
    agg: rate
    threshold: 100000000
"""


def test_rules_yaml_plan_creates_updates_and_prunes_idempotently() -> None:
    existing = [
        Rule(id="r-1", name="High CPU", metric="system.cpu.utilization", threshold=0.8),
        Rule(id="r-2", name="Old rule", metric="x.y", threshold=1),
    ]
    desired = parse_rules_yaml(YAML)
    p = plan(desired, existing, prune=True)
    assert p.summary() == {
        "create": ["Disk busy"],
        "update": ["High CPU"],
        "unchanged": [],
        "delete": ["Old rule"],
    }
    assert p.update[0].id == "r-1"
    applied = [*p.create, *p.update]
    again = plan(parse_rules_yaml(YAML), applied, prune=True)
    assert again.changes == 0 and len(again.unchanged) == 2
    assert plan(desired, existing).delete == []


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("rules: [", "rules"),
        ("42", "rules"),
        ("- name: a\n  metric: m\n- name: a\n  metric: m", "rules[1].name"),
        ("- name: a\n  metric: m\n  window: nope", "rules[0].window"),
        ("- !!python/object:os.system {}", "rules"),
    ],
)
def test_rules_yaml_errors_point_at_the_rule_and_field(text: str, field: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_rules_yaml(text)
    assert err.value.field == field


def test_silence_needs_an_end_unless_it_recurs() -> None:
    with pytest.raises(ValueError, match="ends_at is required"):
        Silence(matchers=[{"name": "host", "value": "a"}], starts_at=0)
    with pytest.raises(ValueError, match="time zone"):
        Silence(
            matchers=[{"name": "host", "value": "a"}],
            starts_at=0,
            weekly={"days": ["mon"], "start": "01:00", "end": "02:00", "timezone": "Mars/Olympus"},
        )
    with pytest.raises(ValueError, match="cron"):
        Silence(
            matchers=[{"name": "host", "value": "a"}],
            starts_at=0,
            cron={"cron": "61 * * * *", "duration": "1h"},
        )


def test_silence_matchers_support_regex_and_negation() -> None:
    s = Silence(
        matchers=[
            {"name": "host", "op": "=~", "value": "web-.*"},
            {"name": "severity", "op": "!=", "value": "critical"},
        ],
        starts_at="2026-11-26T00:00:00Z",
        ends_at="2026-11-27T00:00:00Z",
    )
    assert s.matches({"host": "web-1", "severity": "warning"})
    assert not s.matches({"host": "db-1", "severity": "warning"})
    assert not s.matches({"host": "web-1", "severity": "critical"})


def test_weekly_window_crossing_midnight_covers_the_next_morning() -> None:
    s = Silence(
        matchers=[{"name": "host", "value": "a"}],
        starts_at=0,
        weekly={"days": ["sun"], "start": "23:00", "end": "02:00", "timezone": "UTC"},
    )
    sunday_2330 = datetime(2025, 11, 30, 23, 30, tzinfo=UTC).timestamp()
    assert s.active(sunday_2330) and s.active(sunday_2330 + 9000 - 1)  # until Monday 01:59:59
    assert not s.active(sunday_2330 + 9000) and not s.active(sunday_2330 - 1800 - 1)


def _points(values: list[float]) -> list[Point]:
    return [Point("h", "m", (), 100.0 + i, v) for i, v in enumerate(values)]


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50))
def test_window_aggregates_agree_with_plain_python(values: list[float]) -> None:
    for agg, expected in (
        ("avg", math.fsum(values) / len(values)),
        ("min", min(values)),
        ("max", max(values)),
        ("count", float(len(values))),
    ):
        r = Rule(name="x", metric="m", agg=agg, window=1000, group_by=[])
        got = aggregate(r, _points(values), 0.0, 1000.0)[""].value
        assert got == pytest.approx(expected)
    p95 = aggregate(Rule(name="x", metric="m", agg="p95", window=1000, group_by=[]), _points(values), 0, 1000)
    assert min(values) <= (p95[""].value or 0.0) <= max(values)


def test_rate_handles_counter_resets() -> None:
    pts = [Point("h", "c", (), t, v) for t, v in ((0, 100.0), (10, 200.0), (20, 50.0), (30, 150.0))]
    r = Rule(name="x", metric="c", agg="rate", window=60, group_by=[])
    assert aggregate(r, pts, -1, 30)[""].value == pytest.approx((100 + 50 + 100) / 30)


def test_points_outside_the_window_or_filter_are_ignored() -> None:
    pts = [
        Point("web-1", "m", (("env", "prod"),), 50.0, 1.0),
        Point("web-1", "m", (("env", "dev"),), 50.0, 9.0),
        Point("web-1", "m", (("env", "prod"),), 5.0, 9.0),
    ]
    r = Rule(name="x", metric="m", window=60, filter={"labels": {"env": "prod"}}, agg="max")
    assert aggregate(r, pts, 10.0, 60.0)["host=web-1"].value == 1.0
