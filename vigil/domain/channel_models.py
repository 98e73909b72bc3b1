"""Notification channels' pydantic models (SPEC §4 `POST /api/channels`): the model, per-type target
validation, and the public view that never shows a secret. Loaded by the API and the admin code, and on
first use of `vigil.domain.channels.Channel` (the delivery path reads stored channels without it).

Slack and Discord webhook URLs *are* credentials (the token is in the path), so the public view shows
only their scheme and host; the webhook HMAC secret is never shown at all. Network-level checks (https,
private addresses, DNS pinning) happen at send time in `vigil.adapters.notify.ssrf`. Imports: standard
library, pydantic, `vigil.domain`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from vigil.domain.channels import URL_TYPES, ChannelType
from vigil.domain.errors import Invalid
from vigil.domain.rules import invalid_from

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: "c-" + uuid.uuid4().hex[:12], pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    type: ChannelType
    name: str = Field(min_length=1, max_length=100)
    target: str = Field(
        default="", max_length=2000, validate_default=True, description="URL, e-mail address or E.164 number"
    )
    secret: str | None = Field(default=None, min_length=16, max_length=256, description="webhook HMAC key")
    enabled: StrictBool = True

    @field_validator("target")
    @classmethod
    def _target(cls, target: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        if kind in URL_TYPES:
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) URL for this channel type")
            if parts.username or parts.password:
                raise ValueError("URL must not embed credentials")
        elif kind == "email" and not _EMAIL.match(target):
            raise ValueError("must be an e-mail address")
        elif kind == "sms" and not _E164.match(target):
            raise ValueError("must be a phone number in E.164 form, e.g. +33612345678")
        return target

    @field_validator("secret")
    @classmethod
    def _secret(cls, secret: str | None, info: ValidationInfo) -> str | None:
        if secret is not None and info.data.get("type") != "webhook":
            raise ValueError("only webhook channels take a secret")
        return secret

    def public(self) -> dict[str, Any]:
        """What the API returns: no secret, and URL targets reduced to scheme and host."""
        target = self.target
        if self.type in URL_TYPES:
            parts = urlsplit(target)
            target = f"{parts.scheme}://{parts.netloc}/…"
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "target": target,
            "has_secret": self.secret is not None,
            "enabled": self.enabled,
        }


class ChannelCreate(Channel):
    """`POST /api/channels` body: a channel, and whether the default rules should notify it too."""

    attach_to_defaults: StrictBool = Field(
        default=False,
        description="Also add this channel to every default rule (the dashboard offers it when the first "
        "external channel is created); the answer lists them in `attached_to`",
    )


def parse_channel(data: Any, *, channel_id: str | None = None) -> Channel:
    """Raises:
    Invalid: naming the offending field."""
    if not isinstance(data, dict):
        raise Invalid("a channel must be a JSON object", field="channel")
    if channel_id is not None:
        data = {**data, "id": channel_id}
    try:
        return Channel.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None
