"""The client's only network seam: a URL's bytes as a stream.

:class:`Fetcher` is the protocol: one method, :meth:`~Fetcher.stream`. The updater reads every
stream through one guard (``_internal/transfer.py``) that enforces the length bound and the
request's deadline and turns whatever a fetcher raises into a :class:`~tufkit.errors.DownloadError`,
so a custom fetcher (a test double, another HTTP library, a mirror) cannot weaken verification.

:class:`HttpFetcher` (the default) speaks HTTP/1.1 through ``h11``, a sans-I/O protocol
library, over one kept-alive socket per origin (``ssl`` only for https); :class:`Urllib3Fetcher`
uses a pooled urllib3 ``PoolManager`` (imported on first use). Both:

* enforce the length bound on the bytes received, never trusting ``Content-Length`` (a larger
  announced length fails before the body is read);
* refuse any ``Content-Encoding`` but ``identity``: tufkit never asks for compression, lengths
  and hashes in metadata are those of the file itself, and refusing makes a decompression bomb
  impossible;
* give every request a total deadline covering connect, head and body
  (:func:`~tufkit.client._internal.transfer.request_seconds`: ``connect_timeout +
  slow_retrieval_grace + max_length / min_average_speed``), abort a transfer slower than the
  minimum average speed, and wait at most ``read_timeout`` for any single read;
* never follow redirects (a 3xx status is an error).

``HttpFetcher`` counts every byte received towards the minimum average speed, the status line,
headers and chunk framing included, so a server trickling its head fails after the grace time;
``Urllib3Fetcher`` counts body bytes only and cuts a trickled head at the deadline.

This module does not verify anything: hashes, signatures and versions are the updater's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from tufkit.client._internal.transfer import Budget, check_headers
from tufkit.errors import (
    DownloadError,
    DownloadHTTPError,
    DownloadLengthMismatchError,
    SlowRetrievalError,
)

if TYPE_CHECKING:
    from tufkit.client._internal.http11 import Http11Connection, Origin
    from tufkit.client.config import UpdaterConfig

__all__ = ["Fetcher", "HttpFetcher", "Urllib3Fetcher"]

_CHUNK = 64 * 1024  # bytes read per iteration


class Fetcher(Protocol):
    """Anything that can stream a URL's bytes: the one method a custom transport implements.

    The updater reads the stream through its own guard, which enforces *max_length* and the
    request's deadline and turns any exception but a :class:`~tufkit.errors.DownloadError` into
    one. A fetcher should still stop early when it can (*max_length* is the bound the updater
    will enforce) and must bound its own blocking reads: the guard runs between chunks.
    """

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks of ``bytes``.

        The request is made when iteration starts; closing the iterator early releases it.

        Raises:
            DownloadHTTPError: the server answered with an error status (a 403 or 404 for the
                next root version ends the root chain; any other failure is an error).
            DownloadError: any other transport failure (preferably a specific subclass:
                ``DownloadLengthMismatchError``, ``SlowRetrievalError``).
        """
        ...


def _default_config() -> UpdaterConfig:
    from tufkit.client.config import UpdaterConfig

    return UpdaterConfig()


class _FetcherBase:
    """What the built-in fetchers share: config, user agent, and ``fetch`` over ``stream``."""

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        self._config = config or _default_config()
        self._user_agent = user_agent

    def fetch(self, url: str, max_length: int) -> bytes:
        """Return the body of *url*, at most *max_length* bytes.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the deadline passed or the body arrived too slowly.
            DownloadError: any other transport failure.
        """
        return b"".join(self.stream(url, max_length))

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:  # pragma: no cover
        raise NotImplementedError

    def _refuse_status(self, url: str, status: int) -> None:
        if status != 200:  # redirects included: never followed
            raise DownloadHTTPError(f"{url}: HTTP {status}", status)


def _split(url: str) -> tuple[Origin, str]:
    """The origin and the request target of an http(s) URL.

    Raises:
        DownloadError: not an http or https URL with a host, or a bad port.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DownloadError(f"{url[:200]}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"{url[:200]}: not an http or https URL")
    default = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port or default), target


def _host_header(origin: Origin) -> str:
    scheme, host, port = origin
    name = f"[{host}]" if ":" in host else host
    return name if port == (443 if scheme == "https" else 80) else f"{name}:{port}"


class HttpFetcher(_FetcherBase):
    """A :class:`Fetcher` speaking HTTP/1.1 through h11, one kept-alive socket per origin.

    Args:
        config: timeouts, the grace time and the minimum average speed.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        super().__init__(config, user_agent=user_agent)
        self._connections: dict[Origin, Http11Connection] = {}

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks, at most *max_length* bytes in all.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the deadline passed, the transfer was too slow, or no byte
                arrived for ``read_timeout`` seconds.
            DownloadError: any other transport failure.
        """
        import h11

        budget = Budget(url, max_length, self._config)
        origin, target = _split(url)
        complete = False
        try:
            conn, response = self._request(origin, target, budget)
            self._refuse_status(url, response.status_code)
            check_headers(
                url,
                [v.decode("latin-1") for k, v in response.headers if k == b"content-length"],
                [v.decode("latin-1") for k, v in response.headers if k == b"content-encoding"],
                max_length,
            )
            received = 0
            for chunk in conn.body(budget):
                received += len(chunk)
                if received > max_length:
                    raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
                yield chunk
            complete = conn.finish()
        except TimeoutError as exc:
            raise (budget.expired() if budget.is_expired() else self._stalled(url)) from exc
        except (h11.ProtocolError, OSError) as exc:
            raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            if not complete:  # never reuse a connection with unread or unknown data
                self._drop(origin)

    def _stalled(self, url: str) -> SlowRetrievalError:
        return SlowRetrievalError(f"{url}: no data for {self._config.read_timeout}s")

    def _request(self, origin: Origin, target: str, budget: Budget) -> tuple[Http11Connection, Any]:
        """Send the GET on the origin's connection; once more on a fresh one if it went stale."""
        from tufkit.client._internal.http11 import StaleConnectionError

        headers = [
            ("Host", _host_header(origin)),
            ("User-Agent", self._user_agent),
            ("Accept-Encoding", "identity"),
        ]
        conn = self._connection(origin, budget)
        try:
            return conn, conn.request(target, headers, budget)
        except StaleConnectionError:
            self._drop(origin)
        conn = self._connection(origin, budget)
        return conn, conn.request(target, headers, budget)

    def _connection(self, origin: Origin, budget: Budget) -> Http11Connection:
        conn = self._connections.get(origin)
        if conn is None:
            from tufkit.client._internal.http11 import Http11Connection

            conn = Http11Connection(origin, budget)
            self._connections[origin] = conn
        return conn

    def _drop(self, origin: Origin) -> None:
        conn = self._connections.pop(origin, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every kept-alive connection."""
        for origin in list(self._connections):
            self._drop(origin)


class Urllib3Fetcher(_FetcherBase):
    """A :class:`Fetcher` over one pooled urllib3 ``PoolManager`` (connections are reused).

    urllib3 reads the response head itself, so the request's deadline is enforced by an alarm
    (a timer thread) that shuts the connection's socket down when it passes.

    Args:
        config: timeouts, the grace time and the minimum average speed.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        super().__init__(config, user_agent=user_agent)
        self._pool: Any = None
        self._current: Any = None  # per-thread: the alarm of the request in progress

    def _manager(self) -> Any:
        if self._pool is None:
            import threading

            import urllib3

            from tufkit.client._internal.alarm import watched_pool_classes

            self._current = threading.local()
            timeout = urllib3.Timeout(
                connect=self._config.connect_timeout, read=self._config.read_timeout
            )
            pool = urllib3.PoolManager(
                timeout=timeout,
                retries=False,
                headers={"User-Agent": self._user_agent, "Accept-Encoding": "identity"},
            )
            pool.pool_classes_by_scheme = watched_pool_classes(self._current)
            self._pool = pool
        return self._pool

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks, at most *max_length* bytes in all.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the deadline passed, the body arrived too slowly, or a
                timeout passed.
            DownloadError: any other transport failure.
        """
        import urllib3

        from tufkit.client._internal.alarm import Alarm

        budget = Budget(url, max_length, self._config)
        manager = self._manager()
        alarm = Alarm(budget.deadline)
        self._current.alarm = alarm
        response = None
        complete = False
        try:
            response = manager.request(
                "GET",
                url,
                preload_content=False,
                decode_content=False,
                redirect=False,
                # once more, on a fresh connection, if a kept-alive one was closed by the server
                retries=urllib3.Retry(total=1, connect=0, read=1, redirect=0, status=0, other=0),
                timeout=urllib3.Timeout(
                    connect=budget.connect_timeout(), read=budget.read_timeout()
                ),
            )
            if alarm.fired:  # a head cut short by the alarm can look complete
                raise budget.expired()
            self._refuse_status(url, response.status)
            headers = response.headers
            check_headers(
                url,
                headers.getlist("Content-Length"),
                headers.getlist("Content-Encoding"),
                max_length,
            )
            budget.start_counting()
            received = 0
            while chunk := response.read1(_CHUNK):
                received += len(chunk)
                if received > max_length:
                    raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
                budget.received(len(chunk))
                yield chunk
            if alarm.fired:  # the shutdown reads as the end of a body of unknown length
                raise budget.expired()
            complete = True
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if alarm.fired or budget.is_expired():
                raise budget.expired() from exc
            if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
                raise SlowRetrievalError(f"{url}: timed out") from exc
            raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            alarm.disarm()
            self._current.alarm = None
            if response is not None:
                if not complete or alarm.fired:
                    response.close()  # never reuse a connection with unread data
                response.release_conn()

    def close(self) -> None:
        """Close pooled connections."""
        if self._pool is not None:
            self._pool.clear()
            self._pool = None
