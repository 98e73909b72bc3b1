"""OpenAPI request bodies for routes that read their own raw body (OTLP: protobuf or JSON, gzip).

Such routes cannot declare a Powertools `Body()`: Powertools would parse the body as JSON before the
route runs, and it documents one media type per body. They carry the `x-vigil-request-body` extension
instead (`raw_request_body`), and `with_request_bodies` turns it into the operation's `requestBody`
when `/openapi.json` is built. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUEST_BODY_EXTENSION = "x-vigil-request-body"


def raw_request_body(content: Mapping[str, Any], description: str) -> dict[str, Any]:
    """The `openapi_extensions=` of a raw-body route; `content` is an OpenAPI media-type map, e.g.
    `{"application/x-protobuf": {"schema": ...}, "application/json": {"schema": ...}}`."""
    return {REQUEST_BODY_EXTENSION: {"required": True, "description": description, "content": dict(content)}}


def with_request_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Move every operation's `x-vigil-request-body` to its `requestBody` (in place; returns it)."""
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and REQUEST_BODY_EXTENSION in operation:
                operation["requestBody"] = operation.pop(REQUEST_BODY_EXTENSION)
    return document
