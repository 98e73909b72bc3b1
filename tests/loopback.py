"""Misbehaving peers on loopback, shared by the server-under-load tests and `bench_server_load`:
a webhook receiver that accepts and never answers, slowloris clients that never finish a request, and
the command line of a real `vigil serve` process to aim them at."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def silent_receiver() -> Iterator[tuple[int, list[socket.socket]]]:
    """(port, connections accepted so far) of a receiver that never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], held
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()


@contextlib.contextmanager
def slowloris(port: int, count: int, every: float = 1.0) -> Iterator[list[socket.socket]]:
    """`count` connections that send a request line and a header, then one more header byte every
    `every` seconds, never finishing; yields the ones the server has not closed yet."""
    socks: list[socket.socket] = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(s)
        except OSError:
            break
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(every):
            for s in list(socks):
                try:
                    s.sendall(b"X")
                except OSError:
                    socks.remove(s)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield socks
    finally:
        stop.set()
        thread.join()
        for s in socks:
            s.close()


def serve_command(port: int, data_dir: Path) -> list[str]:
    """argv of `vigil serve` without the local agent, for tests and benches that need a real process."""
    argv = [sys.executable, "-m", "vigil.cli", "serve", "--no-agent"]
    return [*argv, "--port", str(port), "--data-dir", str(data_dir)]
