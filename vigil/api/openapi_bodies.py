"""OpenAPI request bodies for routes that read their own raw body (OTLP: protobuf or JSON, gzip;
`POST /v1/samples`: JSON decoded by its fast path).

Such routes cannot declare a Powertools `Body()`: Powertools would parse and validate the body before
the route runs, and it documents one media type per body. They carry the `x-vigil-request-body`
extension instead (`raw_request_body`, or `model_request_body` for a JSON body a wire model of
`vigil.domain.models` describes), and `with_request_bodies` turns it into the operation's
`requestBody` when `/openapi.json` is built (the model's schema is generated only then, never on a
cold start). Standard library only; pydantic's models are imported when the document is built.

`without_no_content_bodies` removes the `application/json` content Powertools documents for every
response from the 204s, which carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUEST_BODY_EXTENSION = "x-vigil-request-body"


def raw_request_body(content: Mapping[str, Any], description: str) -> dict[str, Any]:
    """The `openapi_extensions=` of a raw-body route; `content` is an OpenAPI media-type map, e.g.
    `{"application/x-protobuf": {"schema": ...}, "application/json": {"schema": ...}}`."""
    return {REQUEST_BODY_EXTENSION: {"required": True, "description": description, "content": dict(content)}}


def model_request_body(model: str) -> dict[str, Any]:
    """The `openapi_extensions=` of a route whose JSON body the wire model `vigil.domain.models.<model>`
    describes: documented as if the route declared `Annotated[<model>, Body()]`."""
    return {REQUEST_BODY_EXTENSION: {"model": model}}


def with_request_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Move every operation's `x-vigil-request-body` to its `requestBody` (in place; returns it)."""
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and REQUEST_BODY_EXTENSION in operation:
                body = operation.pop(REQUEST_BODY_EXTENSION)
                if "model" in body:
                    body = _model_body(document, body["model"])
                operation["requestBody"] = body
    return document


def _model_body(document: dict[str, Any], name: str) -> dict[str, Any]:
    """`requestBody` of a wire model, its schema and those it refers to added to the components."""
    from vigil.domain import models

    schema = getattr(models, name).model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for ref, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(ref, definition)
    schemas.setdefault(name, schema)
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"content": {"application/json": {"schema": ref}}, "required": True}


def without_no_content_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Drop `content` from every 204 response (in place; returns it). Powertools documents each
    response as JSON, so a 204 (no content, RFC 9110) claimed a JSON string body that no answer
    carries: a client generated from the document, or schemathesis, expected one."""
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            no_content = (responses or {}).get("204")
            if isinstance(no_content, dict):
                no_content.pop("content", None)
    return document
