"""Sample notifications shared by the notifier and delivery tests."""

from __future__ import annotations

from typing import Any

from vigil.domain.alerts import Notification

NOTIFY_T = 1_764_000_000.0


def sample_notification(**overrides: Any) -> Notification:
    """A firing High-CPU notification for web-1 (93 % against 80 %), overridable field by field."""
    base: dict[str, Any] = dict(
        id="n-1",
        kind="firing",
        status="firing",
        rule_id="default-cpu",
        rule_name="High CPU",
        severity="critical",
        group={"host": "web-1"},
        value=0.93,
        threshold=0.8,
        op=">",
        started_at=NOTIFY_T - 120,
        resolved_at=None,
        channels=("c1",),
        message="CPU is 93%",
        created_at=NOTIFY_T,
        unit="%",
        display_scale=100.0,
    )
    return Notification(**{**base, **overrides})
