"""A request deadline for urllib3, which reads response heads where no timeout can follow it.

urllib3 (through ``http.client``) reads the status line, the headers and chunk-size lines with
a per-read timeout only, so a server sending one byte per second would hold it for ever. An
:class:`Alarm` is armed per request: urllib3's connections, made through the pool classes of
:func:`watched_pool_classes`, report themselves to the alarm of the request in progress (a
thread-local slot), and when the deadline passes a timer thread shuts the connection's socket
down, which ends any blocked read at once. A disarmed alarm never touches a socket again.

This module decides nothing about responses; ``Urllib3Fetcher`` maps what the shutdown causes to
:class:`~tufkit.errors.SlowRetrievalError`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

__all__ = ["Alarm", "watched_pool_classes"]


class Alarm:
    """Shuts down the socket of the connection serving one request when *deadline* passes.

    Args:
        deadline: a ``time.monotonic()`` value.
    """

    def __init__(self, deadline: float) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._armed = True
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, connection: Any) -> None:
        """Watch *connection* (a urllib3 connection about to send or connect)."""
        with self._lock:
            if self._armed:
                self._connection = connection
            if self.fired:
                _shut(connection)

    def disarm(self) -> None:
        """Stop watching; after this returns no socket is touched."""
        with self._lock:
            self._armed = False
            self._connection = None
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.fired = True
            if self._connection is not None:
                _shut(self._connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # the plain socket's shutdown, also under TLS: the reading thread owns the TLS object
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def watched_pool_classes(current: threading.local) -> dict[str, Any]:
    """urllib3 pool classes whose connections attach themselves to ``current.alarm``.

    Args:
        current: the fetcher's thread-local slot holding the alarm of the request in progress.
    """
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection

    def report(connection: Any) -> None:
        alarm = getattr(current, "alarm", None)
        if alarm is not None:
            alarm.attach(connection)

    class _HTTPConnection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            report(self)

        def request(self, *args: Any, **kwargs: Any) -> None:
            report(self)
            super().request(*args, **kwargs)

    class _HTTPSConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            report(self)

        def request(self, *args: Any, **kwargs: Any) -> None:
            report(self)
            super().request(*args, **kwargs)

    class _HTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = _HTTPConnection

    class _HTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = _HTTPSConnection

    return {"http": _HTTPPool, "https": _HTTPSPool}
