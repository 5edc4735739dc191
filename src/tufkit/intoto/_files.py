"""File names and file I/O for in-toto metadata: link names, bounded reads, atomic writes.

This module does not parse or verify: it moves bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tufkit.intoto._envelope import DEFAULT_MAX_METADATA_BYTES, Metadata, load_metadata
from tufkit.intoto._errors import InvalidMetadataError

__all__ = ["link_filename", "read_metadata", "unfinished_filename", "write_metadata"]


def link_filename(name: str, keyid: str | None = None) -> str:
    """``<name>.<keyid[:8]>.link``, or ``<name>.link`` for unsigned links."""
    return f"{name}.{keyid[:8]}.link" if keyid else f"{name}.link"


def unfinished_filename(name: str, keyid: str) -> str:
    """``.<name>.<keyid[:8]>.link-unfinished``, the file ``record start`` writes."""
    return f".{name}.{keyid[:8]}.link-unfinished"


def read_metadata(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_METADATA_BYTES
) -> Metadata:
    """Read and parse a link or layout file, refusing files over *max_bytes*.

    Raises:
        InvalidMetadataError: too large, not JSON, or not in-toto metadata.
        OSError: the file cannot be read.
    """
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidMetadataError(f"{os.fspath(path)}: larger than {max_bytes} bytes")
    return load_metadata(data, max_bytes=max_bytes)


def write_metadata(path: str | os.PathLike[str], metadata: Metadata) -> None:
    """Write *metadata* to *path* atomically (temporary file, then rename).

    Raises:
        OSError: the file cannot be written.
    """
    target = Path(path)
    directory = target.parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(metadata.to_bytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
