"""Vigil's error hierarchy.

Domain code raises these; only `vigil.api.errors` maps them to HTTP statuses. Keep this module free of
any import beyond the standard library.
"""

from __future__ import annotations


class VigilError(Exception):
    """Base of every error Vigil raises on purpose. `code` is a stable machine-readable string."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(VigilError):
    """The caller sent something we cannot accept; `field` names the offending part (dotted path)."""

    code = "invalid"


class TooLarge(Invalid):
    """A body, batch or export is over a documented limit."""

    code = "too_large"


class UnsupportedMediaType(Invalid):
    """The body's Content-Type or Content-Encoding is not one the endpoint accepts (HTTP 415)."""

    code = "unsupported_media_type"


class LimitExceeded(Invalid):
    """A per-host quota (distinct series, label values) would be exceeded."""

    code = "limit_exceeded"


class NotFound(VigilError):
    code = "not_found"


class Conflict(VigilError):
    code = "conflict"


class Unauthorized(VigilError):
    """No or unknown credentials."""

    code = "unauthorized"


class Forbidden(VigilError):
    """Valid credentials without the needed role (viewer writing, ingest key reading)."""

    code = "forbidden"


class Unavailable(VigilError):
    """A dependency (the store, a throttled table) is temporarily unavailable, or the server is
    saturated; the caller may retry after `retry_after` seconds."""

    code = "unavailable"

    def __init__(self, message: str, *, field: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class StorageFull(Unavailable):
    """The store has no room to write (a full disk): nothing was stored; retry after `retry_after` s."""

    code = "storage_full"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryError(VigilError):
    """A notification could not be delivered. `retryable` follows the shared classifier."""

    code = "delivery_failed"

    def __init__(
        self, reason: str, *, retryable: bool, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status  # the receiver's HTTP status, when it answered one


class Gone(DeliveryError):
    """The target no longer exists (a Web Push subscription whose push service answered 404 or 410):
    it has been removed, so this is neither retried nor a dead letter."""

    code = "target_gone"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)
