"""The client's only network seam: stream a URL's bytes with a length bound.

:class:`Fetcher` is the protocol the updater uses. :class:`HttpFetcher` (the default) implements
it over the standard library's ``http.client`` with one keep-alive connection per origin;
:class:`Urllib3Fetcher` over a pooled urllib3 ``PoolManager`` (imported on first use). The default
is the standard library because a client is usually a short-lived process and importing urllib3
costs more than the rest of a typical update (see ``docs/client.md``).

Both fetchers:

* stream every response and enforce the length bound on the bytes received, never trusting
  ``Content-Length`` (a larger announced length fails before the body is read);
* refuse any ``Content-Encoding`` but ``identity``: tufkit never asks for compression, lengths
  and hashes in metadata are those of the file itself, and refusing makes a decompression bomb
  impossible;
* abort a download slower than the configured minimum average speed, and time out connects
  and reads;
* never follow redirects (a 3xx status is an error).

This module does not verify anything: hashes, signatures and versions are the updater's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from tufkit.errors import (
    DownloadError,
    DownloadHTTPError,
    DownloadLengthMismatchError,
    SlowRetrievalError,
)

if TYPE_CHECKING:
    from tufkit.client.config import UpdaterConfig

__all__ = ["Fetcher", "HttpFetcher", "Urllib3Fetcher"]

_CHUNK = 64 * 1024  # bytes read per iteration
Origin = tuple[str, str, int]


class Fetcher(Protocol):
    """Anything that can fetch a URL's bytes, whole or as a stream."""

    def fetch(self, url: str, max_length: int) -> bytes:
        """Return the body of *url*, at most *max_length* bytes.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        ...

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks, at most *max_length* bytes in all.

        The request is made when iteration starts; closing the iterator early releases it.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        ...


def _default_config() -> UpdaterConfig:
    from tufkit.client.config import UpdaterConfig

    return UpdaterConfig()


def _check_headers(url: str, length: str | None, encoding: str | None, max_length: int) -> None:
    """Refuse a compressed body or one announced longer than the bound.

    Raises:
        DownloadError: a ``Content-Encoding`` other than identity.
        DownloadLengthMismatchError: ``Content-Length`` above *max_length*.
    """
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise DownloadError(f"{url}: refusing Content-Encoding {encoding.strip()[:40]!r}")
    if length is not None and length.strip().isdigit() and int(length) > max_length:
        raise DownloadLengthMismatchError(
            f"{url}: announces {length.strip()} bytes, more than {max_length}"
        )


def _bounded(
    read1: Callable[[int], bytes], url: str, max_length: int, config: UpdaterConfig
) -> Iterator[bytes]:
    """Yield chunks from *read1* until EOF, enforcing the length bound and the minimum speed.

    Reads with ``read1`` so a trickling server is noticed between small reads.

    Raises:
        DownloadLengthMismatchError: more than *max_length* bytes arrived.
        SlowRetrievalError: the average speed fell below the minimum after the grace time.
    """
    received = 0
    start = time.monotonic()
    while chunk := read1(_CHUNK):
        received += len(chunk)
        if received > max_length:
            raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
        elapsed = time.monotonic() - start
        if elapsed > config.slow_retrieval_grace and (
            received / elapsed < config.min_average_speed
        ):
            raise SlowRetrievalError(
                f"{url}: {received} bytes in {elapsed:.1f}s is below "
                f"{config.min_average_speed} bytes/s"
            )
        yield chunk


class _HttpFetcherBase:
    """What both HTTP fetchers share: the config, the user agent, and ``fetch`` over ``stream``."""

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        self._config = config or _default_config()
        self._user_agent = user_agent

    def fetch(self, url: str, max_length: int) -> bytes:
        """Return the body of *url*, at most *max_length* bytes.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        return b"".join(self.stream(url, max_length))

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:  # pragma: no cover
        raise NotImplementedError


class HttpFetcher(_HttpFetcherBase):
    """A :class:`Fetcher` over ``http.client``, keeping one connection per origin alive.

    Args:
        config: timeouts and the minimum average speed.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        super().__init__(config, user_agent=user_agent)
        self._connections: dict[Origin, Any] = {}

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks, at most *max_length* bytes in all.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        import http.client

        origin, target = self._split(url)
        response = None
        complete = False
        try:
            response = self._request(origin, target)
            if response.status != 200:
                raise DownloadHTTPError(f"{url}: HTTP {response.status}", response.status)
            _check_headers(
                url,
                response.getheader("Content-Length"),
                response.getheader("Content-Encoding"),
                max_length,
            )
            yield from _bounded(response.read1, url, max_length, self._config)
            if response.length:  # read1 ends quietly when the server closes early
                raise DownloadError(f"{url}: connection closed {response.length} bytes early")
            complete = not response.will_close
        except TimeoutError as exc:
            raise SlowRetrievalError(f"{url}: timed out") from exc
        except (http.client.HTTPException, OSError) as exc:
            raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            if response is not None:
                response.close()  # at EOF this frees the connection for the next request
            if not complete:  # never reuse a connection with unread or unknown data
                self._drop(origin)

    @staticmethod
    def _split(url: str) -> tuple[Origin, str]:
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

    def _request(self, origin: Origin, target: str) -> Any:
        """Send the GET on the origin's connection; once more on a fresh one if it went stale."""
        reused = origin in self._connections
        try:
            return self._send(origin, target)
        except ConnectionError:
            self._drop(origin)
            if not reused:
                raise
        return self._send(origin, target)

    def _send(self, origin: Origin, target: str) -> Any:
        conn = self._connections.get(origin)
        if conn is None:
            conn = self._connect(origin)
            self._connections[origin] = conn
        conn.request("GET", target, headers={"User-Agent": self._user_agent})
        return conn.getresponse()

    def _connect(self, origin: Origin) -> Any:
        import http.client

        scheme, host, port = origin
        timeout = self._config.connect_timeout
        conn: http.client.HTTPConnection
        if scheme == "https":
            import ssl

            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(self._config.read_timeout)
        return conn

    def _drop(self, origin: Origin) -> None:
        conn = self._connections.pop(origin, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every kept-alive connection."""
        for origin in list(self._connections):
            self._drop(origin)


class Urllib3Fetcher(_HttpFetcherBase):
    """A :class:`Fetcher` over one pooled urllib3 ``PoolManager`` (connections are reused).

    Args:
        config: timeouts and the minimum average speed.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        super().__init__(config, user_agent=user_agent)
        self._pool: Any = None

    def _manager(self) -> Any:
        if self._pool is None:
            import urllib3

            timeout = urllib3.Timeout(
                connect=self._config.connect_timeout, read=self._config.read_timeout
            )
            self._pool = urllib3.PoolManager(
                timeout=timeout,
                retries=False,
                headers={"User-Agent": self._user_agent, "Accept-Encoding": "identity"},
            )
        return self._pool

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        """Yield the body of *url* in chunks, at most *max_length* bytes in all.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        import urllib3

        response = None
        complete = False
        try:
            response = self._manager().request(
                "GET", url, preload_content=False, decode_content=False, redirect=False
            )
            if response.status != 200:
                raise DownloadHTTPError(f"{url}: HTTP {response.status}", response.status)
            headers = response.headers
            _check_headers(
                url, headers.get("Content-Length"), headers.get("Content-Encoding"), max_length
            )
            yield from _bounded(response.read1, url, max_length, self._config)
            complete = True
        except urllib3.exceptions.TimeoutError as exc:
            raise SlowRetrievalError(f"{url}: timed out") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise DownloadError(f"{url}: {exc}") from exc
        finally:
            if response is not None:
                if not complete:
                    response.close()  # never reuse a connection with unread data
                response.release_conn()

    def close(self) -> None:
        """Close pooled connections."""
        if self._pool is not None:
            self._pool.clear()
            self._pool = None
