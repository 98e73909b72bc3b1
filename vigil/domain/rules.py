"""Alert rules: the pydantic model users write (API body, rules-as-code YAML), its validation, the
comparison it applies, and the default rules shipped on first start (thresholds from `Thresholds`).

Durations are accepted as `"30s"`, `"5m"`, `"1h"` or seconds and stored as float seconds. The message
template is jinja2, compiled in a sandbox when the rule is created so a broken template is refused up
front (`vigil.domain.templates`). Imports: standard library, pydantic, `vigil.domain` and `vigil.config`
(for the `Thresholds` dataclass only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vigil.config import Thresholds
from vigil.domain.errors import Invalid
from vigil.domain.limits import HOST_RE, LABEL_KEY_RE, METRIC_NAME_RE
from vigil.domain.rule_records import (
    CHECK_RULE_WINDOW,
    CHECKS_HOST,
    DEFAULT_REPEAT_INTERVAL,
    DEFAULT_WINDOW,
    QUANTILES,
    VALUE_AGGS,
    Agg,
    Condition,
    Op,
    RuleRecord,
    Severity,
    rule_record,
)
from vigil.domain.templates import check_limits, validate_template
from vigil.domain.timeparse import parse_duration

MAX_WINDOW_SECONDS = 7 * 86400.0
STORED = "stored"  # validation context key: the rule comes from the store, validated when written
# A line fitted over a window is trusted at most this many windows ahead (7 d ahead needs 5.6 h).
MAX_FORECAST_WINDOWS = 30
_UNION_TAGS = {"float", "int", "str", "bool", "none", "list", "dict"}


def new_rule_id() -> str:
    return "r-" + uuid.uuid4().hex[:12]


class RuleFilter(BaseModel):
    """Which points a rule looks at: one host (optional) and labels every point must carry."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(default=None, pattern=HOST_RE.pattern)
    labels: dict[str, str] = Field(default_factory=dict, max_length=10)


class Rule(BaseModel):
    """One alert rule (SPEC §4/§5). `for` is spelled `for_` in Python and `for` on the wire."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(default_factory=new_rule_id, pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    metric: str = Field(pattern=METRIC_NAME_RE.pattern)
    filter: RuleFilter = Field(default_factory=RuleFilter)
    agg: Agg = "avg"
    window: float = Field(default=DEFAULT_WINDOW, description="Seconds; accepts '30s', '5m', '1h'")
    op: Op = ">"
    threshold: StrictFloat | StrictInt = 0.0
    for_: float = Field(default=0.0, alias="for", description="Seconds the breach must last before firing")
    keep_firing_for: float = Field(default=0.0, description="Seconds to keep firing after the breach ends")
    group_by: list[str] = Field(
        default_factory=lambda: ["host"],
        max_length=10,
        # the validator's rule, documented: label names ("host" is one), each once
        json_schema_extra={"items": {"type": "string", "pattern": LABEL_KEY_RE.pattern}, "uniqueItems": True},
    )
    severity: Severity = "warning"
    channels: list[str] = Field(default_factory=list, max_length=20)
    repeat_interval: float = Field(
        default=DEFAULT_REPEAT_INTERVAL, description="Seconds between repeats; 0 = never"
    )
    message: str | None = Field(default=None, max_length=4000, description="jinja2 template")
    enabled: StrictBool = True
    unit: str = Field(default="", max_length=16, description="Display unit of value/threshold, e.g. '%'")
    display_scale: StrictFloat | StrictInt = Field(default=1.0, description="Multiply before display")
    missed_intervals: StrictInt | None = Field(
        default=None,
        ge=1,
        le=100,
        description="absent rules grouped by host: fire when a host missed this many of its own reporting "
        "intervals (learned from its pushes) plus one evaluation period; the window is then not used",
    )
    forecast: float | None = Field(
        default=None,
        description="Seconds ahead ('7d'): compare the least-squares linear prediction that far ahead "
        "over the window with the threshold; needs a value agg and window >= forecast / 30",
    )
    condition: Condition = Field(
        default="threshold",
        description="'outside_band': breach when the value leaves its hour-of-week band (docs/alerting.md); "
        "op and threshold are then not used",
    )

    @field_validator("window", "for_", "keep_firing_for", "repeat_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: Any) -> float:
        name = "for" if info.field_name == "for_" else info.field_name
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"{name} must be a duration like '30s', '5m', '1h' or seconds")
        try:
            return parse_duration(value, field=name)
        except Invalid as exc:
            raise ValueError(exc.message) from exc

    @field_validator("forecast", mode="before")
    @classmethod
    def _forecast_duration(cls, value: Any) -> float | None:
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("forecast must be a duration like '7d' or seconds")
        try:
            return parse_duration(value, field="forecast")
        except Invalid as exc:
            raise ValueError(exc.message) from exc

    @field_validator("forecast")
    @classmethod
    def _forecast(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        agg, window = info.data.get("agg"), info.data.get("window")
        if value <= 0:
            raise ValueError("forecast must be more than 0")
        if agg not in VALUE_AGGS:
            raise ValueError(f"forecast needs a value agg ({', '.join(sorted(VALUE_AGGS))}), not {agg!r}")
        if window is not None and value > MAX_FORECAST_WINDOWS * window:
            raise ValueError(
                f"forecast may look at most {MAX_FORECAST_WINDOWS} windows ahead: "
                f"a {value:g} s forecast needs a window of at least {value / MAX_FORECAST_WINDOWS:g} s"
            )
        return value

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str, info: ValidationInfo) -> str:
        if value == "outside_band":
            if info.data.get("agg") not in VALUE_AGGS:
                raise ValueError(f"outside_band needs a value agg ({', '.join(sorted(VALUE_AGGS))})")
            if info.data.get("forecast") is not None:
                raise ValueError("outside_band and forecast cannot be combined")
        return value

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if key != "host" and not LABEL_KEY_RE.match(key):
                raise ValueError(f"group_by entry {key!r} is not a label name")
        if len(set(keys)) != len(keys):
            raise ValueError("group_by entries must be distinct")
        return keys

    @field_validator("message")
    @classmethod
    def _template(cls, template: str | None, info: ValidationInfo) -> str | None:
        # A stored rule's template was compiled when it was written. Loading it again (every
        # evaluation, `alerting.repo.load_rules` passes STORED) skips the compile, so jinja2 loads only
        # when a templated rule fires; a stored template that no longer compiles gets the default
        # message with a note at render time (`alert_messages.message_for`).
        if template is not None and not (info.context or {}).get(STORED):
            validate_template(template)
        return template

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if not 0 < self.window <= MAX_WINDOW_SECONDS:
            raise ValueError("window must be more than 0 and at most 7 days")
        if self.agg in QUANTILES and self.op in ("==", "!="):
            raise ValueError("op == and != make no sense for a percentile; use > or <")
        if self.missed_intervals is not None and (self.agg != "absent" or self.group_by != ["host"]):
            raise ValueError("missed_intervals needs agg 'absent' and group_by ['host']")
        return self

    def wire(self) -> dict[str, Any]:
        """JSON-ready dict with wire names (`for`)."""
        return self.model_dump(by_alias=True, mode="json")

    def record(self) -> RuleRecord:
        """The plain record the evaluator reads (`vigil.domain.rule_records`)."""
        return rule_record(self.wire())

    def content(self) -> dict[str, Any]:
        """Everything but the id: what rules-as-code compares to decide update vs unchanged."""
        data = self.wire()
        data.pop("id")
        return data


def parse_rule(data: Any, *, rule_id: str | None = None) -> Rule:
    """Validate a rule from JSON/YAML; `rule_id` (when given) overrides any id in `data`.

    Raises:
        Invalid: with `field` naming the first offending field (dotted path) and a readable message.
    """
    if not isinstance(data, dict):
        raise Invalid("a rule must be a JSON object", field="rule")
    if rule_id is not None:
        data = {**data, "id": rule_id}
    try:
        rule = Rule.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None
    if rule.message is not None:  # here, not in the model: a stored rule must keep loading
        try:
            check_limits(rule.message)
        except ValueError as exc:
            raise Invalid(f"message: {exc}", field="message") from None
    return rule


def invalid_from(exc: ValidationError) -> Invalid:
    """The first pydantic error as an `Invalid` naming its field."""
    err = exc.errors(include_url=False)[0]
    # Union members add their type tag ("float", "function-after[...]") to the path: not a field.
    loc = [str(p) for p in err["loc"] if str(p) not in _UNION_TAGS and "[" not in str(p)]
    field = ".".join("for" if p == "for_" else p for p in loc) or None
    message = str(err["msg"]).removeprefix("Value error, ")
    return Invalid(f"{field}: {message}" if field else message, field=field)


def default_rules(
    thresholds: Thresholds, interval_seconds: float, channels: Sequence[str] = ()
) -> list[Rule]:
    """The rules shipped on first start. Stable ids so seeding twice changes nothing.

    The agent reports utilisation as a 0..1 ratio (OpenTelemetry convention), so percent thresholds
    are divided by 100 and shown back as % with `display_scale=100`; latencies are OpenTelemetry
    histograms in seconds, so millisecond thresholds are divided by 1000. A 5-minute window with
    `for: 0` smooths spikes through the average/percentile itself and keeps alert latency low. "Host
    not reporting" follows each host's own reporting cadence (`missed_intervals`); its window only
    says what an older Vigil used. "Filesystem full within 7 days" extrapolates a line fitted over 12
    hours (long enough that a log rotation or a temporary file does not make a trend; read from the
    hourly rollups) 7 days ahead, per mount point. Every rule notifies `channels` (the in-app inbox on
    first start).
    """
    pct: dict[str, Any] = {"unit": "%", "display_scale": 100.0, "channels": list(channels)}
    common: dict[str, Any] = {"channels": list(channels)}
    return [
        Rule(
            id="default-cpu",
            name="High CPU",
            metric="system.cpu.utilization",
            agg="avg",
            window=300,
            op=">",
            threshold=thresholds.cpu_percent / 100.0,
            severity="warning",
            **pct,
        ),
        Rule(
            id="default-memory",
            name="High memory",
            metric="system.memory.utilization",
            agg="avg",
            window=300,
            op=">",
            threshold=thresholds.memory_percent / 100.0,
            severity="warning",
            **pct,
        ),
        Rule(
            id="default-api-p95",
            name="Slow API (p95)",
            metric="http.server.request.duration",
            agg="p95",
            window=300,
            op=">",
            threshold=thresholds.api_p95_ms / 1000.0,
            severity="warning",
            group_by=[],
            unit="s",
            **common,
        ),
        Rule(
            id="default-error-rate",
            name="High error rate",
            metric="http.server.error_rate",
            agg="avg",
            window=300,
            op=">",
            threshold=thresholds.error_rate_percent / 100.0,
            severity="critical",
            group_by=[],
            **pct,
        ),
        Rule(
            id="default-db-p95",
            name="Slow database queries (p95)",
            metric="db.client.operation.duration",
            agg="p95",
            window=300,
            op=">",
            threshold=thresholds.db_query_ms / 1000.0,
            severity="warning",
            group_by=[],
            unit="s",
            **common,
        ),
        Rule(
            id="default-disk-forecast",
            name="Filesystem full within 7 days",
            metric="system.filesystem.utilization",
            agg="avg",
            window=12 * 3600,
            forecast=7 * 86400,
            op=">=",
            threshold=1.0,
            severity="warning",
            group_by=["host", "mountpoint"],
            **pct,
        ),
        *check_rules(channels),
        Rule(
            id="default-host-down",
            name="Host not reporting",
            metric="system.cpu.utilization",
            agg="absent",
            window=3 * interval_seconds,
            severity="critical",
            group_by=["host"],
            missed_intervals=thresholds.host_missed_intervals,
            **common,
        ),
    ]


def check_rules(channels: Sequence[str] = ()) -> list[Rule]:
    """The synthetic checks' default alerts, one alert per check (`group_by: check`). They read the
    state the runner writes with every result (`last` value), so each check's own interval and its own
    `tls_expiry_days` decide: "Check down" once a check failed 2 runs in a row, "TLS certificate
    expiring" once its certificate is inside its warning days. Both resolve with the next result
    that says otherwise (or when the check is deleted: the runner writes the closing zeros)."""
    common: dict[str, Any] = {
        "channels": list(channels),
        "agg": "last",
        "window": CHECK_RULE_WINDOW,
        "group_by": ["check"],
        "filter": RuleFilter(host=CHECKS_HOST),
        "op": ">=",
    }
    return [
        Rule(
            id="default-check-down",
            name="Check down",
            metric="synthetic.failures",
            threshold=2,
            severity="critical",
            message="{% if status == 'firing' %}Check {{ group.check }} failed {{ value_display }} runs in a "
            "row.{% else %}Check {{ group.check }} is up again.{% endif %}",
            **common,
        ),
        Rule(
            id="default-check-tls",
            name="TLS certificate expiring",
            metric="synthetic.tls_expiring",
            threshold=1,
            severity="warning",
            message="{% if status == 'firing' %}The TLS certificate of check {{ group.check }} expires "
            "within its warning days.{% else %}The TLS certificate of check {{ group.check }} is no longer "
            "expiring soon.{% endif %}",
            **common,
        ),
    ]
