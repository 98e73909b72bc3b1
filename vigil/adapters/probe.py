"""Runs one synthetic check against the network and times its phases: DNS, TCP connect, TLS
handshake, time to first byte (the request written until the status line and headers are read), total.

Built on plain sockets, `ssl` and `http.client.HTTPResponse` rather than requests: requests hides the
moments between phases, and a check needs exactly those. The host is resolved once through the SSRF
guard (`ssrf.allowed_addresses`, the same policy code webhooks use) and the connection is pinned to the
address it vetted, so DNS rebinding cannot slip a refused address in between. One deadline bounds the
whole run (every socket operation gets what is left of it). The certificate's days left come from
the verified peer certificate. Messages name what failed, never the URL's path or a header value.
Imports: standard library, `vigil.domain`, `vigil.adapters.notify.ssrf`.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from vigil.adapters.notify.ssrf import Resolver, WebhookPolicy, allowed_addresses
from vigil.domain.checks import CheckIn, parse_target, status_expected, status_ranges
from vigil.domain.errors import DeliveryError

MAX_BODY_BYTES = 1024 * 1024  # a keyword is looked for in the first MiB; the rest is not downloaded
USER_AGENT = "Vigil-Check/1"


@dataclass
class ProbeOutcome:
    up: bool
    phases: dict[str, float] = field(default_factory=dict)  # seconds
    error: str | None = None
    status_code: int | None = None
    tls_days_left: float | None = None


class _Failed(Exception):
    """A run that ended in a known failure: `message` is what the check's `last_error` shows."""


@dataclass
class _Clock:
    started: float
    deadline: float
    timeout: float
    mark: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def left(self) -> float:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise _Failed(f"timed out after {self.timeout:g}s")
        return left

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - (self.mark or self.started), 6)
        self.mark = now


def probe(
    check: CheckIn,
    policy: WebhookPolicy,
    *,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> ProbeOutcome:
    """Run `check` once within its `timeout`; never raises for the target's faults (they are the
    outcome). `ssl_context` defaults to the system's trust store with hostname checking."""
    started = time.perf_counter()
    clock = _Clock(started, started + check.timeout, check.timeout)
    outcome = ProbeOutcome(up=False)
    sock: socket.socket | None = None
    try:
        target = parse_target(check.url)
        try:
            addresses = allowed_addresses(target.host, target.port, policy, resolver, what="check")
        except DeliveryError as exc:
            raise _Failed(exc.message) from None
        clock.lap("dns")
        try:
            sock = socket.create_connection((str(addresses[0]), target.port), timeout=clock.left())
        except TimeoutError:
            raise _Failed(f"timed out after {check.timeout:g}s connecting") from None
        except OSError as exc:
            raise _Failed(
                f"cannot connect to port {target.port}: {exc.strerror or type(exc).__name__}"
            ) from None
        clock.lap("connect")
        if target.scheme == "tcp":
            outcome.up = True
        else:
            if target.scheme == "https":
                sock = _handshake(sock, target.host, ssl_context, clock, outcome, wall_clock)
                clock.lap("tls")
            _http_exchange(sock, check, target.host, target.port, target.scheme, clock, outcome)
    except _Failed as exc:
        outcome.error = str(exc)
    except TimeoutError:
        outcome.error = f"timed out after {check.timeout:g}s"
    except (OSError, http.client.HTTPException) as exc:
        outcome.error = f"connection failed: {type(exc).__name__}"
    finally:
        if sock is not None:
            sock.close()
    outcome.phases = {**clock.phases, "total": round(time.perf_counter() - started, 6)}
    return outcome


@functools.cache
def _system_context() -> ssl.SSLContext:
    """The system trust store, loaded once per process (loading it costs ~10 ms of CPU: per probe,
    500 https checks would spend seconds on it); an SSLContext is safe to share between threads."""
    return ssl.create_default_context()


def _handshake(
    sock: socket.socket,
    host: str,
    context: ssl.SSLContext | None,
    clock: _Clock,
    outcome: ProbeOutcome,
    wall_clock: Callable[[], float],
) -> ssl.SSLSocket:
    context = context or _system_context()
    sock.settimeout(clock.left())
    try:
        tls = context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        raise _Failed(f"TLS certificate not accepted: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise _Failed(f"TLS handshake failed: {exc.reason or type(exc).__name__}") from None
    cert = tls.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    if isinstance(not_after, str):
        outcome.tls_days_left = round((ssl.cert_time_to_seconds(not_after) - wall_clock()) / 86400.0, 3)
    return tls


def _http_exchange(
    sock: socket.socket,
    check: CheckIn,
    host: str,
    port: int,
    scheme: str,
    clock: _Clock,
    outcome: ProbeOutcome,
) -> None:
    parts = urlsplit(check.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if scheme == "https" else 80
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header += f":{port}"
    lines = [f"{check.method} {path} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {USER_AGENT}"]
    lines += ["Accept: */*", "Connection: close"]
    if check.method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")  # an empty body, said explicitly (some servers wait otherwise)
    lines += [f"{name}: {value}" for name, value in check.headers.items()]
    sock.settimeout(clock.left())
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
    response = http.client.HTTPResponse(sock, method=check.method)
    sock.settimeout(clock.left())
    response.begin()
    clock.lap("ttfb")
    outcome.status_code = response.status
    body = b""
    if check.method != "HEAD":
        while len(body) < MAX_BODY_BYTES:
            sock.settimeout(clock.left())
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                break
            body += chunk
    if not status_expected(response.status, status_ranges(check.expect_status)):
        raise _Failed(f"status {response.status}, expected {_spec(check.expect_status)}")
    if check.keyword and check.keyword not in body.decode("utf-8", "replace"):
        raise _Failed(f"keyword {check.keyword!r} not found in the response")
    outcome.up = True


def _spec(spec: object) -> str:
    return ", ".join(str(s) for s in spec) if isinstance(spec, list) else str(spec)
