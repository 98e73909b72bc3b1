"""Tickets for the live-update stream (`GET /api/live`): short-lived, single-purpose, single-use.

A browser's `EventSource` cannot send an `Authorization` header, and a bearer token in a URL ends up
in histories and proxy logs. So the page trades its normal token for a ticket (`POST
/api/live/ticket`, viewer role) and opens the stream with `?ticket=`. A ticket is
`<expiry>.<nonce>.<role>.<mac>`: an HMAC-SHA256 over the purpose ("live"), expiry, nonce and role,
keyed by a key derived from the admin token, so it opens the stream and nothing else, for
`TICKET_SECONDS`, once (the verifier remembers used nonces until they expire). Rotating the admin
token voids every ticket. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from vigil.domain.errors import Unauthorized

LIVE_PATH = "/api/live"  # the stream a ticket opens
TICKET_SECONDS = 60.0
PURPOSE = b"vigil live stream v1"
MAX_REMEMBERED = 10_000  # used nonces kept at most (each for its ticket's lifetime)


def ticket_key(admin_token: str) -> bytes:
    """The signing key: derived, so a ticket never reveals (or equals) the admin token."""
    return hmac.new(admin_token.encode(), PURPOSE, hashlib.sha256).digest()


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, PURPOSE + b"|" + body.encode(), hashlib.sha256).hexdigest()


def issue(key: bytes, role: str, now: float) -> str:
    body = f"{int(now + TICKET_SECONDS)}.{secrets.token_urlsafe(12)}.{role}"
    return f"{body}.{_mac(key, body)}"


class TicketVerifier:
    """Checks tickets and refuses a second use of one. Thread-safe."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._used: dict[str, float] = {}  # nonce -> expiry
        self._lock = threading.Lock()

    def redeem(self, ticket: str | None, now: float) -> str:
        """The ticket's role. Raises Unauthorized: missing, forged, expired or already used."""
        if not ticket:
            raise Unauthorized("missing ticket: POST /api/live/ticket first", field="ticket")
        body, _, mac = ticket.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or not hmac.compare_digest(mac, _mac(self._key, body)):
            raise Unauthorized("invalid ticket", field="ticket")
        expiry, nonce, role = float(parts[0]), parts[1], parts[2]
        if expiry < now:
            raise Unauthorized("ticket expired: ask for a new one", field="ticket")
        with self._lock:
            if nonce in self._used:
                raise Unauthorized("ticket already used: ask for a new one", field="ticket")
            if len(self._used) >= MAX_REMEMBERED:
                self._used = {n: e for n, e in self._used.items() if e >= now}
                if len(self._used) >= MAX_REMEMBERED:
                    raise Unauthorized("too many tickets in flight; retry shortly", field="ticket")
            self._used[nonce] = expiry
        return role
