"""The pydantic models of a browser's Web Push subscription (`POST /api/push/subscriptions`, RFC 8030
`PushSubscription.toJSON()`): what `vigil.domain.push.parse_subscription` validates. Apart from
`vigil.domain.push` so that delivery, which reads stored subscriptions, never loads pydantic.
Imports: standard library, pydantic, `vigil.domain`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigil.domain.push import Severity, b64url_decode
from vigil.domain.rules import invalid_from


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: str = Field(max_length=128, description="the browser's P-256 public key (uncompressed)")
    auth: str = Field(max_length=64, description="the browser's 16-byte authentication secret (base64url)")

    @field_validator("p256dh")
    @classmethod
    def _p256dh(cls, value: str) -> str:
        raw = b64url_decode(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("must be an uncompressed P-256 point (65 bytes, base64url)")
        return value

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str) -> str:
        if len(b64url_decode(value)) != 16:
            raise ValueError("must be 16 bytes, base64url")
        return value


class PushSubscriptionIn(BaseModel):
    """`POST /api/push/subscriptions`: the browser's `PushSubscription.toJSON()`, plus the severities
    this device wants (default critical only). Unknown keys a browser may add are ignored."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(max_length=2000, description="the push service URL the browser was given")
    expirationTime: float | None = Field(default=None, description="epoch ms, as browsers send it")
    keys: PushKeys
    severities: list[Severity] = Field(default=["critical"], min_length=1, max_length=3)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        if parts.username or parts.password:
            raise ValueError("URL must not embed credentials")
        return endpoint


def validated(data: dict[str, Any]) -> PushSubscriptionIn:
    """Raises:
    Invalid: naming the offending field (`endpoint`, `keys.p256dh`, `severities`, ...)."""
    try:
        return PushSubscriptionIn.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None
