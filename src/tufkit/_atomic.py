"""Atomic file replacement: write to a hidden temporary file beside the target, then rename.

A reader sees the old file or the new one, never a partial one; on any failure the temporary file
is removed and the old file is untouched. The temporary name, ``.tufkit+<16 hex digits>.part``, is
hidden (leading dot) and ends in ``.part``, so it never looks like metadata or a finished
download; and it contains a ``+``, which the percent-encoding tufkit uses for every file name taken
from metadata (role names, target paths) never produces, so no repository can name a target or a
role so that it is taken for a temporary file and removed. The writer holds an exclusive
``flock`` on its temporary file, which the kernel drops when the process dies: so
:func:`remove_abandoned` can tell a temporary file left by a killed process from one still being
written, and remove only the former. Written without the ``tempfile`` module, which costs a
client process several milliseconds to import. This module knows nothing of TUF and holds no
state.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import BinaryIO

__all__ = [
    "is_temporary_name",
    "read_bounded",
    "remove_abandoned",
    "replace_atomically",
    "write_atomically",
]

_ATTEMPTS = 100  # random names tried before giving up
# "+" is never produced by percent-encoding: no name derived from metadata looks like this
_PREFIX, _SUFFIX = ".tufkit+", ".part"
_RANDOM_BYTES = 8  # 16 hex digits
_HEX = frozenset("0123456789abcdef")
_ABANDONED_AFTER = 60.0  # seconds without a write before an unlocked temporary file is removed


def is_temporary_name(name: str) -> bool:
    """Whether *name* (a file name, no directory) is one this module gives temporary files."""
    middle = name[len(_PREFIX) : -len(_SUFFIX)]
    return (
        name.startswith(_PREFIX)
        and name.endswith(_SUFFIX)
        and len(middle) == 2 * _RANDOM_BYTES
        and _HEX.issuperset(middle)
    )


def _create_temp(directory: str, mode: int) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    import fcntl

    for _ in range(_ATTEMPTS):
        name = os.path.join(directory, f"{_PREFIX}{os.urandom(_RANDOM_BYTES).hex()}{_SUFFIX}")
        try:
            fd = os.open(name, flags, mode)
        except FileExistsError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until the file is closed or the process dies
        return fd, name
    raise FileExistsError(f"no free temporary name in {directory}")


def _naming(exc: OSError, target: str) -> OSError:
    """The same error (``errno`` and class) naming *target*, not a temporary file or nothing.

    A full disk or a read-only file system is reported by ``write``/``fsync`` without a file
    name, or against the hidden temporary name; the user needs the file they asked for.
    """
    if exc.filename == target:
        return exc
    return OSError(exc.errno, exc.strerror or str(exc), target)


@contextlib.contextmanager
def replace_atomically(
    path: str | os.PathLike[str], *, mode: int = 0o600, durable: bool = True
) -> Iterator[BinaryIO]:
    """Yield a file to write; when the block ends cleanly it replaces *path* in one step.

    Args:
        path: the file to create or replace.
        mode: permission bits of the new file.
        durable: fsync the data before the rename (survives a power cut, not just a crash).

    Raises:
        OSError: the directory is missing or not writable, or the disk is full; the error
            names *path*, nothing is left behind and *path* is unchanged.
    """
    target = os.fspath(path)
    try:
        fd, temp = _create_temp(os.path.dirname(target) or ".", mode)
    except OSError as exc:
        raise _naming(exc, target) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _naming(exc, target) from exc
        raise


def write_atomically(
    path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, durable: bool = True
) -> None:
    """Replace *path* with *data* atomically (see :func:`replace_atomically`).

    Raises:
        OSError: the write failed; *path* is unchanged and nothing is left behind.
    """
    with replace_atomically(path, mode=mode, durable=durable) as handle:
        handle.write(data)


def read_bounded(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Read a regular file of at most *max_bytes* bytes; never block on a FIFO or a device.

    A symlink is followed (reading through one writes nothing), but what it leads to must be a
    regular file: the type is checked before opening and again on the open descriptor, which is
    opened non-blocking so a FIFO swapped in between cannot hang the read.

    Raises:
        FileNotFoundError: there is no such file.
        OSError: not a regular file (``errno.EINVAL``), larger than *max_bytes*
            (``errno.EFBIG``), or unreadable; the message names the path.
    """
    import errno
    import stat

    name = os.fspath(path)
    if not stat.S_ISREG(os.stat(name).st_mode):
        raise OSError(errno.EINVAL, "not a regular file", name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(name, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", name)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(max_bytes + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", name)
    return b"".join(chunks)


def remove_abandoned(
    directory: str | os.PathLike[str], *, older_than: float = _ABANDONED_AFTER
) -> int:
    """Remove temporary files that a killed writer left in *directory*.

    A temporary file is removed only if nobody holds its lock (its writer is gone) and it has not
    been written for *older_than* seconds; files being written are never touched.

    Returns:
        How many files were removed.
    """
    import fcntl
    import time

    try:
        names = [n for n in os.listdir(directory) if is_temporary_name(n)]
    except OSError:
        return 0
    removed = 0
    for name in names:
        path = os.path.join(os.fspath(directory), name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if time.time() - os.fstat(fd).st_mtime < older_than:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # still locked: a live writer
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
        finally:
            os.close(fd)
    return removed
