"""The records the alert evaluator reads and writes: per-rule state (one alert instance per group),
transitions (history) and notifications (what gets published), with their JSON forms and the
deterministic ids that make a re-run after a crash publish nothing twice.

Standard library only (plus `vigil.domain.timeparse.iso` and `vigil.domain.identity`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from vigil.domain.identity import labels_key
from vigil.domain.timeparse import iso

AlertStatus = Literal["inactive", "pending", "firing", "resolved"]
# What receivers were last told about a group: drives resolve notices and the flapping digest.
Told = Literal["none", "firing", "flapping"]
NotificationKind = Literal["firing", "repeat", "resolved", "flapping", "settled", "test"]


def group_key(labels: dict[str, str]) -> str:
    """Canonical key of an alert group (`identity.labels_key`: `k=v,k=v` sorted, `,` `=` `|` `\\`
    escaped); `""` for a rule without group_by."""
    return labels_key(labels.items())


def alert_id(rule_id: str, key: str) -> str:
    """Stable id of one alert instance slot (rule + group), used by the API (ack)."""
    return hashlib.sha256(f"{rule_id}|{key}".encode()).hexdigest()[:20]


def notification_id(rule_id: str, key: str, kind: str, anchor: float, seq: int = 0) -> str:
    """Deterministic: the same transition of the same alert instance always gets the same id."""
    raw = f"{rule_id}|{key}|{kind}|{anchor:.3f}|{seq}"
    return "n-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class GroupState:
    """One alert group of a rule. `active_at` identifies the current alert instance."""

    labels: dict[str, str]
    status: AlertStatus = "inactive"
    active_at: float | None = None
    fired_at: float | None = None
    resolved_at: float | None = None
    last_breach_at: float | None = None
    last_seen: float | None = None  # last evaluation that had data for this group (absent rules)
    value: float | None = None
    told: Told = "none"
    last_sent_at: float | None = None
    repeat_seq: int = 0
    changes: list[float] = field(default_factory=list)  # firing-boundary changes (flap detection)
    flapping: bool = False
    flap_started_at: float | None = None
    acked_at: float | None = None
    acked_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class RuleState:
    """All groups of one rule plus the outbox: notifications decided but not yet confirmed published.

    The outbox lives in the same document as the state, so a transition and its notification are
    saved atomically; the publisher drains it (see `vigil.alerting.service`)."""

    rule_id: str
    groups: dict[str, GroupState] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    evaluated_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "groups": {k: g.to_json() for k, g in self.groups.items()},
            "outbox": list(self.outbox),
            "evaluated_at": self.evaluated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuleState:
        groups = (GroupState.from_json(v) for v in (data.get("groups") or {}).values())
        return cls(
            rule_id=str(data["rule_id"]),
            # Keyed again from each group's labels: a state saved before keys were escaped reads back
            # under today's key (they differ only for label values holding `,` `=` `|` `\`).
            groups={group_key(g.labels): g for g in groups},
            outbox=list(data.get("outbox") or []),
            evaluated_at=data.get("evaluated_at"),
        )


@dataclass(frozen=True)
class Transition:
    """One state change of one group (history)."""

    rule_id: str
    rule_name: str
    group: dict[str, str]
    from_status: str
    to_status: str
    at: float
    value: float | None
    muted: bool = False

    @property
    def id(self) -> str:
        raw = f"{self.rule_id}|{group_key(self.group)}|{self.to_status}|{self.at:.3f}"
        return "h-" + hashlib.sha256(raw.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "group": self.group,
            "from": self.from_status,
            "to": self.to_status,
            "at": self.at,
            "at_iso": iso(self.at),
            "value": self.value,
            "muted": self.muted,
        }


@dataclass(frozen=True)
class Notification:
    """One message to publish. `status` is the SPEC §5 webhook status; `kind` says why it was sent."""

    id: str
    kind: NotificationKind
    status: Literal["firing", "resolved"]
    rule_id: str
    rule_name: str
    severity: str
    group: dict[str, str]
    value: float | None
    threshold: float
    op: str
    started_at: float
    resolved_at: float | None
    channels: tuple[str, ...]
    message: str
    created_at: float
    unit: str = ""
    display_scale: float = 1.0
    flapping: bool = False
    changes: int = 0

    def to_message(self) -> dict[str, Any]:
        """The published JSON (SNS message / local dispatch); `from_message` reads it back."""
        data = asdict(self)
        data["channels"] = list(self.channels)
        return data

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Notification:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["channels"] = tuple(known.get("channels") or ())
        known["group"] = dict(known.get("group") or {})
        return cls(**known)

    def display(self, value: float | None) -> str:
        """A value in the rule's display unit: 0.93 with scale 100 and unit % → '93%'."""
        if value is None:
            return "no data"
        shown = value * self.display_scale
        text = f"{shown:.3g}" if abs(shown) < 1000 else f"{shown:,.0f}"
        return f"{text}{self.unit}" if self.unit in ("%", "") else f"{text} {self.unit}"

    def title(self) -> str:
        state = "RESOLVED" if self.status == "resolved" else "FLAPPING" if self.flapping else "FIRING"
        where = ", ".join(f"{k}={v}" for k, v in sorted(self.group.items()))
        return f"[{state}] {self.rule_name}" + (f" ({where})" if where else "")
