"""OpenAPI fragments shared by every route: the error model and the error responses it documents."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


def _err(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _err("Invalid request; `field` names the problem"),
    401: _err("Missing or unknown credentials"),
    403: _err("Credentials lack the needed role"),
    404: _err("Not found"),
    405: _err("Method not allowed"),
    409: _err("Conflict"),
    413: _err("Body or batch too large"),
    415: _err("Unsupported media type"),
    422: _err("A per-host limit (cardinality guard) would be exceeded"),
    503: _err(
        "The store is temporarily unavailable (`unavailable`) or its disk full (`storage_full`); retry"
    ),
}


def documented(
    status: int = 200, model: type[BaseModel] | None = None, description: str = "OK"
) -> dict[int, OpenAPIResponse]:
    """The `responses=` of a route: its success answer plus every error answer. (Powertools drops its
    generated 200 as soon as `responses` is given, so the success status is always listed here.)"""
    ok: OpenAPIResponse = {"description": description}
    if status == 204:
        # No Content: no media type (a JSON one would promise a body). An empty map, because
        # Powertools fills a missing `content` in from the return annotation.
        ok["content"] = {}
    elif model is not None:
        ok["content"] = {"application/json": {"model": model}}
    else:
        ok["content"] = {"application/json": {"schema": {}}}
    return {status: ok, **ERROR_RESPONSES}
