"""HTTP request → API Gateway HTTP API (payload format 2.0) event, and the handler's answer → HTTP.

Quirks copied from API Gateway on purpose (so local behaviour matches AWS):
- header names are lower-cased; repeated headers are joined with commas;
- repeated query parameters are joined with commas in `queryStringParameters` (rawQueryString keeps them);
- cookies move from the `cookie` header into the `cookies` list;
- text bodies are passed as text and `isBase64Encoded` is false only for textual content types; any
  other body (protobuf, gzip) is base64-encoded, as API Gateway does;
- the Lambda answer may be a dict with statusCode/headers/body/isBase64Encoded/cookies.
Standard library only.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def _is_text(content_type: str, content_encoding: str) -> bool:
    if content_encoding and content_encoding != "identity":
        return False
    ctype = content_type.split(";")[0].strip().lower()
    return ctype == "" or ctype.startswith(_TEXT_TYPES) or ctype.endswith("+json")


def to_event(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    route_key: str,
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
) -> dict[str, Any]:
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    is_text = _is_text(joined.get("content-type", ""), joined.get("content-encoding", ""))
    try:
        text_body = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text_body = None  # API Gateway base64-encodes what it cannot pass as text
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "domainName": joined.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body) and text_body is None,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if body:
        event["body"] = text_body if text_body is not None else base64.b64encode(body).decode()
    return event


def from_result(result: dict[str, Any]) -> HttpResponse:
    status = int(result.get("statusCode", 200))
    headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if any(k.lower() == key.lower() for k, _ in headers):
            continue
        headers.extend((key, str(v)) for v in values)
    headers.extend(("Set-Cookie", c) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = (
        base64.b64decode(raw)
        if result.get("isBase64Encoded")
        else (raw.encode() if isinstance(raw, str) else bytes(raw))
    )
    return HttpResponse(status, headers, body)
