"""The one place where every download's bounds are enforced, whatever fetcher produced it.

:func:`guarded` wraps the raw stream of any :class:`~tufkit.client.fetcher.Fetcher`: the updater
reads every byte it downloads through it, so a custom fetcher cannot weaken verification.

Security contract (the updater's, not the fetcher's):

* at most ``max_length`` bytes are accepted; the stream is closed as soon as one more arrives
  (:class:`~tufkit.errors.DownloadLengthMismatchError`);
* the whole request has a deadline, :func:`request_seconds` after it started, checked whenever
  the fetcher hands over a chunk (:class:`~tufkit.errors.SlowRetrievalError`); the built-in
  fetchers also enforce it inside every blocking read (:class:`Budget`);
* a chunk that is not ``bytes`` is a :class:`~tufkit.errors.DownloadError`;
* whatever else a fetcher raises (``KeyError``, ``requests`` or ``urllib3`` errors, a tufkit
  error of another kind) becomes a :class:`~tufkit.errors.DownloadError` raised ``from`` it;
  a ``DownloadError`` the fetcher raises (for instance ``DownloadHTTPError`` with the status)
  passes unchanged.

What this module cannot do: interrupt a custom fetcher that blocks forever without handing over
a chunk. The built-in fetchers never do; a custom one must bound its own reads.

This module makes no trust decision and does no I/O of its own.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tufkit.errors import DownloadError, DownloadLengthMismatchError, SlowRetrievalError

if TYPE_CHECKING:
    from tufkit.client.config import UpdaterConfig
    from tufkit.client.fetcher import Fetcher

__all__ = ["Budget", "check_headers", "guarded", "request_seconds"]


def request_seconds(max_length: int, config: UpdaterConfig) -> float:
    """The longest one request for at most *max_length* bytes may take, connect included.

    ``connect_timeout + slow_retrieval_grace + max_length / min_average_speed``: the time to
    connect, an allowance for latency (the grace time), and the time the whole bound takes at
    the slowest accepted average speed.
    """
    speed = max(config.min_average_speed, 1)
    return config.connect_timeout + config.slow_retrieval_grace + max_length / speed


class Budget:
    """The time one request may still take: a total deadline and a minimum average speed.

    Built-in fetchers ask it for the timeout of every blocking call (never past the deadline)
    and report every byte they receive, response head included, so a server that trickles a
    status line, headers or chunk-size lines is cut off like one that trickles the body.

    Args:
        url: the URL, for messages.
        max_length: the length bound of the request (bytes).
        config: timeouts, grace time and minimum average speed.
    """

    __slots__ = ("_config", "_counting_since", "_received", "deadline", "seconds", "url")

    def __init__(self, url: str, max_length: int, config: UpdaterConfig) -> None:
        start = time.monotonic()
        self.url = url
        self.seconds = request_seconds(max_length, config)
        self.deadline = start + self.seconds
        self._config = config
        self._counting_since = start
        self._received = 0

    def connect_timeout(self) -> float:
        """Seconds the next connect (or TLS handshake) may wait.

        Raises:
            SlowRetrievalError: the deadline has passed.
        """
        return self._left(self._config.connect_timeout)

    def read_timeout(self) -> float:
        """Seconds the next read or send may wait.

        Raises:
            SlowRetrievalError: the deadline has passed.
        """
        return self._left(self._config.read_timeout)

    def start_counting(self) -> None:
        """Start the average-speed clock (once connected: connecting has its own timeout)."""
        self._counting_since = time.monotonic()
        self._received = 0

    def received(self, count: int) -> None:
        """Account for *count* bytes just received (head, framing or body).

        Raises:
            SlowRetrievalError: the deadline has passed, or the average speed since
                :meth:`start_counting` is below the minimum once the grace time is over.
        """
        self._received += count
        now = time.monotonic()
        if now > self.deadline:
            raise self.expired()
        elapsed = now - self._counting_since
        config = self._config
        if elapsed > config.slow_retrieval_grace and (
            self._received / elapsed < config.min_average_speed
        ):
            raise SlowRetrievalError(
                f"{self.url}: {self._received} bytes in {elapsed:.1f}s is below "
                f"{config.min_average_speed} bytes/s"
            )

    def check(self) -> None:
        """Raise if the deadline has passed.

        Raises:
            SlowRetrievalError: it has.
        """
        if time.monotonic() > self.deadline:
            raise self.expired()

    def is_expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.monotonic() >= self.deadline

    def expired(self) -> SlowRetrievalError:
        """The error for a request that outlived its deadline."""
        return SlowRetrievalError(
            f"{self.url}: no complete response within {self.seconds:.1f}s (the deadline for "
            "this length bound at the minimum average speed)"
        )

    def _left(self, cap: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired()
        return min(cap, left)


def check_headers(url: str, lengths: list[str], encodings: list[str], max_length: int) -> None:
    """Refuse a compressed body or one announced longer than the bound.

    Args:
        url: the URL, for messages.
        lengths: every ``Content-Length`` value of the response.
        encodings: every ``Content-Encoding`` value of the response.
        max_length: the length bound (bytes).

    Raises:
        DownloadError: a ``Content-Encoding`` other than identity.
        DownloadLengthMismatchError: a ``Content-Length`` above *max_length*.
    """
    for encoding in encodings:
        if encoding.strip().lower() not in ("", "identity"):
            raise DownloadError(f"{url}: refusing Content-Encoding {encoding.strip()[:40]!r}")
    for length in lengths:
        if length.strip().isdigit() and int(length) > max_length:
            raise DownloadLengthMismatchError(
                f"{url}: announces {length.strip()[:40]} bytes, more than {max_length}"
            )


def guarded(fetcher: Fetcher, url: str, max_length: int, config: UpdaterConfig) -> Iterator[bytes]:
    """Yield the body of *url* from *fetcher*, enforcing the length bound and the deadline.

    Nothing is requested until iteration starts; closing the iterator closes the fetcher's.

    Raises:
        DownloadLengthMismatchError: more than *max_length* bytes arrived.
        SlowRetrievalError: the deadline passed, or the fetcher reported slowness.
        DownloadHTTPError: the fetcher reported an HTTP error status.
        DownloadError: any other failure of the fetcher, whatever it raised.
    """
    budget = Budget(url, max_length, config)
    chunks: Iterator[bytes] | None = None
    received = 0
    try:
        chunks = iter(fetcher.stream(url, max_length))
        for chunk in chunks:
            if not isinstance(chunk, bytes):
                raise DownloadError(
                    f"{url}: the fetcher produced {type(chunk).__name__[:40]}, not bytes"
                )
            received += len(chunk)
            if received > max_length:
                raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
            budget.check()
            yield chunk
    except DownloadError:
        raise
    except Exception as exc:  # a fetcher is foreign code: whatever it raises is a transport failure
        raise DownloadError(f"{url}: the fetcher failed: {_describe(exc)}") from exc
    finally:
        _close(chunks)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text[:200]}" if text else name


def _close(chunks: object) -> None:
    """Close the fetcher's iterator; a failure to close changes nothing about the outcome."""
    close = getattr(chunks, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # the result is decided; the fetcher cleans up
            close()
