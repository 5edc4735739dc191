"""One HTTP/1.1 connection: h11 (a sans-I/O protocol library) over a socket, TLS only for https.

h11 does all the HTTP parsing (status line, headers, ``Content-Length`` and chunked framing,
bodies read until close); this module only moves bytes between it and the socket, and gives
every blocking call a timeout from the request's :class:`~tufkit.client._internal.transfer.Budget`,
so no read, send, connect or TLS handshake outlives the request's deadline, and every byte
received (head and framing included) counts towards the minimum average speed.

This module does not decide what a response means (status codes, header policy, length bounds):
that is :class:`~tufkit.client.fetcher.HttpFetcher`'s job. It imports ``ssl`` only for https.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import h11

from tufkit.errors import DownloadError

if TYPE_CHECKING:
    from tufkit.client._internal.transfer import Budget

__all__ = ["Http11Connection", "Origin", "StaleConnectionError"]

_RECEIVE = 64 * 1024  # bytes per recv
Origin = tuple[str, str, int]  # scheme, host, port


class StaleConnectionError(Exception):
    """A kept-alive connection was closed by the server before any byte of the response."""


class Http11Connection:
    """A client connection to one origin, reusable for one request after another.

    Args:
        origin: scheme (``http`` or ``https``), host and port.
        budget: the first request's budget (bounds the connect and the TLS handshake).

    Raises:
        SlowRetrievalError: connecting took too long or the deadline passed.
        OSError: the connection failed (including ``ssl.SSLError``).
    """

    def __init__(self, origin: Origin, budget: Budget) -> None:
        scheme, host, port = origin
        # an ASCII host as bytes: the same name, without loading the idna codec for a str
        name: str | bytes = host.encode("ascii") if host.isascii() else host
        address = (name, port)
        sock = socket.create_connection(address, timeout=budget.connect_timeout())  # type: ignore[arg-type]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                import ssl

                sock.settimeout(budget.connect_timeout())  # bounds the whole handshake
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self._sock: socket.socket = sock
        self._protocol = h11.Connection(h11.CLIENT)
        self._requests = 0

    def request(self, target: str, headers: list[tuple[str, str]], budget: Budget) -> Any:
        """Send a GET for *target* and return the response head (an ``h11.Response``).

        Informational (1xx) responses are skipped.

        Raises:
            StaleConnectionError: a reused connection turned out to be closed (retry once).
            SlowRetrievalError: the deadline passed or the head arrived too slowly.
            DownloadError: the server broke the protocol.
            OSError: the connection failed.
        """
        reused = self._requests > 0
        self._requests += 1
        budget.start_counting()
        data = self._protocol.send(h11.Request(method="GET", target=target, headers=headers))
        data += self._protocol.send(h11.EndOfMessage())
        try:
            self._sock.settimeout(budget.read_timeout())
            self._sock.sendall(data)
            event = self._next(budget, stale_on_eof=reused)
        except (ConnectionResetError, BrokenPipeError) as exc:
            if reused:
                raise StaleConnectionError(str(exc)) from exc
            raise
        while isinstance(event, h11.InformationalResponse):
            event = self._next(budget, stale_on_eof=False)
        if not isinstance(event, h11.Response):
            raise DownloadError(f"unexpected {type(event).__name__} instead of a response")
        return event

    def body(self, budget: Budget) -> Iterator[bytes]:
        """Yield the body of the response whose head :meth:`request` returned.

        Raises:
            SlowRetrievalError: the deadline passed or the body arrived too slowly.
            DownloadError: the server broke the protocol (for instance closed early).
            OSError: the connection failed.
        """
        while True:
            event = self._next(budget, stale_on_eof=False)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise DownloadError(f"unexpected {type(event).__name__} in a response body")

    def finish(self) -> bool:
        """After a complete response: prepare the next request; False if not reusable."""
        protocol = self._protocol
        leftover, closed = protocol.trailing_data
        if protocol.our_state is not h11.DONE or protocol.their_state is not h11.DONE:
            return False
        if leftover or closed:  # bytes past the response: never parse them as the next one
            return False
        protocol.start_next_cycle()
        return True

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

    def _next(self, budget: Budget, *, stale_on_eof: bool) -> Any:
        """The next h11 event, receiving (within the budget) as long as h11 needs data."""
        protocol = self._protocol
        while True:
            try:
                event = protocol.next_event()
            except h11.RemoteProtocolError as exc:
                raise DownloadError(f"the server broke HTTP/1.1: {exc}") from exc
            if event is not h11.NEED_DATA:
                return event
            self._sock.settimeout(budget.read_timeout())
            data = self._sock.recv(_RECEIVE)
            if not data and stale_on_eof:
                raise StaleConnectionError("closed before the response")
            stale_on_eof = False
            budget.received(len(data))
            protocol.receive_data(data)
