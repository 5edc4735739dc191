"""Hashing artifact files from open descriptors, large files on worker threads.

A file is hashed from the descriptor the recorder opened and checked (``fstat``: a regular
file), never by reopening its name, so what is hashed is what was checked. Small files take one
``read`` (the size from ``fstat``, plus one byte to see the end); large ones are read in chunks
into one reused buffer and, through :class:`Hasher`, on up to four worker threads (hashlib and
``readv`` release the GIL, so they run in parallel with the walk). Every chunk checks the
recording's deadline, so one huge file cannot outlast a timeout. This module does not open
files by name, walk directories or decide what may be recorded.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tufkit.intoto._errors import CommandError

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["CHUNK", "Deadline", "Hasher", "hash_descriptor", "hash_file"]

CHUNK = 1024 * 1024  # bytes read per call for files larger than this
_PARALLEL_MIN = 256 * 1024  # bytes: smaller files are hashed on the walking thread
_MAX_WORKERS = 4
_MAX_PENDING = 64  # large files open on workers at once (each holds a descriptor)


@dataclass(frozen=True)
class Deadline:
    """A point in ``time.monotonic()`` time a recording must finish by (None: no bound)."""

    at: float | None = None
    seconds: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        """The deadline *seconds* from now, or none if *seconds* is None."""
        return cls(None if seconds is None else time.monotonic() + seconds, seconds)

    def check(self) -> None:
        """Raise if the deadline has passed.

        Raises:
            CommandError: the recording took longer than its timeout.
        """
        if self.at is not None and time.monotonic() > self.at:
            raise CommandError(f"recording artifacts did not finish within {self.seconds} s")


_NO_DEADLINE = Deadline()


def _normalized(fd: int, deadline: Deadline) -> str:
    digest = hashlib.sha256()
    while True:
        deadline.check()
        data = os.read(fd, CHUNK)
        if not data:
            break
        while data.endswith(b"\r"):  # a CR at a chunk's end may start a CRLF
            more = os.read(fd, 1)
            if not more:
                break
            data += more
        digest.update(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    return digest.hexdigest()


def hash_descriptor(
    fd: int, size: int, *, normalize_line_endings: bool = False, deadline: Deadline = _NO_DEADLINE
) -> str:
    """Return the lowercase hex SHA-256 of the regular file open as *fd* (from its position).

    Args:
        fd: an open regular file; not closed here.
        size: its size from ``fstat`` (a hint: a file that grew meanwhile is read to its end).
        normalize_line_endings: hash with CRLF and CR turned into LF.
        deadline: checked before every chunk.

    Raises:
        CommandError: the deadline passed.
        OSError: the file cannot be read.
    """
    if normalize_line_endings:
        return _normalized(fd, deadline)
    if size < CHUNK:
        data = os.read(fd, size + 1)
        if len(data) <= size:  # a short read of a regular file is its end
            return hashlib.sha256(data).hexdigest()
        digest = hashlib.sha256(data)
    else:
        digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while True:
        deadline.check()
        count = os.readv(fd, [buffer])
        if not count:
            return digest.hexdigest()
        digest.update(view[:count])


def hash_file(path: str | os.PathLike[str], *, normalize_line_endings: bool = False) -> str:
    """Return the SHA-256 of the regular file at *path* (symlinks not followed).

    Raises:
        OSError: the file cannot be opened or read, is a symlink, or is not a regular file.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{os.fspath(path)!r} is not a regular file")
        return hash_descriptor(fd, info.st_size, normalize_line_endings=normalize_line_endings)
    finally:
        os.close(fd)


class Hasher:
    """Hashes descriptors: small files at once, large ones on worker threads.

    Results are delivered through the *deliver* callback on the calling thread, by
    :meth:`add` (for small files, and whenever too many large ones are pending) and by
    :meth:`finish`. Use as a context manager so workers stop and descriptors close on errors.
    """

    def __init__(
        self,
        deliver: Callable[[str, str], None],
        *,
        normalize_line_endings: bool,
        deadline: Deadline,
    ) -> None:
        self._deliver = deliver
        self._normalize = normalize_line_endings
        self._deadline = deadline
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[str, int, Future[str]]] = deque()

    def add(self, name: str, fd: int, size: int) -> None:
        """Hash the open regular file *fd*, recorded as *name*; takes ownership of *fd*.

        Raises:
            CommandError: the deadline passed.
            OSError: a file cannot be read.
        """
        if size < _PARALLEL_MIN:
            try:
                digest = hash_descriptor(
                    fd, size, normalize_line_endings=self._normalize, deadline=self._deadline
                )
            finally:
                os.close(fd)
            self._deliver(name, digest)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # deferred: most trees never need it

            workers = min(_MAX_WORKERS, os.cpu_count() or 1)
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="tufkit-hash")
        try:
            future = self._pool.submit(self._hash_and_close, fd, size)
        except BaseException:
            os.close(fd)
            raise
        self._pending.append((name, fd, future))
        if len(self._pending) >= _MAX_PENDING:
            self._collect(len(self._pending) // 2)

    def _hash_and_close(self, fd: int, size: int) -> str:
        try:
            return hash_descriptor(
                fd, size, normalize_line_endings=self._normalize, deadline=self._deadline
            )
        finally:
            os.close(fd)

    def _collect(self, count: int) -> None:
        for _ in range(count):
            name, _, future = self._pending[0]
            digest = future.result()  # on an error the file stays pending, for __exit__
            self._pending.popleft()
            self._deliver(name, digest)

    def finish(self) -> None:
        """Wait for every pending file and deliver its hash.

        Raises:
            CommandError: the deadline passed.
            OSError: a file cannot be read.
        """
        self._collect(len(self._pending))

    def __enter__(self) -> Hasher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            for _, fd, future in self._pending:
                if future.cancel():  # never started: its worker will not close the file
                    os.close(fd)
            self._pool.shutdown(wait=True)
            self._pool = None
