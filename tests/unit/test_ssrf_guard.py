"""The webhook SSRF guard on both address families: loopback is loopback in IPv4 and IPv6 (local mode
allows it), instance-metadata addresses are refused whatever the settings say, and each refusal names
the setting that would allow it, or says none does."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.adapters.notify.http import Deadline, HttpClient
from vigil.adapters.notify.ssrf import Resolver, WebhookPolicy, policy_for, resolve_target
from vigil.config import Config
from vigil.domain.errors import DeliveryError

LOCAL = policy_for(Config(store="sqlite"))
AWS = policy_for(Config(store="dynamodb"))
PRIVATE_ALLOWED = policy_for(Config(store="dynamodb", allow_private_webhooks=True))


def resolving_to(*addresses: str) -> Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("address", ["::1", "127.0.0.1", "::ffff:127.0.0.1"])
def test_local_mode_allows_loopback_in_both_families(address: str) -> None:
    target = resolve_target("http://localhost:9000/hook", LOCAL, resolving_to(address))
    assert ipaddress.ip_address(target.ip) == ipaddress.ip_address(address)


def test_localhost_resolving_to_ipv6_loopback_is_allowed_locally() -> None:
    target = resolve_target("http://localhost/x", LOCAL, resolving_to("::1", "127.0.0.1"))
    assert target.ip == "::1"


@pytest.mark.parametrize("address", ["::1", "127.0.0.1"])
def test_aws_refuses_loopback_and_names_the_setting_that_allows_it(address: str) -> None:
    with pytest.raises(DeliveryError) as err:
        resolve_target("https://hooks.example.test/x", AWS, resolving_to(address))
    assert "loopback" in err.value.message and "VIGIL_ALLOW_PRIVATE_WEBHOOKS=1" in err.value.message
    assert not err.value.retryable


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
@pytest.mark.parametrize("policy", [LOCAL, AWS, PRIVATE_ALLOWED], ids=["local", "aws", "private-allowed"])
def test_instance_metadata_addresses_are_refused_whatever_the_settings(
    address: str, policy: WebhookPolicy
) -> None:
    with pytest.raises(DeliveryError) as err:
        resolve_target("http://metadata.example.test/latest", policy, resolving_to(address))
    assert "instance-metadata" in err.value.message
    assert "no setting allows this" in err.value.message and "VIGIL_ALLOW" not in err.value.message


def test_other_link_local_addresses_say_no_setting_allows_them() -> None:
    with pytest.raises(DeliveryError, match=r"link-local .*no setting allows this"):
        resolve_target("http://x.example.test/", PRIVATE_ALLOWED, resolving_to("fe80::1"))


def test_private_ipv6_is_allowed_only_with_the_flag() -> None:
    with pytest.raises(DeliveryError, match=r"private .*VIGIL_ALLOW_PRIVATE_WEBHOOKS=1"):
        resolve_target("http://x.example.test/", LOCAL, resolving_to("fd12:3456::1"))
    assert resolve_target("http://x.example.test/", PRIVATE_ALLOWED, resolving_to("fd12:3456::1")).ip == (
        "fd12:3456::1"
    )


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def ipv6_receiver() -> Iterator[tuple[int, list[bytes]]]:
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        server = _V6Server(("::1", 0), Handler)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.server_address[1], got
    server.shutdown()
    server.server_close()


def test_a_webhook_on_ipv6_loopback_is_delivered_in_local_mode(
    ipv6_receiver: tuple[int, list[bytes]],
) -> None:
    port, got = ipv6_receiver
    HttpClient(LOCAL, Deadline.after(5.0)).post(
        f"http://[::1]:{port}/hook",
        b'{"ok":1}',
        {"Content-Type": "application/json"},
        what="test",
        secrets=(),
    )
    assert got == [b'{"ok":1}']
