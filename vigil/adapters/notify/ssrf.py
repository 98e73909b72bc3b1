"""SSRF guard for outgoing webhooks: validate the URL, resolve the host ONCE, refuse addresses the
policy does not allow, and pin the connection to the resolved address (defeats DNS rebinding: the
name cannot resolve to something else between the check and the connect).

Pinning is done in a requests `HTTPAdapter` (`notify.pinned`): the connection pool is keyed on the
resolved IP while the request keeps its original URL, `Host` header and, for https, SNI and
certificate hostname check (`server_hostname`/`assert_hostname`). Proxies from the environment are
ignored (`trust_env=False`).
Imports: standard library, `vigil.domain.errors`, `vigil.config` (not requests: the alerts function
checks webhook targets without loading it).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from vigil.config import Config
from vigil.domain.errors import DeliveryError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WebhookPolicy:
    https_only: bool = True
    allow_loopback: bool = False
    allow_private: bool = False
    setting: str = "VIGIL_ALLOW_PRIVATE_WEBHOOKS"  # the setting a refusal message points to


def policy_for(config: Config) -> WebhookPolicy:
    """AWS: https to public addresses only. `VIGIL_ALLOW_PRIVATE_WEBHOOKS=1`: http and private or
    loopback addresses too. Local mode (SQLite store) without the flag: loopback only, http allowed
    there (local receivers rarely have certificates)."""
    if config.allow_private_webhooks:
        return WebhookPolicy(https_only=False, allow_loopback=True, allow_private=True)
    if config.store == "sqlite":
        return WebhookPolicy(https_only=False, allow_loopback=True, allow_private=False)
    return WebhookPolicy()


def check_policy_for(config: Config) -> WebhookPolicy:
    """Synthetic checks: local mode reaches loopback and private addresses (you monitor your own
    services); AWS public addresses only unless `VIGIL_ALLOW_PRIVATE_CHECKS=1`. Instance-metadata and
    link-local addresses are refused whatever the setting (`_refusal`)."""
    private = config.store == "sqlite" or config.allow_private_checks
    return WebhookPolicy(
        https_only=False, allow_loopback=private, allow_private=private, setting="VIGIL_ALLOW_PRIVATE_CHECKS"
    )


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class PinnedTarget:
    url: str
    scheme: str
    hostname: str
    port: int
    ip: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return host if self.port == default else f"{host}:{self.port}"


def resolve_target(url: str, policy: WebhookPolicy, resolver: Resolver | None = None) -> PinnedTarget:
    """Check `url` against `policy` and resolve it once.

    Raises:
        DeliveryError: the URL or any address it resolves to is not allowed (final), or the name does
            not resolve (retryable: DNS may be briefly down). Messages never contain the URL's path.
    """
    parts = urlsplit(url)
    scheme, hostname = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not hostname:
        raise DeliveryError("webhook target must be an http(s) URL", retryable=False)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise DeliveryError("webhook target has an invalid port", retryable=False) from None
    addresses = allowed_addresses(hostname, port, policy, resolver)
    for address in addresses:
        if scheme == "http" and policy.https_only and not (_loopback(address) and policy.allow_loopback):
            raise DeliveryError(
                "webhook target must use https (VIGIL_ALLOW_PRIVATE_WEBHOOKS=1 allows http)", retryable=False
            )
    return PinnedTarget(url, scheme, hostname, port, str(addresses[0]))


def allowed_addresses(
    hostname: str,
    port: int,
    policy: WebhookPolicy,
    resolver: Resolver | None = None,
    *,
    what: str = "webhook",
) -> list[IPAddress]:
    """Resolve `hostname` once and return its addresses when every one is allowed by `policy` (the OS
    could connect to any of them). `what` names the caller in messages (webhook, check).

    Raises:
        DeliveryError: an address is refused (final), or the name does not resolve (retryable).
    """
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(hostname)]
    except ValueError:
        try:
            addresses = [
                ipaddress.ip_address(a.split("%", 1)[0])
                for a in (resolver or system_resolver)(hostname, port)
            ]
        except (OSError, UnicodeError) as exc:
            raise DeliveryError(
                f"cannot resolve {what} host {hostname}: {type(exc).__name__}", retryable=True
            ) from None
    if not addresses:
        raise DeliveryError(f"{what} host {hostname} resolves to no address", retryable=True)
    for address in addresses:
        problem = _refusal(address, policy)
        if problem:
            raise DeliveryError(
                f"{what} host {hostname} resolves to {problem} address {address}; "
                f"refused ({_remedy(problem, policy)})",
                retryable=False,
            )
    return addresses


# Cloud instance-metadata endpoints (AWS IPv4 and IPv6; the IPv4 one is also GCP's and Azure's):
# credentials live there, so no setting allows them.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _loopback(address: IPAddress) -> bool:
    return _unmapped(address).is_loopback


def _refusal(address: IPAddress, policy: WebhookPolicy) -> str | None:
    address = _unmapped(address)
    if address in METADATA_ADDRESSES:
        return "instance-metadata"
    # Loopback first: `::1` lies inside the IPv6 block Python also calls "reserved" (::/8), and
    # loopback is loopback in both families.
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback"
    # Link-local (169.254.0.0/16, fe80::/10) is where metadata services live: never allowed.
    for name in ("unspecified", "link_local", "multicast", "reserved"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if not address.is_global:
        return None if policy.allow_private else "private"
    return None


def _remedy(problem: str, policy: WebhookPolicy) -> str:
    """The setting that would allow `problem`, or that none does."""
    if problem in ("private", "loopback"):
        return f"set {policy.setting}=1 to allow private and loopback targets"
    return "no setting allows this"
