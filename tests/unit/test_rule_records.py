"""The evaluator's plain rule and silence records (`rule_records`, `silence_records`) carry exactly what
the pydantic models validated: same fields, same defaults, same values — for any valid rule, label
values with `,` `=` `\\` and unicode included. A stored document that is not a rule or silence is
skipped (logged), the others still load."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.alerting.kinds import RULE_KIND, SILENCE_KIND
from vigil.alerting.repo import load_rule_records, load_silence_records, save_rule
from vigil.domain.rule_records import RuleFilterRecord, RuleRecord, rule_record
from vigil.domain.rules import Rule, RuleFilter, parse_rule
from vigil.domain.silence_records import SilenceRecord, silence_record
from vigil.domain.silences import Silence
from vigil.wiring import AppContext

LABEL_VALUES = st.text(alphabet=st.sampled_from("ab,=\\|é✓ x"), min_size=0, max_size=12)


def test_the_records_have_exactly_the_models_fields() -> None:
    assert {f.name for f in dataclasses.fields(RuleRecord)} == set(Rule.model_fields)
    assert {f.name for f in dataclasses.fields(RuleFilterRecord)} == set(RuleFilter.model_fields)


def test_a_minimal_stored_rule_gets_the_models_defaults() -> None:
    minimal = {"id": "r-1", "name": "n", "metric": "cpu"}
    assert rule_record(minimal) == parse_rule(minimal).record()


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    agg = draw(st.sampled_from(["avg", "min", "max", "sum", "rate", "count", "p95", "last"]))
    body = {
        "name": draw(st.text(min_size=1, max_size=20)),
        "metric": draw(st.sampled_from(["cpu", "system.memory.utilization", "job:req:rate5m"])),
        "agg": agg,
        "window": draw(st.sampled_from(["30s", "5m", 3600, 12.5])),
        "op": draw(st.sampled_from([">", ">=", "<", "<="] if agg == "p95" else [">", "<", "==", "!="])),
        "threshold": draw(st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))),
        "for": draw(st.sampled_from([0, "1m", 90.5])),
        "keep_firing_for": draw(st.sampled_from([0, "2m"])),
        "group_by": draw(st.sampled_from([["host"], [], ["host", "mountpoint"], ["check"]])),
        "severity": draw(st.sampled_from(["info", "warning", "critical"])),
        "channels": draw(st.lists(st.sampled_from(["c-inbox", "c-1", "c-2"]), max_size=3, unique=True)),
        "filter": {
            "host": draw(st.one_of(st.none(), st.sampled_from(["web-1", "db.eu:1"]))),
            "labels": draw(
                st.dictionaries(st.sampled_from(["env", "dc", "mountpoint"]), LABEL_VALUES, max_size=3)
            ),
        },
        "repeat_interval": draw(st.sampled_from([0, "1h", 7200])),
        "message": draw(st.one_of(st.none(), st.just("{{ rule.name }} on {{ group.host }}"))),
        "enabled": draw(st.booleans()),
        "unit": draw(st.sampled_from(["", "%", "s"])),
        "display_scale": draw(st.sampled_from([1, 100.0, 0.001])),
    }
    return parse_rule(body)


@settings(max_examples=150, deadline=None)
@given(rules())
def test_any_valid_rule_reads_back_as_a_record_with_the_same_values(rule: Rule) -> None:
    record = rule_record(rule.wire())  # what the evaluator reads from the store
    for name in Rule.model_fields:
        model_value, record_value = getattr(rule, name), getattr(record, name)
        if name == "filter":
            assert (record_value.host, record_value.labels) == (model_value.host, model_value.labels)
        elif isinstance(model_value, float) and math.isnan(model_value):
            raise AssertionError("the models refuse NaN")
        else:
            assert record_value == model_value and type(record_value) is type(model_value), name


def test_a_silence_reads_back_as_a_record_that_mutes_the_same_alerts() -> None:
    silence = Silence.model_validate(
        {
            "matchers": [
                {"name": "host", "value": "web-.*", "op": "=~"},
                {"name": "severity", "value": "info", "op": "!="},
            ],
            "starts_at": "2026-01-04T23:30:00Z",
            "ends_at": "2026-02-01T00:00:00Z",
            "weekly": {"days": ["sun"], "start": "23:30", "end": "02:00", "timezone": "UTC"},
        }
    )
    record = silence_record(silence.model_dump())
    assert isinstance(record, SilenceRecord) and record.weekly is not None
    sunday_2330 = 1_767_569_400.0  # 2026-01-04 23:30 UTC, a Sunday
    assert record.active(sunday_2330 + 9000 - 1) and not record.active(sunday_2330 + 9000)
    assert record.matches({"host": "web-1", "severity": "critical"})
    assert not record.matches({"host": "db-1", "severity": "critical"})


def test_documents_that_are_not_rules_or_silences_are_skipped_and_the_others_load(ctx: AppContext) -> None:
    save_rule(ctx.store, parse_rule({"id": "good", "name": "Good", "metric": "cpu"}))
    ctx.store.put_doc(RULE_KIND, "no-metric", {"id": "no-metric", "name": "Broken"})
    ctx.store.put_doc(RULE_KIND, "bad-agg", {"id": "bad-agg", "name": "x", "metric": "cpu", "agg": "median"})
    ctx.store.put_doc(SILENCE_KIND, "s-bad", {"id": "s-bad", "matchers": [], "starts_at": 0})
    good = Silence.model_validate(
        {"matchers": [{"name": "host", "value": "a"}], "starts_at": 0, "ends_at": 10}
    )
    ctx.store.put_doc(SILENCE_KIND, good.id, good.model_dump())
    assert [r.id for r in load_rule_records(ctx.store)] == ["good"]
    assert [s.id for s in load_silence_records(ctx.store)] == [good.id]
