"""File names and file I/O for in-toto metadata: link names, bounded reads, atomic writes.

Every name that comes from metadata (a step or inspection name, a link's own ``name``) passes
:func:`check_name` before it becomes part of a path, so it names a file in the intended directory
and nothing else. Reads accept only regular files of bounded size; writes go to a temporary file
created exclusively beside the target and renamed over it, so an existing symlink or hard link at
the target is replaced, never written through. This module does not parse or verify: it moves
bytes.
"""

from __future__ import annotations

import errno
import os

from tufkit._atomic import read_bounded, write_atomically
from tufkit.intoto._envelope import DEFAULT_MAX_METADATA_BYTES, Envelope, load_metadata
from tufkit.intoto._errors import InvalidMetadataError

__all__ = [
    "check_name",
    "link_filename",
    "read_bytes",
    "read_metadata",
    "unfinished_filename",
    "write_metadata",
]


def check_name(name: object, what: str = "step name") -> str:
    """Return *name* if it can be one component of a file name, the verifier's rule.

    Raises:
        InvalidMetadataError: not a string, empty, ``.``/``..``, or holding ``/``, ``\\`` or NUL.
    """
    if type(name) is not str:
        raise InvalidMetadataError(f"{what} must be a string, not {type(name).__name__}")
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise InvalidMetadataError(f"{what} {name!r:.80} cannot name a file")
    return name


def _check_keyid(keyid: str) -> str:
    return check_name(keyid[:8], "keyid")


def link_filename(name: str, keyid: str | None = None) -> str:
    """``<name>.<keyid[:8]>.link``, or ``<name>.link`` for unsigned links.

    Raises:
        InvalidMetadataError: *name* or the keyid prefix cannot be part of a file name.
    """
    check_name(name)
    return f"{name}.{_check_keyid(keyid)}.link" if keyid else f"{name}.link"


def unfinished_filename(name: str, keyid: str) -> str:
    """``.<name>.<keyid[:8]>.link-unfinished``, the file ``record start`` writes.

    Raises:
        InvalidMetadataError: *name* or the keyid prefix cannot be part of a file name.
    """
    return f".{check_name(name)}.{_check_keyid(keyid)}.link-unfinished"


def read_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes | None:
    """The bytes of the regular file *path*, or None if nothing exists there.

    Raises:
        InvalidMetadataError: larger than *max_bytes*, or not a regular file (a FIFO, a device,
            a directory), named with its path.
        OSError: the file exists but cannot be read.
    """
    try:
        return read_bounded(path, max_bytes)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EFBIG, errno.EISDIR):
            raise InvalidMetadataError(f"{os.fspath(path)}: {exc.strerror}") from exc
        raise


def read_metadata(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_METADATA_BYTES
) -> Envelope:
    """Read and parse a link or layout file, refusing non-regular files and files over *max_bytes*.

    Raises:
        InvalidMetadataError: too large, not a regular file, not JSON, or not in-toto metadata.
        OSError: the file cannot be read (FileNotFoundError if it does not exist).
    """
    data = read_bytes(path, max_bytes)
    if data is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(path))
    return load_metadata(data, max_bytes=max_bytes)


def write_metadata(path: str | os.PathLike[str], metadata: Envelope) -> None:
    """Write *metadata* to *path* atomically, never through an existing symlink at *path*.

    Raises:
        OSError: the file cannot be written (the message names the path); *path* is unchanged.
    """
    try:
        write_atomically(path, metadata.to_bytes(), mode=0o644, durable=False)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = os.fspath(path)
        raise
