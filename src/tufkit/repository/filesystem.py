"""A repository on the local file system, laid out for static hosting.

``<root>/metadata/`` holds what clients fetch (``N.root.json`` for every N, ``root.json``,
``timestamp.json``, ``N.snapshot.json``, ``N.<role>.json``); serve that directory as the metadata
URL. ``<root>/.tufkit/`` holds the publish journal and is never served. Every file is written to
a temporary file in the same directory and renamed into place, so a web server or a client
reading the directory sees a whole old file or a whole new one. File names come from
:func:`~tufkit.repository.metadata_filename` over checked role names; this module refuses any
other shape of name rather than trusting its caller.
"""

from __future__ import annotations

import os

from tufkit._atomic import write_atomically
from tufkit.errors import StorageError

__all__ = ["FilesystemStorage"]

_JOURNAL = "publish.journal"
_MAX_METADATA = 512 * 1024 * 1024  # bytes: larger than any metadata file a repository writes


def _check_filename(filename: str) -> str:
    if (
        not filename
        or filename.startswith(".")
        or "/" in filename
        or "\\" in filename
        or "\0" in filename
        or not filename.endswith(".json")
    ):
        raise StorageError(f"refusing metadata file name {filename[:80]!r}")
    return filename


class FilesystemStorage:
    """:class:`~tufkit.repository.Storage` in a directory.

    Args:
        root: the repository directory; ``metadata/`` and ``.tufkit/`` are created inside.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self.metadata_dir = os.path.join(self.root, "metadata")
        self._state_dir = os.path.join(self.root, ".tufkit")

    def _ensure_dirs(self) -> None:
        try:
            os.makedirs(self.metadata_dir, exist_ok=True)
            os.makedirs(self._state_dir, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.root}: {exc.strerror or exc}") from exc

    @staticmethod
    def _read(path: str) -> bytes | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with os.fdopen(fd, "rb") as handle:
            import stat

            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise StorageError(f"{path} is not a regular file")
            data = handle.read(_MAX_METADATA + 1)
        if len(data) > _MAX_METADATA:
            raise StorageError(f"{path} is larger than {_MAX_METADATA} bytes")
        return data

    def _write(self, path: str, data: bytes) -> None:
        self._ensure_dirs()
        try:
            write_atomically(path, data, mode=0o644)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def read_metadata(self, filename: str) -> bytes | None:
        """The bytes of published file *filename*, or None.

        Raises:
            StorageError: the name is not a metadata file name, or the file is unreadable, not a
                regular file, or implausibly large.
        """
        return self._read(os.path.join(self.metadata_dir, _check_filename(filename)))

    def write_metadata(self, filename: str, data: bytes) -> None:
        """Publish *data* as *filename*, atomically (world-readable, for static hosting).

        Raises:
            StorageError: the name is not a metadata file name, or the write failed (the old file
                is then unchanged).
        """
        self._write(os.path.join(self.metadata_dir, _check_filename(filename)), data)

    def read_journal(self) -> bytes | None:
        """The pending publish journal, or None."""
        return self._read(os.path.join(self._state_dir, _JOURNAL))

    def write_journal(self, data: bytes) -> None:
        """Save the publish journal, atomically."""
        self._ensure_dirs()
        try:
            write_atomically(os.path.join(self._state_dir, _JOURNAL), data)
        except OSError as exc:
            raise StorageError(f"cannot write the publish journal: {exc.strerror or exc}") from exc

    def remove_journal(self) -> None:
        """Forget the publish journal."""
        try:
            os.unlink(os.path.join(self._state_dir, _JOURNAL))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot remove the publish journal: {exc.strerror}") from exc
