"""Rules as code: parse a YAML file of rules (`yaml.safe_load` only) and compute the idempotent plan
that `vigil rules apply -f rules.yaml [--prune]` carries out against the stored rules, matched by name.

Accepted shapes: a list of rules, or `{"rules": [...]}`. Ids in the file are ignored for matching: an
existing rule keeps its id on update, so alert state and history stay attached to it. Imports: standard
library, PyYAML, `vigil.domain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from vigil.domain.errors import Invalid
from vigil.domain.rules import Rule, parse_rule


@dataclass
class Plan:
    create: list[Rule] = field(default_factory=list)
    update: list[Rule] = field(default_factory=list)  # with the existing rule's id
    unchanged: list[Rule] = field(default_factory=list)
    delete: list[Rule] = field(default_factory=list)  # only with prune

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)

    def summary(self) -> dict[str, list[str]]:
        return {
            "create": [r.name for r in self.create],
            "update": [r.name for r in self.update],
            "unchanged": [r.name for r in self.unchanged],
            "delete": [r.name for r in self.delete],
        }


def parse_rules_yaml(text: str) -> list[Rule]:
    """Rules from YAML text.

    Raises:
        Invalid: not YAML, wrong shape, an invalid rule (`field` is `rules[i].<field>`), or a name used
            twice.
    """
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"rules file is not valid YAML: {exc}", field="rules") from None
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if data is None:
        data = []
    if not isinstance(data, list):
        raise Invalid("rules file must be a list of rules or a mapping with a 'rules' list", field="rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        try:
            rule = parse_rule(item)
        except Invalid as exc:
            where = f"rules[{i}]" + (f".{exc.field}" if exc.field else "")
            raise Invalid(f"{where}: {exc.message.split(': ', 1)[-1]}", field=where) from None
        if rule.name in seen:
            raise Invalid(f"rules[{i}].name: the name {rule.name!r} is used twice", field=f"rules[{i}].name")
        seen.add(rule.name)
        rules.append(rule)
    return rules


def plan(desired: list[Rule], existing: list[Rule], *, prune: bool = False) -> Plan:
    """What to do so the stored rules match `desired` (by name). Applying it twice is a no-op."""
    by_name = {r.name: r for r in existing}
    out = Plan()
    for rule in desired:
        current = by_name.get(rule.name)
        if current is None:
            out.create.append(rule)
            continue
        kept = rule.model_copy(update={"id": current.id})
        (out.unchanged if kept.content() == current.content() else out.update).append(kept)
    if prune:
        wanted = {r.name for r in desired}
        out.delete = [r for r in existing if r.name not in wanted]
    return out
