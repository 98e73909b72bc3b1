"""One total deadline per webhook request: a real loopback server that trickles its answer byte by
byte (in the status line and headers, or in the body) cannot hold a delivery past the budget, and a
receiver that floods an endless body is read only up to the cap."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from vigil.adapters.notify.http import Deadline, HttpClient, RetryPolicy
from vigil.adapters.notify.ssrf import WebhookPolicy
from vigil.domain.errors import DeliveryError

Behaviour = Callable[[socket.socket, threading.Event], None]


def trickle(data: bytes) -> Behaviour:
    """Send `data` then keep sending one byte every 50 ms until told to stop."""

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        for byte in data:
            if stop.wait(0.05):
                return
            conn.sendall(bytes([byte]))
        while not stop.wait(0.05):
            conn.sendall(b"x")

    return serve


def flood(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000000\r\n\r\n")
    chunk = b"e" * 65536
    while not stop.is_set():
        conn.sendall(chunk)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Behaviour], str]]:
    """A loopback TCP server answering every connection with the given behaviour."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    threads: list[threading.Thread] = []

    def start(behaviour: Behaviour) -> str:
        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.recv(65536)  # the request (small)
                    with contextlib.suppress(OSError):  # the client gave up: what the test wants
                        behaviour(conn, stop)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    listener.close()


def client(timeout: float, attempts: int = 1) -> HttpClient:
    policy = WebhookPolicy(https_only=False, allow_loopback=True)
    return HttpClient(policy, Deadline.after(30.0), retry=RetryPolicy(max_attempts=attempts, timeout=timeout))


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",  # headers never end
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",  # body never completes
    ],
    ids=["trickled-headers", "trickled-body"],
)
def test_a_trickling_receiver_cannot_hold_a_delivery_past_its_deadline(
    raw_server: Callable[[Behaviour], str], answer: bytes
) -> None:
    url = raw_server(trickle(answer))
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"no complete answer within 1\.0 s") as err:
        client(timeout=1.0).post(url, b"{}", {}, what="webhook channel c1", secrets=())
    assert time.monotonic() - started < 2.5
    assert err.value.retryable


def test_retries_share_one_deadline_against_a_trickling_receiver(
    raw_server: Callable[[Behaviour], str],
) -> None:
    url = raw_server(trickle(b"HTTP/1.1 200 OK\r\n"))
    policy = WebhookPolicy(https_only=False, allow_loopback=True)
    http = HttpClient(
        policy, Deadline.after(2.0), retry=RetryPolicy(max_attempts=6, timeout=5.0), sleep=lambda s: None
    )
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no complete answer"):
        http.post(url, b"{}", {}, what="webhook channel c1", secrets=())
    assert time.monotonic() - started < 3.5  # the 2 s total, not 6 attempts x 5 s


def test_an_endless_answer_body_is_read_only_up_to_the_cap(raw_server: Callable[[Behaviour], str]) -> None:
    url = raw_server(flood)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="HTTP 500") as err:
        client(timeout=5.0).post(url, b"{}", {}, what="webhook channel c1", secrets=())
    assert time.monotonic() - started < 2.0 and len(err.value.message) < 300
