"""A browser and a push service for the Web Push tests, with real cryptography and no Vigil code.

`Browser` makes what a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret,
and `PushSubscription.toJSON()` for an endpoint. `PushService` is a loopback HTTP server standing in
for the browser vendor's push service: for every POST it checks the VAPID `Authorization` header
(RFC 8292: the ES256 JWT verified with `cryptography` against the `k=` key, which must be the key the
API published, audience = this server's origin) and decrypts the `aes128gcm` body with the browser's
private key through http-ece (an implementation independent of ours), then answers with the next
scripted status (201 by default)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class Browser:
    """One browser profile's push keys."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64e(raw)

    def subscription(self, endpoint: str, **extra: Any) -> dict[str, Any]:
        """`PushSubscription.toJSON()` as Chromium sends it (`expirationTime` null)."""
        keys = {"p256dh": self.p256dh, "auth": b64e(self.auth)}
        return {"endpoint": endpoint, "expirationTime": None, "keys": keys, **extra}

    def decrypt(self, body: bytes) -> bytes:
        return bytes(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def verify_vapid(header: str, public_key: str, audience: str) -> dict[str, Any]:
    """The JWT claims of an RFC 8292 `vapid t=..., k=...` header, after checking its ES256 signature
    with `public_key`. Raises on any mismatch."""
    scheme, _, params = header.partition(" ")
    assert scheme.lower() == "vapid", header[:20]
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key, "k= is not the key the API published"
    head, claims, signature = fields["t"].split(".")
    assert json.loads(b64d(head)) == {"typ": "JWT", "alg": "ES256"}
    sig = b64d(signature)
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(fields["k"]))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # InvalidSignature if forged
    decoded: dict[str, Any] = json.loads(b64d(claims))
    assert decoded["aud"] == audience, decoded
    assert decoded["sub"].startswith(("mailto:", "https://")), decoded
    return decoded


@dataclass
class Push:
    path: str
    headers: dict[str, str]
    claims: dict[str, Any]
    payload: dict[str, Any]


@dataclass
class PushService:
    """Scripted answers per path; every verified push is kept in `pushes`, every failed check in
    `errors`. `browsers` maps a path to the browser subscribed there; `public_key` is the VAPID key
    the API published (set by the test once it has read it)."""

    port: int = 0
    public_key: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    pushes: list[Push] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answered: list[tuple[str, int]] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscribe(self, path: str, browser: Browser | None = None, **extra: Any) -> dict[str, Any]:
        """A new browser subscribed at `path`: its `PushSubscription.toJSON()`."""
        self.browsers[path] = browser or Browser()
        return self.browsers[path].subscription(self.origin + path, **extra)

    def answer(self, path: str, *statuses: int) -> None:
        self.script.setdefault(path, []).extend(statuses)

    def to(self, path: str) -> list[dict[str, Any]]:
        return [p.payload for p in self.pushes if p.path == path]

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            queue = self.script.get(path) or []
            status = queue.pop(0) if queue else 201
        try:
            assert headers.get("Content-Encoding") == "aes128gcm", headers
            assert int(headers["TTL"]) > 0
            claims = verify_vapid(headers["Authorization"], self.public_key, self.origin)
            assert time.time() < claims["exp"] <= time.time() + 86400
            payload = json.loads(self.browsers[path].decrypt(body))
        except Exception as exc:
            with self.lock:
                self.errors.append(f"{path}: {type(exc).__name__}: {exc}")
            return 400
        with self.lock:
            self.answered.append((path, status))
            if status < 300:
                self.pushes.append(Push(path, headers, claims, payload))
        return status


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = service.receive(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
