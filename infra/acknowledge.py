"""The one way Vigil's CDK code acknowledges a cdk-nag finding: `acknowledge(scope, rule, reason)`.

cdk-nag 3 reads CDK's native `Validations.of(scope).acknowledge(...)`; wrapping it keeps one place
that insists on a written reason and records every acknowledgment, so tests and the deploy guide can
list them. Must not import anything from `vigil/`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Acknowledged:
    path: str
    rule: str
    reason: str


ACKNOWLEDGED: list[Acknowledged] = []


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge `rule` (e.g. `AwsSolutions-IAM5[Resource::*]`) on `scope` and its children.

    Raises:
        ValueError: the reason is too short to tell a reviewer why.
    """
    if len(reason.split()) < 6:
        raise ValueError(f"acknowledging {rule} needs a real reason, got {reason!r}")
    # cdk-nag 3 reports findings as `<pack>::<rule>[finding]`; accept the bare rule id too.
    full_id = rule if "::" in rule else f"{rule.split('-', 1)[0]}::{rule}"
    Validations.of(scope).acknowledge(Acknowledgment(id=full_id, reason=reason))
    ACKNOWLEDGED.append(Acknowledged(scope.node.path, rule, reason))
