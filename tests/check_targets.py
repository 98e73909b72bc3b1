"""Real loopback targets for synthetic checks, shared by the check tests and `bench/bench_checks.py`:
an HTTP server (`/ok` says "all systems go", `/slow` waits, `/status/<n>` answers n), the same over
TLS with a self-signed certificate for `localhost` that expires in a few days, a bare TCP listener, and
a switch that takes a target down (its port then refuses connections) and brings it back on the
same port.

The certificate is made with `cryptography` (installed with moto, a dev dependency)."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OK_BODY = b"<html><body>all systems go</body></html>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            self._answer(int(self.path.rsplit("/", 1)[1]), b"status page body")
        elif self.path == "/slow":
            time.sleep(2.0)  # the target's own behaviour: a check with a shorter timeout must give up
            self._answer(200, OK_BODY)
        else:
            self.server.seen_headers.append(dict(self.headers))  # type: ignore[attr-defined]
            self._answer(200, OK_BODY)

    do_HEAD = do_GET

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the benchmark opens hundreds of connections at once

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a probe that timed out hung up on us: expected, not worth a traceback


@dataclass
class HttpTarget:
    """A loopback HTTP(S) server that can be stopped and started again on the same port."""

    tls: ssl.SSLContext | None = None
    port: int = 0
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> HttpTarget:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.seen_headers = self.seen_headers  # type: ignore[attr-defined]
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down: the listener is closed, so connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "/ok", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"


@contextlib.contextmanager
def http_target(tls: ssl.SSLContext | None = None) -> Iterator[HttpTarget]:
    target = HttpTarget(tls=tls).start()
    try:
        yield target
    finally:
        target.stop()


@contextlib.contextmanager
def tcp_listener() -> Iterator[int]:
    """A port that accepts connections (and closes them)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                listener.accept()[0].close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class SelfSigned:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only (it is its own issuer), hostname checked as usual."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(folder: Path, days: float = 3.0, name: str = "localhost") -> SelfSigned:
    """A certificate for `name` and 127.0.0.1 valid from an hour ago until `days` from now."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return SelfSigned(cert_path, key_path)
