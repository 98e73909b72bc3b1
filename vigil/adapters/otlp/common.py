"""Shared OTLP mapping helpers: attribute values → Python, resource → host/service, labels.

Host comes from resource `host.name`, else `service.instance.id`, else `service.name`, sanitized to
Vigil's host syntax; `service.name` also becomes the `service` label. Data-point attributes become
labels, stringified (JSON for lists/maps), keys sanitized to the label-key syntax, values cut at 256
characters, at most `MAX_LABELS` per point (the `service` label first, then attribute keys in sorted
order; the rest are dropped and reported as a warning).

Imports opentelemetry-proto; must not import `vigil.api`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from vigil.domain.limits import HOST_RE, LABEL_KEY_RE, MAX_LABEL_VALUE_LEN, MAX_LABELS

UNKNOWN_HOST = "unknown"
_HOST_BAD = re.compile(r"[^A-Za-z0-9_.:\-]")
_LABEL_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def any_value(value: AnyValue, depth: int = 0) -> Any:
    """An OTLP AnyValue as a JSON-compatible Python value (bytes as hex)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if depth > 8:  # protobuf already bounds nesting; this keeps our own recursion shallow
        return "..."
    if kind == "array_value":
        return [any_value(v, depth + 1) for v in value.array_value.values]
    return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who sent a resource's data."""

    host: str
    service: str | None
    attributes: dict[str, Any]


def origin(resource: Resource) -> Origin:
    attrs = attributes(resource.attributes)
    service = attrs.get("service.name")
    service_s = stringify(service)[:MAX_LABEL_VALUE_LEN] if service not in (None, "") else None
    for key in ("host.name", "service.instance.id", "service.name"):
        candidate = stringify(attrs.get(key)).strip()
        if candidate:
            return Origin(sanitize_host(candidate), service_s, attrs)
    return Origin(UNKNOWN_HOST, service_s, attrs)


def sanitize_host(name: str) -> str:
    host = _HOST_BAD.sub("-", name)[:128].lstrip("_.:-")
    return host if host and HOST_RE.match(host) else UNKNOWN_HOST


def sanitize_label_key(key: str) -> str | None:
    clean = _LABEL_BAD.sub("_", key)[:64]
    if clean and not (clean[0].isalpha() or clean[0] == "_"):
        clean = ("_" + clean)[:64]
    return clean if LABEL_KEY_RE.match(clean) else None


def labels(
    service: str | None, attrs: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[tuple[tuple[str, str], ...], int]:
    """(sorted label pairs, how many were dropped over the limit or for an unusable key).

    `service` and `extra` (labels Vigil adds, such as `quantile`) are kept before any attribute.
    """
    out: dict[str, str] = {}
    dropped = 0
    if service is not None:
        out["service"] = service
    out.update(extra or {})
    for key in sorted(attrs):
        clean = sanitize_label_key(key)
        if clean is None or clean in out:
            dropped += 1
            continue
        if len(out) >= MAX_LABELS:
            dropped += 1
            continue
        out[clean] = stringify(attrs[key])[:MAX_LABEL_VALUE_LEN]
    return tuple(sorted(out.items())), dropped
