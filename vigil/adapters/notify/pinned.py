"""The requests session that connects to a webhook's pinned address (`ssrf.resolve_target` chose it):
the connection pool is keyed on the resolved IP while the URL, the Host header, SNI and the
certificate check keep the name, so a DNS answer that changes between the check and the connection
cannot redirect the request. Kept apart from `ssrf` so only code that sends loads requests (a cold
start that never sends skips ~55 ms of imports).

Imports: standard library, requests/urllib3, `vigil.lean_urllib3`, `vigil.adapters.notify.ssrf`,
`vigil.domain.errors`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from vigil import lean_urllib3

lean_urllib3.install()  # before requests imports urllib3: no `importlib.metadata`

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

from vigil.adapters.notify.ssrf import PinnedTarget  # noqa: E402
from vigil.domain.errors import DeliveryError  # noqa: E402

SocketHook = Callable[[socket.socket], None]


class PinnedAdapter(HTTPAdapter):
    """Connects to `target.ip` whatever the URL's host resolves to now; `on_connect` (optional) gets
    each new connection's socket (the delivery deadline's watchdog)."""

    def __init__(self, target: PinnedTarget, on_connect: SocketHook | None = None) -> None:
        self.target = target
        self.on_connect = on_connect  # before super(): it builds the pool manager
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        if self.on_connect is not None:
            manager = self.poolmanager
            manager.pool_classes_by_scheme = {
                scheme: _hooked_pool(cls, self.on_connect)
                for scheme, cls in manager.pool_classes_by_scheme.items()
            }

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[Any, Any]:
        params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(params)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        if host_params.get("host") != self.target.hostname:
            raise DeliveryError("request host differs from the pinned webhook host", retryable=False)
        host_params["host"] = self.target.ip
        if self.target.scheme == "https":  # SNI and certificate check use the name, not the IP
            pool_kwargs["server_hostname"] = self.target.hostname
            pool_kwargs["assert_hostname"] = self.target.hostname
        return host_params, pool_kwargs


def _hooked_pool(pool_cls: Any, on_connect: SocketHook) -> Any:
    """`pool_cls` whose connections report their socket once connected."""

    class HookedConnection(pool_cls.ConnectionCls):  # type: ignore[misc]
        def connect(self) -> None:
            super().connect()
            on_connect(self.sock)

    return type(pool_cls.__name__, (pool_cls,), {"ConnectionCls": HookedConnection})


def pinned_session(target: PinnedTarget, on_connect: SocketHook | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    adapter = PinnedAdapter(target, on_connect)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
