"""Atomic file replacement: write to a hidden temporary file beside the target, then rename.

A reader sees the old file or the new one, never a partial one; on any failure the temporary file
is removed and the old file is untouched. The temporary name is hidden (leading dot) and ends in
``.part``, so it never looks like metadata or a finished download. Written without the
``tempfile`` module, which costs a client process several milliseconds to import. This module
knows nothing of TUF and holds no state.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["replace_atomically", "write_atomically"]

_ATTEMPTS = 100  # random names tried before giving up


def _create_temp(directory: str, mode: int) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_ATTEMPTS):
        name = os.path.join(directory, f".tufkit-{os.urandom(8).hex()}.part")
        try:
            return os.open(name, flags, mode), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


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
        OSError: the directory is missing or not writable, or the disk is full; nothing is left
            behind and *path* is unchanged.
    """
    target = os.fspath(path)
    fd, temp = _create_temp(os.path.dirname(target) or ".", mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
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
