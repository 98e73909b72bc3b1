"""Who is calling, and may they: route policy, credential checks, key hashing.

Policy is decided from method + path BEFORE request validation, so a caller without credentials gets
401 whatever else is wrong with the request (no schema leaks to anonymous callers).
- public: `/health`, `/openapi.json`
- ingest key: `/v1/*`
- viewer (or admin): reads under `/api/*`, except the admin-only reads below
- admin: every write under `/api/*` (but live-update watching and one's own Web Push subscription),
  and reading keys and channels
Local mode checks the admin token or a minted viewer token; Cognito mode trusts the JWT claims API
Gateway's authorizer already verified (groups `admin`/`viewer`). Never log a token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from vigil.domain.errors import Forbidden, Unauthorized, Unavailable
from vigil.ports import Clock, Store, SystemClock

Role = Literal["public", "ingest", "viewer", "admin"]
_ADMIN_ONLY_READS = ("/api/keys", "/api/channels", "/api/notifications/dead-letters")
_KEY_CACHE_SECONDS = 60.0  # a revoked key stops working within this long on a warm Lambda
# `last_used_at` is written at most this often per key and process, so a push keeps its single write
# and a busy key costs one extra write a minute, not one per request.
TOUCH_EVERY_SECONDS = 60.0
log = logging.getLogger("vigil.api.auth")


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str  # key id, token id, or Cognito username — never the secret


PUBLIC = Principal("public", "anonymous")


REMOTE_WRITE_PATH = "/api/v1/write"  # Prometheus' path, under /api/ but an ingest route


def required_role(method: str, path: str) -> Role:
    method = method.upper()
    if path in ("/health", "/openapi.json") or path.startswith("/docs"):
        return "public"
    if path.startswith("/v1/") or path == REMOTE_WRITE_PATH:
        return "ingest"
    if path.startswith("/api/"):
        if method in ("GET", "HEAD", "OPTIONS") and not path.startswith(_ADMIN_ONLY_READS):
            return "viewer"
        if path == "/api/alerts/rules/test":  # a dry run changes nothing; viewers may try rules
            return "viewer"
        if path in ("/api/live/ticket", "/api/live/watch"):  # watching what viewers may read anyway
            return "viewer"
        if path.startswith("/api/push/subscriptions"):  # pushing to one's own browser what one may read
            return "viewer"
        return "admin"
    return "public"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def bearer_token(headers: dict[str, str]) -> str | None:
    raw = headers.get("authorization") or ""
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Checks credentials against the role a route requires. One per process; thread-safe."""

    def __init__(
        self, store: Store, *, mode: str, admin_token: str | None, clock: Clock | None = None
    ) -> None:
        self._store = store
        self._mode = mode
        self._admin_token = admin_token
        self._clock = clock or SystemClock()
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._touched: dict[str, float] = {}  # key id -> clock time of its last `touch_key`
        self._lock = threading.Lock()

    def authenticate(
        self, method: str, path: str, headers: dict[str, str], event: dict[str, Any]
    ) -> Principal:
        """Raises:
        Unauthorized: credentials missing or unknown.
        Forbidden: credentials valid but the role is too weak for this route."""
        needed = required_role(method, path)
        if needed == "public":
            return PUBLIC
        if needed == "ingest":
            return self._key_principal(bearer_token(headers), allowed=("ingest",), what="an ingest key")
        principal = self._user_principal(headers, event)
        if needed == "admin" and principal.role != "admin":
            raise Forbidden("this action needs the admin role")
        return principal

    def _user_principal(self, headers: dict[str, str], event: dict[str, Any]) -> Principal:
        if self._mode == "cognito":
            claims = (
                ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt", {}).get("claims")
            )
            if not claims:
                raise Unauthorized("sign in first: this route needs a Cognito token")
            groups = claims.get("cognito:groups") or ""
            group_list = (
                groups if isinstance(groups, list) else str(groups).strip("[]").replace(",", " ").split()
            )
            role: Role = (
                "admin" if "admin" in group_list else "viewer" if "viewer" in group_list else "public"
            )
            if role == "public":
                raise Forbidden("your user is in neither the admin nor the viewer group")
            return Principal(role, str(claims.get("username") or claims.get("sub") or "user"))
        token = bearer_token(headers)
        if token and self._admin_token and hmac.compare_digest(token.encode(), self._admin_token.encode()):
            return Principal("admin", "admin-token")
        return self._key_principal(token, allowed=("viewer",), what="the admin token or a viewer token")

    def _key_principal(self, token: str | None, *, allowed: tuple[str, ...], what: str) -> Principal:
        if not token:
            raise Unauthorized(f"missing credentials: send 'Authorization: Bearer <token>' with {what}")
        digest = hash_secret(token)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and cached[0] > now:
            principal = cached[1]
        else:
            record = self._store.find_key(digest)
            if record is None or record.revoked:
                raise Unauthorized(f"unknown or revoked credentials: use {what}")
            principal = Principal(record.role, record.id)  # type: ignore[arg-type]
            with self._lock:
                self._cache[digest] = (now + _KEY_CACHE_SECONDS, principal)
        if principal.role not in allowed:
            raise Unauthorized(f"these credentials are not valid here: use {what}")
        self._note_use(principal.subject)
        return principal

    def _note_use(self, key_id: str) -> None:
        now = self._clock.now()
        with self._lock:
            if now - self._touched.get(key_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
                return
            self._touched[key_id] = now
        try:
            self._store.touch_key(key_id, now)
        except Unavailable as exc:  # bookkeeping must never refuse a request; the next minute retries
            log.warning("could not record the use of key %s: %s", key_id, exc.message)
            with self._lock:
                self._touched.pop(key_id, None)

    def forget(self) -> None:
        """Drop cached key lookups (after a revoke in this process)."""
        with self._lock:
            self._cache.clear()
