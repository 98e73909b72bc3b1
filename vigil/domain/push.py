"""Web Push subscriptions (RFC 8030): what a browser hands us (`PushSubscription.toJSON()`), how it is
kept, which notifications it wants, and the payload it receives (the JSON the service worker shows).

A subscription's endpoint is a capability URL and its `p256dh`/`auth` keys let anyone encrypt to that
browser, so all three are secret document fields (`domain.channels.SECRET_DOC_FIELDS`: sealed with
the stack's KMS key in AWS) and the public view shows only the endpoint's origin. The id is derived
from the endpoint, so the same browser subscribing twice replaces its subscription instead of adding
one, and `DELETE` can find it from the endpoint alone. Imports: standard library, `vigil.domain`.

The pydantic models of a browser's subscription (`PushSubscriptionIn`, `PushKeys`) live in
`vigil.domain.push_models`, loaded by `parse_subscription` (and on first use of these names here, PEP
562): delivering a notification reads stored subscriptions and never loads pydantic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from vigil.domain.alerts import Notification
from vigil.domain.errors import Invalid

if TYPE_CHECKING:  # at run time these come from `__getattr__` below, on first use
    from vigil.domain.push_models import PushKeys as PushKeys
    from vigil.domain.push_models import PushSubscriptionIn as PushSubscriptionIn

SUBSCRIPTION_KIND = "push_subscription"
VAPID_KIND = "push_vapid"  # AWS: the VAPID key pair, private half sealed (local mode: a 0600 file)
SECRET_FIELDS = ("endpoint", "p256dh", "auth")
DEFAULT_SEVERITIES: tuple[str, ...] = ("critical",)
BODY_MAX = 200  # characters: the payload must fit one 4 KB aes128gcm record with room to spare
Severity = Literal["info", "warning", "critical"]


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding (browsers send it unpadded).

    Raises:
        ValueError: not base64url.
    """
    if not isinstance(text, str) or any(c in text for c in "+/ \n"):
        raise ValueError("must be base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be base64url") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def subscription_id(endpoint: str) -> str:
    return "p-" + hashlib.sha256(endpoint.encode()).hexdigest()[:24]


def parse_subscription(data: Any, now: float) -> dict[str, Any]:
    """The document to store for a browser's subscription.

    Raises:
        Invalid: naming the offending field (`endpoint`, `keys.p256dh`, `severities`, ...).
    """
    from vigil.domain.push_models import validated  # pydantic: only where a browser's input arrives

    if not isinstance(data, dict):
        raise Invalid("a push subscription must be a JSON object", field="subscription")
    sub = validated(data)
    expires = sub.expirationTime / 1000.0 if sub.expirationTime else None
    return {
        "id": subscription_id(sub.endpoint),
        "endpoint": sub.endpoint,
        "p256dh": sub.keys.p256dh,
        "auth": sub.keys.auth,
        "severities": sorted(set(sub.severities)),
        "created_at": now,
        "expires_at": expires,
    }


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """What the API returns: never the endpoint's path or the keys."""
    parts = urlsplit(str(doc.get("endpoint", "")))
    return {
        "id": doc["id"],
        "push_service": f"{parts.scheme}://{parts.netloc}",
        "severities": list(doc.get("severities") or DEFAULT_SEVERITIES),
        "created_at": doc.get("created_at"),
    }


def wants(doc: dict[str, Any], n: Notification) -> bool:
    """A subscription receives firing and resolved notifications of its severities; a channel's "send
    test" is for that channel only."""
    return n.kind != "test" and n.severity in (doc.get("severities") or DEFAULT_SEVERITIES)


def payload(n: Notification, url: str) -> dict[str, str]:
    """The JSON a subscription decrypts and the service worker shows (SPEC §12)."""
    body = n.message or f"{n.display(n.value)} ({n.op} {n.display(n.threshold)})"  # the rule's template
    return {
        "title": n.title()[:BODY_MAX],
        "body": body if len(body) <= BODY_MAX else body[: BODY_MAX - 1] + "…",
        "url": url,
        "severity": n.severity,
        "status": n.status,
    }


def __getattr__(name: str) -> Any:  # PEP 562: the pydantic models load when first asked for
    if name in ("PushKeys", "PushSubscriptionIn"):
        from vigil.domain import push_models

        return getattr(push_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
