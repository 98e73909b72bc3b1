"""The kinds of the documents alerting keeps in the `Store` (`vigil.alerting.repo` reads and writes
them) and the helpers every reader of them shares. Apart from `repo` because `repo` loads the pydantic
rule, channel and silence models, which the notify function's delivery path never needs (cold
starts). Imports: `vigil.domain.channels` only.
"""

from __future__ import annotations

from typing import Any

from vigil.domain.channels import CHANNEL_DOC_KIND, SUBSCRIPTION_DOC_KIND

RULE_KIND = "rule"
SILENCE_KIND = "silence"
CHANNEL_KIND = CHANNEL_DOC_KIND
SUBSCRIPTION_KIND = SUBSCRIPTION_DOC_KIND  # AWS: an e-mail/SMS channel's SNS subscription ARN
HISTORY_KIND = "alert_history"
OUT_KIND = "notification_out"
DELIVERY_KIND = "delivery"
INBOX_KIND = "inbox"
DEAD_LETTER_KIND = "dead_letter"
META_KIND = "alert_meta"


def clean(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without the store's bookkeeping (`_version`, ...)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def newest_key(doc: dict[str, Any]) -> list[Any]:
    """Sort and cursor key of time-stamped records (history, inbox): newest first, ties by id."""
    return [float(doc.get("at", doc.get("created_at")) or 0), str(doc.get("id", ""))]
