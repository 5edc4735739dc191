"""Target files: safe URL and file names, and streaming a download into place after verification.

:func:`stream_to_file` never holds the whole artifact in memory: the chunks go into a hidden
temporary file in the destination's directory (so the final ``os.replace`` is atomic) while the
length and every listed hash are computed on the same pass; the file is moved into place only
after they all matched, and removed on any failure. A process killed mid-download leaves a
hidden ``.tufkit+*.part`` file (never a file under the target's own name), which the next
download into that directory removes once its writer's lock is gone.

This module makes no trust decision: the :class:`~tufkit.metadata.TargetFile` passed in is
already trusted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from tufkit._atomic import remove_abandoned, replace_atomically
from tufkit.errors import FormatError

if TYPE_CHECKING:
    from tufkit.metadata import TargetFile

__all__ = ["check_target_path", "stream_to_file"]


def check_target_path(path: str) -> list[str]:
    """Split a target path into segments, refusing traversal.

    Raises:
        FormatError: empty path, or an empty, ``.`` or ``..`` segment, or a NUL character.
    """
    segments = path.split("/")
    if not path or "\0" in path or any(segment in ("", ".", "..") for segment in segments):
        raise FormatError(
            f"target path {path[:80]!r} is not a safe relative path (empty, or with an empty, "
            "'.' or '..' segment, or a NUL): it is neither looked up nor downloaded"
        )
    return segments


class _TeeReader:
    """A binary reader over *chunks* that copies everything it returns into *sink*."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        sink: object,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._chunks = chunks
        self._write = sink.write  # type: ignore[attr-defined]
        self._pending = b""
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            self._pending = next(self._chunks, b"")
            if self._progress is not None and self._pending:
                self._progress(len(self._pending))
        if size < 0 or size >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        self._write(out)
        return out


def stream_to_file(
    chunks: Iterator[bytes],
    targetinfo: TargetFile,
    path: str | os.PathLike[str],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write *chunks* to *path* if, and only if, they match *targetinfo*'s length and hashes.

    *progress*, if given, is called with the size of each chunk as it arrives (for display
    only: it decides nothing).

    Raises:
        LengthOrHashMismatchError: the bytes are not the ones the metadata lists.
        UnsupportedAlgorithmError: the metadata lists an unknown hash algorithm (nothing is
            requested: *chunks* is never started).
        DownloadError: the transport failed (including more bytes than listed).
        OSError: the file could not be written; nothing is left behind.
    """
    remove_abandoned(os.path.dirname(os.fspath(path)) or ".")  # left by killed downloads
    try:
        with replace_atomically(path) as handle:
            targetinfo.verify_length_and_hashes(_TeeReader(chunks, handle, progress))  # type: ignore[arg-type]
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # release the connection whatever happened
