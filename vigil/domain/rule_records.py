"""Alert rules as the evaluator reads them: plain frozen records built from stored documents, without
pydantic, plus the vocabulary both the records and the pydantic model (`vigil.domain.rules`) share.

Why two shapes: a rule is validated once, when it is written (API, YAML, defaults: the pydantic `Rule`
in `vigil.domain.rules`); the alerts function's scheduled evaluation only reads rules back, every
minute. Loading pydantic (and building its models) for that read was ~40 % of the alerts function's
cold start (`bench/bench_coldstart.py`), so the evaluator works on `RuleRecord`s, built from stored
documents by `rule_record` and from a pydantic `Rule` by `Rule.record()` (the same function over its
wire form, so both give the same record). `tests/unit/test_rule_records.py` checks they agree,
defaults included. Imports: standard library only.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:  # the pydantic model: only its type, never its import
    from vigil.domain.rules import Rule

Agg = Literal["avg", "min", "max", "sum", "rate", "count", "p50", "p95", "p99", "absent", "last"]
Op = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["info", "warning", "critical"]
Condition = Literal["threshold", "outside_band"]

QUANTILES: dict[str, float] = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
# Forecasts and bands need a value that moves with the series (not a count, rate or absence).
VALUE_AGGS = frozenset({"avg", "min", "max", "sum", "last", "p50", "p95", "p99"})
# The check runner's host (`services.check_runner.SYNTHETIC_HOST`; the domain may not import services).
CHECKS_HOST = "vigil-checks"
# The default rules' 5-minute window, so the check rules share their one read per tick; the runner
# writes each check's state samples at least twice per window (`services.check_results`).
CHECK_RULE_WINDOW = 300.0

# Defaults of the optional fields: `vigil.domain.rules.Rule` declares the same (checked by a test).
DEFAULT_WINDOW = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


def compare(value: float, op: str, threshold: float) -> bool:
    """True when `value <op> threshold` holds (the rule is breached)."""
    return _OPS[op](value, threshold)


@dataclass(frozen=True, slots=True)
class RuleFilterRecord:
    """Which points a rule looks at: one host (optional) and labels every point must carry."""

    host: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """One stored rule, as validated when it was written (fields as `vigil.domain.rules.Rule`)."""

    id: str
    name: str
    metric: str
    filter: RuleFilterRecord = field(default_factory=RuleFilterRecord)
    agg: Agg = "avg"
    window: float = DEFAULT_WINDOW
    op: Op = ">"
    threshold: float = 0.0
    for_: float = 0.0
    keep_firing_for: float = 0.0
    group_by: list[str] = field(default_factory=lambda: ["host"])
    severity: Severity = "warning"
    channels: list[str] = field(default_factory=list)
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    message: str | None = None
    enabled: bool = True
    unit: str = ""
    display_scale: float = 1.0
    missed_intervals: int | None = None
    forecast: float | None = None
    condition: Condition = "threshold"


def rule_record(doc: Mapping[str, Any]) -> RuleRecord:
    """The record of a stored rule document (wire names: `for`), missing optional fields defaulted.

    Raises:
        ValueError: a required field (`id`, `name`, `metric`) is missing or a field has the wrong
            type: the document was not written by Vigil (the caller logs and skips it).
    """
    try:
        found = doc.get("filter") or {}
        labels = found.get("labels") or {}
        record = RuleRecord(
            id=str(doc["id"]),
            name=str(doc["name"]),
            metric=str(doc["metric"]),
            filter=RuleFilterRecord(
                host=None if found.get("host") is None else str(found["host"]),
                labels={str(k): str(v) for k, v in labels.items()},
            ),
            agg=doc.get("agg", "avg"),
            window=float(doc.get("window", DEFAULT_WINDOW)),
            op=doc.get("op", ">"),
            threshold=_number(doc.get("threshold", 0.0)),
            for_=float(doc.get("for", doc.get("for_", 0.0))),
            keep_firing_for=float(doc.get("keep_firing_for", 0.0)),
            group_by=[str(k) for k in doc.get("group_by", ["host"])],
            severity=doc.get("severity", "warning"),
            channels=[str(c) for c in doc.get("channels", [])],
            repeat_interval=float(doc.get("repeat_interval", DEFAULT_REPEAT_INTERVAL)),
            message=None if doc.get("message") is None else str(doc["message"]),
            enabled=bool(doc.get("enabled", True)),
            unit=str(doc.get("unit", "")),
            display_scale=_number(doc.get("display_scale", 1.0)),
            missed_intervals=None if doc.get("missed_intervals") is None else int(doc["missed_intervals"]),
            forecast=None if doc.get("forecast") is None else float(doc["forecast"]),
            condition=doc.get("condition", "threshold"),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a rule document: {type(exc).__name__}: {exc}") from None
    if (
        record.agg not in get_args(Agg)
        or record.op not in _OPS
        or record.condition not in get_args(Condition)
    ):
        raise ValueError(f"not a rule document: agg {record.agg!r}, op {record.op!r}")
    return record


def as_record(rule: RuleRecord | Rule) -> RuleRecord:
    """`rule` as a record: the evaluation's entry points take either shape (the API and tests hold
    pydantic rules; the scheduled evaluation reads records)."""
    return rule if isinstance(rule, RuleRecord) else rule.record()


def _number(value: Any) -> float:
    """A stored int stays an int (a threshold of 2 displays as `2`, as the API wrote it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    return value
