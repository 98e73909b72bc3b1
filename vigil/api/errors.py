"""The only place Vigil's errors become HTTP statuses and JSON error bodies.

Every error answer has the shape `{"error": {"code", "message", "field"}}`. A 500 never carries
internals: the exception is logged (with the request id) and the body says only that it failed.
Imports Powertools' event-handler types, never a store or an adapter.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from vigil.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    LimitExceeded,
    NotFound,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    VigilError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

log = logging.getLogger("vigil.api")

STATUS_BY_ERROR: tuple[tuple[type[VigilError], int], ...] = (
    (TooLarge, 413),
    (LimitExceeded, 422),
    (Invalid, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unavailable, 503),
)


class MethodNotAllowed(VigilError):
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: list[str]) -> None:
        super().__init__(f"{method} is not allowed here; use {', '.join(allowed)}")
        self.allowed = allowed


def status_for(exc: VigilError) -> int:
    if isinstance(exc, MethodNotAllowed):
        return 405
    if isinstance(exc, UnsupportedMediaType):
        return 415
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_payload(exc: VigilError) -> tuple[int, bytes, dict[str, str]]:
    """(status, JSON body, extra headers) for a domain error."""
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="vigil"'
    if isinstance(exc, Unavailable):
        # 503 for a full disk too (not 507): OTLP exporters and our agent retry 503 with Retry-After
        headers["Retry-After"] = str(exc.retry_after)
    return status_for(exc), orjson.dumps(error_body(exc.code, exc.message, exc.field)), headers


_UNION_TAGS = {"float", "int", "str", "bool", "none", "list", "dict", "is-instance", "lax-or-strict"}


def field_from_loc(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """Pydantic/Powertools error location → a dotted field path: ('body','samples',3,'ts') → samples[3].ts.

    Union branch tags pydantic inserts (`float`, `int`, `function-after[...]`) are dropped, so the user
    sees the field they wrote, not our type internals."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        where = parts.pop(0)
        if not parts:
            return "body" if where == "body" else None
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in str(part) or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or None


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """Turn a list of pydantic errors into one readable sentence and the first field."""
    first = errors[0]
    field = field_from_loc(first.get("loc", ()))
    msg = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        msg = "is required"
    elif first.get("type") == "extra_forbidden":
        msg = "is not a known field"
    text = f"{field}: {msg}" if field else msg
    others = len({field_from_loc(e.get("loc", ())) for e in errors} - {field})
    if others:
        text += f" (and {others} more field{'s' if others > 1 else ''} with problems)"
    return text, field


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Map domain errors, request validation errors, 404/405 and crashes onto our JSON error shape."""
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestValidationError,
        ResponseValidationError,
    )

    def respond(exc: VigilError) -> Response[str]:
        status, body, headers = error_payload(exc)
        return Response(
            status_code=status, content_type="application/json", body=body.decode(), headers=headers
        )

    @app.exception_handler(VigilError)
    def _domain(exc: VigilError) -> Response[str]:
        return respond(exc)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if errors and tuple(errors[0].get("loc", ()))[:1] == ("response",):
            # Our answer broke its own schema: that is our bug, never the caller's 4xx.
            crashed: Response[str] = _crash(RuntimeError(f"response failed its schema: {errors[:3]}"))
            return crashed
        message, field = validation_message(errors)
        return respond(Invalid(message, field=field))

    @app.exception_handler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        path, method = event.path, event.http_method.upper()
        # A literal route (`/api/alerts/rules/test`) is the path's own: list its methods, not those of
        # a parameterised route it also happens to match (`/api/alerts/rules/{rule_id}`).
        static = {r.method for r in app._static_routes if r.rule.match(path)}
        allowed = sorted(static or {r.method for r in app._dynamic_routes if r.rule.match(path)})
        if allowed:
            return respond(MethodNotAllowed(method, allowed))
        return respond(NotFound(f"no route for {method} {path}"))

    @app.exception_handler([Exception, ResponseValidationError])
    def _crash(exc: Exception) -> Response[str]:
        log.exception(
            "unhandled error while serving %s %s", app.current_event.http_method, app.current_event.path
        )
        body = orjson.dumps(error_body("internal", "internal error; the request id is in the logs"))
        return Response(status_code=500, content_type="application/json", body=body.decode())
