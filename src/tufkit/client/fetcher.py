"""The client's only network seam: fetch a URL's bytes with a length bound.

:class:`Fetcher` is the protocol the updater uses; :class:`Urllib3Fetcher` implements it with a
pooled urllib3 connection manager (imported on first use). Every response is streamed; the
length bound is enforced on the bytes received (after transport decompression), never on
``Content-Length``; a download slower than the configured minimum average speed is aborted.

This module does not verify anything: hashes, signatures and versions are the updater's job.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from tufkit.errors import (
    DownloadError,
    DownloadHTTPError,
    DownloadLengthMismatchError,
    SlowRetrievalError,
)

if TYPE_CHECKING:
    from tufkit.client.config import UpdaterConfig

__all__ = ["Fetcher", "Urllib3Fetcher"]

_CHUNK = 64 * 1024  # bytes read per iteration


class Fetcher(Protocol):
    """Anything that can fetch a URL's bytes."""

    def fetch(self, url: str, max_length: int) -> bytes:
        """Return the body of *url*, at most *max_length* bytes.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        ...


class Urllib3Fetcher:
    """A :class:`Fetcher` over one pooled urllib3 ``PoolManager`` (connections are reused).

    Args:
        config: timeouts and the minimum average speed.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(self, config: UpdaterConfig | None = None, *, user_agent: str = "tufkit") -> None:
        from tufkit.client.config import UpdaterConfig

        self._config = config or UpdaterConfig()
        self._user_agent = user_agent
        self._pool: Any = None

    def _manager(self) -> Any:
        if self._pool is None:
            import urllib3

            timeout = urllib3.Timeout(
                connect=self._config.connect_timeout, read=self._config.read_timeout
            )
            self._pool = urllib3.PoolManager(
                timeout=timeout, retries=False, headers={"User-Agent": self._user_agent}
            )
        return self._pool

    def fetch(self, url: str, max_length: int) -> bytes:
        """Return the body of *url*, at most *max_length* bytes.

        Raises:
            DownloadHTTPError: the server answered with an error status.
            DownloadLengthMismatchError: the body is longer than *max_length*.
            SlowRetrievalError: the body arrives too slowly or a timeout passed.
            DownloadError: any other transport failure.
        """
        import urllib3

        try:
            response = self._manager().request("GET", url, preload_content=False, redirect=False)
        except urllib3.exceptions.TimeoutError as exc:
            raise SlowRetrievalError(f"{url}: timed out") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise DownloadError(f"{url}: {exc}") from exc
        try:
            if response.status != 200:
                response.close()
                raise DownloadHTTPError(f"{url}: HTTP {response.status}", response.status)
            return self._read_body(response, url, max_length)
        except urllib3.exceptions.TimeoutError as exc:
            raise SlowRetrievalError(f"{url}: timed out") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise DownloadError(f"{url}: {exc}") from exc
        finally:
            response.release_conn()

    def _read_body(self, response: Any, url: str, max_length: int) -> bytes:
        """Read the body with ``read1`` so a trickling server is noticed between small reads.

        Raises:
            DownloadLengthMismatchError: more than *max_length* bytes arrived.
            SlowRetrievalError: the average speed fell below the minimum after the grace time.
        """
        config = self._config
        parts: list[bytes] = []
        received = 0
        start = time.monotonic()
        while chunk := response.read1(_CHUNK):
            received += len(chunk)
            if received > max_length:
                response.close()  # never reuse a connection with unread data
                raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
            parts.append(chunk)
            elapsed = time.monotonic() - start
            if elapsed > config.slow_retrieval_grace and (
                received / elapsed < config.min_average_speed
            ):
                response.close()
                raise SlowRetrievalError(
                    f"{url}: {received} bytes in {elapsed:.1f}s is below "
                    f"{config.min_average_speed} bytes/s"
                )
        return b"".join(parts)

    def close(self) -> None:
        """Close pooled connections."""
        if self._pool is not None:
            self._pool.clear()
            self._pool = None
