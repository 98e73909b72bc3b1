"""OTLP/JSON read part by part, so one unreadable data point or span does not refuse its whole export.

`json_format.ParseDict` is all or nothing. When the whole export does not parse, it is parsed again
here from the top: every node (resource, scope, metric, data point, span) is tried alone; a node that
still fails is dropped and the OTLP items under it (data points or spans, what the response counts)
are reported as `Unreadable` with the JSON path and the parser's reason. The OTLP spec asks for exactly
this: what can be stored is stored, the rest is counted in `partialSuccess`. Only a body whose request
shell cannot be read (not an object, `resourceMetrics` not a list) stays a 400 (`decode`).

Trace and span ids are hex in OTLP/JSON; `to_b64` (the caller's hex → base64 conversion) runs on each
node before it is parsed, so a malformed id refuses only the span (or point) that carries it.

Imports protobuf only; must not import `vigil.api`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from vigil.domain.errors import Invalid

# List fields that lead from the request down to the counted items, in both JSON spellings.
_LISTS = {
    "resourceMetrics": "resource_metrics",
    "resource_metrics": "resource_metrics",
    "scopeMetrics": "scope_metrics",
    "scope_metrics": "scope_metrics",
    "metrics": "metrics",
    "dataPoints": "data_points",
    "data_points": "data_points",
    "resourceSpans": "resource_spans",
    "resource_spans": "resource_spans",
    "scopeSpans": "scope_spans",
    "scope_spans": "scope_spans",
    "spans": "spans",
}
# A metric's data is one of these messages, which hold the data points.
_KINDS = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "exponential_histogram": "exponential_histogram",
    "summary": "summary",
}
_ITEMS = {"dataPoints", "data_points", "spans"}  # what partialSuccess counts
_PARSE_ERRORS = (json_format.ParseError, ValueError, TypeError, RecursionError, Invalid)
MAX_REASON = 160


@dataclass
class Unreadable:
    """Items dropped while reading: how many, and why (reason → count)."""

    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, path: str, why: str, n: int) -> None:
        self.count += n
        why = why.removeprefix(path + ".")  # an id error names its own path: say it once
        self.reasons[f"unreadable {_what(path)} at {path}: {why[:MAX_REASON]}"] += n


def _what(path: str) -> str:
    return "span" if ".spans" in path else "data point" if ".dataPoints" in path else "part"


def count_items(node: Any) -> int:
    """Counted items (data points, spans) under a JSON node; an unreadable item list counts as one."""
    if isinstance(node, dict):
        total = 0
        for key, value in node.items():
            if key in _ITEMS:
                total += len(value) if isinstance(value, list) else 1
            else:
                total += count_items(value)
        return total
    if isinstance(node, list):
        return sum(count_items(item) for item in node)
    return 0


def parse_lenient(
    data: dict[str, Any], message: Message, to_b64: Callable[[Any, str], None], path: str = "$"
) -> Unreadable:
    """Fill `message` from `data` (a freshly loaded document: ids are converted in place), dropping
    the parts that do not parse; returns what was dropped."""
    dropped = Unreadable()
    _parse_node(data, message, to_b64, path, dropped)
    return dropped


def _parse_item(
    data: dict[str, Any], message: Message, to_b64: Callable[[Any, str], None], path: str, dropped: Unreadable
) -> bool:
    try:
        to_b64(data, path)
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except _PARSE_ERRORS as exc:
        dropped.add(path, _reason(exc), 1)
        return False
    return True


def _parse_node(
    data: dict[str, Any], message: Message, to_b64: Callable[[Any, str], None], path: str, dropped: Unreadable
) -> bool:
    """A node above the items: its own fields, then each child alone (ids live only inside items)."""
    shell = {k: v for k, v in data.items() if k not in _LISTS and k not in _KINDS}
    try:
        json_format.ParseDict(shell, message, ignore_unknown_fields=True)
    except _PARSE_ERRORS as exc:
        dropped.add(path, _reason(exc), max(1, count_items(data)))
        return False
    fields = message.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        if _KINDS.get(key, _LISTS.get(key)) not in fields:
            continue  # a key of another message (`resourceMetrics` in a trace export): unknown here, ignored
        if key in _KINDS and isinstance(value, dict):
            sub = getattr(message, _KINDS[key])
            sub.SetInParent()  # keeps the metric's kind even if every point under it is dropped
            _parse_node(value, sub, to_b64, f"{path}.{key}", dropped)
        elif key in _KINDS or (key in _LISTS and not isinstance(value, list)):
            dropped.add(
                f"{path}.{key}",
                f"not a JSON {'object' if key in _KINDS else 'list'}",
                max(1, count_items(value)),
            )
        elif key in _LISTS:
            repeated = getattr(message, _LISTS[key])
            for i, item in enumerate(value):
                where = f"{path}.{key}[{i}]"
                if not isinstance(item, dict):
                    dropped.add(where, "not a JSON object", max(1, count_items(item)))
                    continue
                parse = _parse_item if key in _ITEMS else _parse_node
                if not parse(item, repeated.add(), to_b64, where, dropped):
                    del repeated[len(repeated) - 1]  # no empty placeholder for what was refused
    return True


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, Invalid) else str(exc)
