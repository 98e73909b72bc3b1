"""Web Push delivery (RFC 8030) to one browser subscription: the payload encrypted `aes128gcm` for the
browser's keys (RFC 8291 over RFC 8188), a VAPID `Authorization: vapid t=<JWT>, k=<public key>` header
(RFC 8292, signed by py-vapid), POSTed through the shared SSRF-guarded `HttpClient` like any webhook.

The encryption is written here against `cryptography` rather than taken from http-ece/pywebpush:
http-ece publishes no wheel (the Lambda layer is built `--only-binary=:all:` for aarch64) and
pywebpush posts with its own requests/aiohttp session, which would bypass the SSRF guard and DNS
pinning. The tests decrypt with an independent implementation (http-ece) and verify the JWT with
`cryptography` alone. A push service answering 404 or 410 has dropped the subscription: the notifier
deletes it and raises `Gone`. cryptography and py-vapid are imported on first use only (cold starts).
Imports: standard library, cryptography, py-vapid, `vigil.adapters.notify`, `vigil.domain`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vigil.adapters.notify.base import NotifyContext, alert_url
from vigil.adapters.notify.redact import url_secrets
from vigil.domain.alerts import Notification
from vigil.domain.errors import DeliveryError, Gone
from vigil.domain.push import SUBSCRIPTION_KIND, b64url, b64url_decode, payload

RECORD_SIZE = 4096  # one record: push services take at most 4 KB of body
TTL_SECONDS = 86400  # a phone offline for a day still gets the alert when it reconnects
JWT_SECONDS = 12 * 3600  # RFC 8292 §2: at most 24 h
GONE_STATUSES = (404, 410)


@dataclass(frozen=True)
class VapidKeys:
    """The application server's key pair: `private_pem` (PKCS#8) signs, `public_key` (base64url
    uncompressed P-256 point) is the browsers' `applicationServerKey`."""

    private_pem: str
    public_key: str


def generate_vapid_keys() -> VapidKeys:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return VapidKeys(pem, public_key_of(pem))


def public_key_of(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869) for one output block, all RFC 8291 needs (length <= 32)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def encrypt(plaintext: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291 §3-4: the `aes128gcm` body (RFC 8188 header with our ephemeral public key as key id,
    then one record) that only the browser holding `p256dh`'s private key and `auth` can read.

    Raises:
        ValueError: the plaintext does not fit one record, or a key is malformed.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(plaintext) + 1 + 16 > RECORD_SIZE - 86:  # 86: the header (16 + 4 + 1 + 65)
        raise ValueError("push payload too large for one record")
    ua_public = b64url_decode(p256dh)
    auth_secret = b64url_decode(auth)
    ua_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ua_public)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    as_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = ephemeral.exchange(ec.ECDH(), ua_key)
    ikm = _hkdf(auth_secret, shared, b"WebPush: info\x00" + ua_public + as_public, 32)
    salt = os.urandom(16)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    record = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)  # 0x02: the last record's delimiter
    return salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public + record


def vapid_header(keys: VapidKeys, endpoint: str, subject: str, now: float) -> str:
    """RFC 8292 `Authorization` value for `endpoint`'s push service (the JWT audience is its origin)."""
    from py_vapid import Vapid02

    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": subject, "exp": int(now) + JWT_SECONDS}
    signed: dict[str, str] = Vapid02.from_pem(keys.private_pem.encode()).sign(claims)
    return signed["Authorization"]


class WebPushNotifier:
    """One subscription (a stored `push_subscription` document with its secrets opened)."""

    def __init__(self, subscription: dict[str, Any], keys: VapidKeys, subject: str, ctx: NotifyContext):
        self.sub, self.keys, self.subject, self.ctx = subscription, keys, subject, ctx

    def send(self, notification: Notification) -> None:
        endpoint = str(self.sub["endpoint"])
        sub_id = str(self.sub["id"])
        data = payload(notification, alert_url(self.ctx.public_url, notification))
        body = encrypt(
            json.dumps(data, separators=(",", ":")).encode(), str(self.sub["p256dh"]), str(self.sub["auth"])
        )
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high" if notification.severity == "critical" else "normal",  # RFC 8030 §5.3
            # the wall clock, not the context's: the push service checks `exp` against its own
            "Authorization": vapid_header(self.keys, endpoint, self.subject, time.time()),
        }
        try:
            self.ctx.http.post(
                endpoint,
                body,
                headers,
                what=f"push subscription {sub_id}",
                secrets=[*url_secrets(endpoint), str(self.sub["auth"]), str(self.sub["p256dh"])],
            )
        except DeliveryError as exc:
            if exc.status not in GONE_STATUSES:
                raise
            if self.ctx.store is not None:
                self.ctx.store.delete_doc(SUBSCRIPTION_KIND, sub_id)
            raise Gone(f"{exc.message}; the browser unsubscribed: subscription {sub_id} removed") from None
