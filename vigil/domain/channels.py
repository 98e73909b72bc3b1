"""Notification channels (SPEC §4 `POST /api/channels`): the channel types, which document fields are
secret, and a stored channel as the delivery path reads it. Imports: standard library, `vigil.domain`
(no pydantic).

The API's pydantic models (`Channel`, `ChannelCreate`) and `parse_channel` live in
`vigil.domain.channel_models` and are importable from here too, built on first use (PEP 562
`__getattr__`): the notify function delivers channels that were validated when they were written, so
its cold start reads them with `stored_channel` and never loads pydantic (≈ 375 M instructions of
its ≈ 1,400: docs/deploy.md, "Cold starts"; `tests/infra/test_deployed_functions.py` keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from vigil.domain.push import SECRET_FIELDS as PUSH_SECRET_FIELDS
from vigil.domain.push import SUBSCRIPTION_KIND as PUSH_SUBSCRIPTION_KIND
from vigil.domain.push import VAPID_KIND

if TYPE_CHECKING:  # at run time these come from `__getattr__` below, on first use
    from vigil.domain.channel_models import Channel as Channel
    from vigil.domain.channel_models import ChannelCreate as ChannelCreate
    from vigil.domain.channel_models import parse_channel as parse_channel

ChannelType = Literal["webhook", "slack", "discord", "email", "sms", "inbox"]
CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)
URL_TYPES = ("webhook", "slack", "discord")
NATIVE_SNS_TYPES = ("email", "sms")  # in AWS delivered by SNS subscriptions, not by the notify function
# Document kinds holding channel data, and the fields of each that are secret (a webhook URL carries its
# token; e-mail/phone endpoints are personal data; a Web Push endpoint and its keys let anyone push to
# that browser; the VAPID private key signs our pushes): stores that encrypt at rest seal exactly these.
CHANNEL_DOC_KIND = "channel"
SUBSCRIPTION_DOC_KIND = "channel_subscription"
SECRET_DOC_FIELDS: dict[str, tuple[str, ...]] = {
    CHANNEL_DOC_KIND: ("target", "secret"),
    SUBSCRIPTION_DOC_KIND: ("endpoint",),
    PUSH_SUBSCRIPTION_KIND: PUSH_SECRET_FIELDS,
    VAPID_KIND: ("private_key",),
}
_LAZY = {"Channel", "ChannelCreate", "parse_channel"}  # from `channel_models`, on first use


class ChannelLike(Protocol):
    """What a notifier reads of a channel: the API's `Channel` and a `StoredChannel` both are one."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoredChannel:
    """A channel document as stored (validated by `Channel` when it was written)."""

    id: str
    type: str
    name: str
    target: str = ""
    secret: str | None = None
    enabled: bool = True


def stored_channel(doc: dict[str, Any]) -> StoredChannel:
    """The channel in a stored document (`Store.get_doc`, bookkeeping keys removed). The document was
    validated when it was written; this checks only what delivery relies on.

    Raises:
        ValueError: not a channel document (a missing or mistyped field, an unknown type).
    """
    fields = {k: doc[k] for k in ("id", "type", "name", "target", "secret", "enabled") if k in doc}
    try:
        channel = StoredChannel(**fields)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"not a channel document: {exc}") from None
    text = (channel.id, channel.type, channel.name, channel.target)
    if (
        channel.type not in CHANNEL_TYPES
        or not all(isinstance(v, str) for v in text)
        or not isinstance(channel.secret, str | None)
        or not isinstance(channel.enabled, bool)
    ):
        raise ValueError(f"not a channel document: {channel.id!r}")
    return channel


def __getattr__(name: str) -> Any:  # PEP 562: the pydantic models load when first asked for
    if name in _LAZY:
        from vigil.domain import channel_models

        return getattr(channel_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
