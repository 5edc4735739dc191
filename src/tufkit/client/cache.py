"""The client's only filesystem seam: the metadata cache directory and target files.

* Metadata is stored under unversioned names, ``<encoded role name>.json``, exactly the bytes
  received. The encoding (:func:`encode_role_name`) keeps only lowercase ASCII letters, digits
  and ``-_.`` and percent-encodes every other UTF-8 byte with lowercase hex digits: the result
  is one plain file name (``/``, ``..``, ``%`` are encoded) made only of characters that no file
  system folds or normalises, so two different role names get two different files even on
  case-insensitive (macOS, Windows, vfat) or normalisation-insensitive file systems. The
  top-level roles keep their plain names (``root.json``, ...), which no delegated role can get:
  those names are refused as delegated role names, and ``Timestamp`` becomes
  ``%54imestamp.json``. This is a file-name encoding only; URLs use the specification's
  ``quote(name, safe="")``.
* Every write goes to a hidden temporary file in the same directory (no ``.json`` suffix),
  is flushed and fsynced, then moved into place with ``os.replace``: a reader sees the old or
  the new file, never a partial one, and a crash leaves no half-written ``.json``.
* :meth:`MetadataCache.lock` takes an exclusive ``fcntl`` lock on ``.lock`` in the directory, so
  several processes can share one cache: one update cycle at a time.

This module decides nothing about trust: it stores what the updater has already verified.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import quote

from tufkit._atomic import write_atomically

__all__ = ["MetadataCache", "encode_name", "encode_role_name"]

_LOCK_NAME = ".lock"
# characters kept as they are in role file names: none of them changes under case folding or
# Unicode normalisation, and none is special to any file system
_ROLE_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_.")
_MAX_STEM = 200  # characters; file names are limited to 255 bytes on common file systems
_HASHED_KEEP = _MAX_STEM - 65  # characters kept before "~" and the 64-digit SHA-256
# device names that Windows file systems refuse as file names, whatever the extension
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{d}{i}" for d in ("com", "lpt") for i in range(10)]
)


def encode_name(name: str) -> str:
    """Percent-encode *name* (a target path) into one safe file name component.

    Everything except ASCII letters, digits and ``_.-~`` is encoded, ``/`` included; a name
    made only of dots gets its dots encoded so it never means "this" or "parent" directory.

    Raises:
        ValueError: *name* is empty.
    """
    if not name:
        raise ValueError("an empty name cannot be stored")
    encoded = quote(name, safe="")
    if encoded.strip(".") == "":
        encoded = encoded.replace(".", "%2E")
    return encoded


def encode_role_name(name: str) -> str:
    """The file name stem under which role *name*'s metadata is stored.

    Injective, also after case folding and Unicode normalisation of the result: every byte of
    *name*'s UTF-8 other than ``a-z``, ``0-9`` and ``-_.`` becomes ``%xx`` (lowercase hex), so
    the result is lowercase ASCII and percent-decodes back to *name*. A name made only of dots,
    or one that starts with a Windows device name (``con``, ``nul``, ...), gets its first
    character encoded too. A stem longer than 200 characters is cut and ends in ``~`` and the
    SHA-256 of *name* (``~`` appears in no other stem).

    Raises:
        ValueError: *name* is empty.
    """
    if not name:
        raise ValueError("an empty role name cannot be stored")
    raw = name.encode("utf-8", "surrogatepass")
    stem = "".join(chr(b) if b in _ROLE_SAFE else f"%{b:02x}" for b in raw)
    if stem.strip(".") == "" or stem.split(".", 1)[0] in _RESERVED:
        stem = f"%{raw[0]:02x}{stem[1:]}"
    if len(stem) > _MAX_STEM:
        import hashlib

        stem = f"{stem[:_HASHED_KEEP]}~{hashlib.sha256(raw).hexdigest()}"
    return stem


class MetadataCache:
    """A directory of trusted metadata, one file per role.

    Args:
        directory: the cache directory; created (mode 0700) if missing.

    Raises:
        OSError: the directory cannot be created.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)

    def path_of(self, role_name: str) -> str:
        """The file that holds *role_name*'s metadata (see :func:`encode_role_name`)."""
        return os.path.join(self.directory, f"{encode_role_name(role_name)}.json")

    def read(self, role_name: str) -> bytes | None:
        """The stored bytes of *role_name*, or None if absent or unreadable."""
        try:
            with open(self.path_of(role_name), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def write(self, role_name: str, data: bytes) -> None:
        """Store *data* (already verified) as *role_name*, atomically.

        Raises:
            OSError: the write failed; the previous file, if any, is intact.
        """
        write_atomically(self.path_of(role_name), data)

    def delete(self, role_name: str) -> None:
        """Remove *role_name*'s file if present.

        Raises:
            OSError: the file exists but cannot be removed.
        """
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path_of(role_name))

    def clear(self) -> None:
        """Remove every stored role (each ``*.json`` file); nothing else is touched.

        Raises:
            OSError: a file exists but cannot be removed.
        """
        for name in os.listdir(self.directory):
            if name.endswith(".json"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.directory, name))

    def modified_time(self, role_name: str) -> float | None:
        """When *role_name* was last stored (seconds since the epoch), or None."""
        try:
            return os.stat(self.path_of(role_name)).st_mtime
        except OSError:
            return None

    def touch(self, role_name: str) -> None:
        """Mark *role_name* as just confirmed current (updates its modification time)."""
        with contextlib.suppress(OSError):
            os.utime(self.path_of(role_name))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the cache for the duration of the block.

        Raises:
            OSError: the lock file cannot be opened.
        """
        import fcntl

        fd = os.open(os.path.join(self.directory, _LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
