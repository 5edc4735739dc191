"""Hostile and slow HTTP servers on 127.0.0.1 for the transport tests, and the fetchers under test.

:func:`raw_server` answers each connection with fixed bytes; :func:`trickling_server` answers
some paths with a :class:`Trickle` (a prefix at once, then a few bytes per tick for ever, until
the client hangs up) and the others from a directory, one request per connection;
:func:`tls_files` makes a CA and a certificate for 127.0.0.1 with ``cryptography``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tufkit.client import HttpFetcher, Urllib3Fetcher

FETCHERS: list[type[HttpFetcher] | type[Urllib3Fetcher]] = [HttpFetcher, Urllib3Fetcher]


def fetcher_id(cls: type) -> str:
    return cls.__name__


@contextlib.contextmanager
def _listening(handle: object) -> Iterator[str]:
    """Accept connections on 127.0.0.1 and run ``handle(conn, stop)`` for each in a thread."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client may hang up at any time
            handle(conn, stop)  # type: ignore[operator]

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            worker = threading.Thread(target=serve_one, args=(conn,), daemon=True)
            worker.start()
            workers.append(worker)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for worker in workers:
            worker.join(timeout=5)
        listener.close()


@contextlib.contextmanager
def raw_server(response: bytes) -> Iterator[str]:
    """Answer every connection's first request with exactly *response*, then close it."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(response)
        conn.shutdown(socket.SHUT_WR)

    with _listening(handle) as url:
        yield url


@dataclass(frozen=True)
class Trickle:
    """A response sent as *prefix* at once, then *drip* every *tick* seconds for ever."""

    prefix: bytes
    drip: bytes
    tick: float = 0.05


# What a server can trickle to hold a client that only checks the speed of body bytes.
TRICKLES: dict[str, Trickle] = {
    "status line": Trickle(b"HTTP/1.1 2", b"0"),
    "headers": Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a"),
    "chunk-size line": Trickle(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=", b"a"
    ),
    "body": Trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 90\r\n\r\n", b"x"),
    # fast enough for the speed rule, but never a final response: only the deadline ends it
    "informational flood": Trickle(b"", b"HTTP/1.1 100 Continue\r\n\r\n", tick=0.01),
}


def _request_path(conn: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return ""
        data += more
    return data.split(b" ", 2)[1].decode("latin-1")


@contextlib.contextmanager
def trickling_server(directory: Path | None, slow: dict[str, Trickle]) -> Iterator[str]:
    """Serve *directory* (404 when missing), except paths ending in a key of *slow*."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        path = _request_path(conn)
        for suffix, trickle in slow.items():
            if path.endswith(suffix):
                conn.sendall(trickle.prefix)
                while not stop.wait(trickle.tick):
                    conn.sendall(trickle.drip)
                return
        file = directory / path.lstrip("/") if directory is not None else None
        if file is not None and file.resolve().is_relative_to(directory) and file.is_file():  # type: ignore[arg-type]
            body = file.read_bytes()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        else:
            body, head = (
                b"",
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
        conn.sendall(head.encode() + body)

    with _listening(handle) as url:
        yield url


def elapsed_since(start: float) -> float:
    return time.monotonic() - start


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A CA certificate and a server certificate and key for 127.0.0.1 (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tufkit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file
