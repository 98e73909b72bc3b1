"""The Lambda entry shared by every function: checks that must run before Powertools' own request
validation, then the resolver, then conditional-GET handling.

Order of work for one API Gateway HTTP API (payload v2.0) event:
1. body checks Powertools gets wrong (non-UTF-8 → 500, multipart without boundary → 500, oversize),
   `Content-Encoding` (gzip inflated with a bound, others 415) and the one JSON parse of the body
   (orjson, nesting limited to `MAX_JSON_DEPTH`): Powertools' validation is handed that parsed value
   instead of parsing again with `json.loads`, whose recursion limit made ~1,000-deep bodies a 500;
2. the way in: an event from the metrics function's Lambda Function URL (`routeKey` "$default", which
   no route of the HTTP API has) is served only on ingest routes, 404 elsewhere, so `/api/*` is
   reached only through API Gateway's Cognito authorizer and throttling (infra/api.py);
   then authentication by route policy (so anonymous callers get 401, never a schema error);
3. a resolver lent from the function's pool (`vigil.api.resolver`: Powertools' per-request state lives
   on the resolver, so overlapping invocations on the local server's threads each get their own);
4. ETag / If-None-Match → 304 for GETs, so the dashboard's 10 s refresh moves no body when nothing
   changed.
Route modules expose `register(app)`; a function's resolver is the sum of its modules.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from vigil.adapters.content_encoding import inflate
from vigil.api.auth import required_role
from vigil.api.errors import error_payload, register_error_handlers
from vigil.domain.errors import Invalid, NotFound, TooLarge, UnsupportedMediaType, VigilError
from vigil.domain.limits import MAX_BODY_BYTES
from vigil.wiring import AppContext, app_context

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from vigil.api.resolver import OwnEventResolver, ResolverPool

log = logging.getLogger("vigil.api")
access_log = logging.getLogger("vigil.api.access")
Registrar = Callable[["APIGatewayHttpResolver"], None]
# OTLP and remote-write bodies may be larger than JSON sample batches (protobuf of many points);
# gzip/snappy are inflated later, each with its own bound.
BODY_LIMITS = {path: 4 * MAX_BODY_BYTES for path in ("/v1/metrics", "/v1/traces", "/api/v1/write")}
# OTLP (protobuf or JSON) and remote-write (snappy protobuf): decoded by their routes
_RAW_BODY_PATHS = ("/v1/metrics", "/v1/traces", "/api/v1/write")
# JSON bodies their route decodes itself (a typed decode of the text, `ingest_routes.checked_samples`):
# checked here like any JSON body but not parsed
_SELF_DECODED_PATHS = ("/v1/samples",)
# Lambda's sentinel route key of a Function URL event; the HTTP API binds every path as `ANY <path>`.
FUNCTION_URL_ROUTE_KEY = "$default"
MAX_JSON_DEPTH = 32  # our deepest document (a dashboard) nests 6 levels; Python recursion is ~1,000
_CONTAINERS = (dict, list)  # what orjson.loads makes of JSON objects and arrays, exactly these types
_parsed = threading.local()  # (body text, its parsed value) of the invocation running on this thread


def new_resolver(registrars: Sequence[Registrar], validation: bool = True) -> OwnEventResolver:
    """The resolver of `registrars`' routes. `validation=False` skips Powertools' request and response
    validation, and with it pydantic (≈90 ms of a cold start): only for routes that take no input.

    Raises:
        TypeError: `validation` is off and a route takes parameters (path, query or body).
    """
    from vigil.api.resolver import OwnEventResolver, check_takes_no_input, remember_scalar_fields

    if validation:
        remember_scalar_fields()

    app = OwnEventResolver(
        enable_validation=validation, serializer=json_text, json_body_deserializer=_parsed_body
    )
    register_error_handlers(app)
    for register in registrars:
        register(app)
    if not validation:
        check_takes_no_input(app)
    return app


def json_text(obj: Any) -> str:
    """A route's answer as JSON text: Powertools' serializer, and what a route returning its own
    `Response` encodes with (`query_routes.series`)."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=_default).decode()


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(obj).__name__}")


class FunctionEntry:
    """`handler(event, context)` for one Lambda function. Thread-safe (local server threads)."""

    def __init__(self, name: str, registrars: Sequence[Registrar], validation: bool = True) -> None:
        self.name = name
        self._registrars = registrars
        self._validation = validation
        self._pool: ResolverPool | None = None
        self._lock = threading.Lock()

    def pool(self) -> ResolverPool:
        """Built on first use (the cold start); resolvers inside it are built as invocations overlap."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from vigil.api.resolver import ResolverPool

                    self._pool = ResolverPool(lambda: new_resolver(self._registrars, self._validation))
        return self._pool

    def resolver(self) -> APIGatewayHttpResolver:
        """A resolver to read route metadata from (route templates, the OpenAPI document)."""
        return self.pool().any()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        ctx = app_context()
        http = (event.get("requestContext") or {}).get("http") or {}
        method = str(http.get("method") or "GET").upper()
        path = str(event.get("rawPath") or http.get("path") or "/")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            if event.get("routeKey") == FUNCTION_URL_ROUTE_KEY and required_role(method, path) != "ingest":
                raise NotFound(
                    "this URL serves only the ingest routes (/v1/..., /api/v1/write); use the API URL"
                )
            _check_body(method, path, headers, event)
            principal = ctx.auth.authenticate(method, path, headers, event)
        except VigilError as exc:
            status, body, extra = error_payload(exc)
            return {
                "statusCode": status,
                "headers": {"Content-Type": "application/json", **extra},
                "body": body.decode(),
                "isBase64Encoded": False,
            }
        with self.pool().lend() as app:
            app.append_context(vigil=ctx, principal=principal)
            try:
                response = app.resolve(event, context)
            finally:
                _parsed.memo = None  # do not keep a body alive past its request
        status = int(response.get("statusCode", 200))
        if status >= 400:  # who asked what and why it failed; never the token itself
            answer = str(response.get("body") or "")[:300]
            query = event.get("rawQueryString") or ""
            access_log.info("%s %s?%s -> %s (%s) %s", method, path, query, status, principal.subject, answer)
        return _conditional(method, headers, response)


def vigil_context(app: APIGatewayHttpResolver) -> AppContext:
    ctx: AppContext = app.context["vigil"]
    return ctx


def raw_body(event: Any) -> bytes:
    """The request body as bytes, whatever API Gateway's base64 flag says."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else bytes(body)


def _check_body(method: str, path: str, headers: dict[str, str], event: dict[str, Any]) -> None:
    if method not in ("POST", "PUT", "PATCH"):
        return
    body = raw_body(event)
    limit = BODY_LIMITS.get(path, MAX_BODY_BYTES)
    if len(body) > limit:
        raise TooLarge(
            f"the body is {len(body)} bytes; the limit is {limit} bytes — send smaller batches", field="body"
        )
    if path in _RAW_BODY_PATHS:
        return
    ctype = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype not in ("application/json", "") and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"send JSON (Content-Type: application/json), not {ctype!r}", field="content-type"
        )
    body = inflate(body, headers.get("content-encoding"), limit)  # 415 / 413 / 400 by the same rule
    if not body:
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid("the body is not valid UTF-8", field="body") from exc
    if path not in _SELF_DECODED_PATHS:
        _parsed.memo = (text, parse_json_body(text))
    # hand Powertools the (inflated, decoded) text it expects; `_parsed_body` recognises it
    event["body"], event["isBase64Encoded"] = text, False


def parse_json_body(text: str) -> Any:
    """The JSON value of a request body, parsed once with one nesting limit.

    Raises:
        Invalid: not JSON, or nested deeper than `MAX_JSON_DEPTH` (field "body").
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", field="body") from exc
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(MAX_JSON_DEPTH):  # level by level, no recursion: ~3 ms per 5,000-sample batch here
        level = [
            c
            for node in level
            for c in (node.values() if type(node) is dict else node)
            if type(c) in _CONTAINERS
        ]
    if level:
        raise Invalid(f"the body nests deeper than {MAX_JSON_DEPTH} levels", field="body")
    return value


def _parsed_body(text: str) -> Any:
    """Powertools' JSON deserializer: the value `_check_body` parsed for this very body text."""
    memo = getattr(_parsed, "memo", None)
    if memo is not None and memo[0] is text:
        return memo[1]
    return parse_json_body(text)


def _conditional(method: str, headers: dict[str, str], response: dict[str, Any]) -> dict[str, Any]:
    if method not in ("GET", "HEAD") or response.get("statusCode") != 200:
        return response
    body = response.get("body") or ""
    # SHA-1 (not for security: it only tells versions of one answer apart) hashes twice as fast as
    # BLAKE2b here: a one-series 24 h answer (~45 KB) took ~0.1 ms of a ~1.5 ms request to tag
    digest = hashlib.sha1(body.encode() if isinstance(body, str) else body, usedforsecurity=False)
    etag = '"' + digest.hexdigest()[:24] + '"'
    out_headers = dict(response.get("headers") or {})
    out_headers["ETag"] = etag
    out_headers.setdefault("Cache-Control", "no-cache")
    if etag in (headers.get("if-none-match") or ""):
        return {
            "statusCode": 304,
            "headers": out_headers,
            "body": "",
            "isBase64Encoded": False,
            **(
                {"multiValueHeaders": response["multiValueHeaders"]}
                if "multiValueHeaders" in response
                else {}
            ),
        }
    return {**response, "headers": out_headers}
