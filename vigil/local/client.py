"""A small test/dev client over `Gateway.handle_request` (no sockets): JSON in, `HttpResponse` out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from vigil.local.events import HttpResponse
from vigil.local.gateway import Gateway


class GatewayClient:
    def __init__(self, gateway: Gateway, token: str | None = None) -> None:
        self.gateway = gateway
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> HttpResponse:
        all_headers = {"host": "127.0.0.1", **(headers or {})}
        auth = token if token is not None else self.token
        if auth:
            all_headers.setdefault("authorization", f"Bearer {auth}")
        if json is not None:
            body = orjson.dumps(json)
            all_headers.setdefault("content-type", "application/json")
        query = urlencode(params or {}, doseq=True)
        return self.gateway.handle_request(method, path, query, list(all_headers.items()), body or b"")

    def get(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("DELETE", path, **kw)


def json_of(response: HttpResponse) -> Any:
    return orjson.loads(response.body)
