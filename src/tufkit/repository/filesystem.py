"""A repository on the local file system, laid out for static hosting.

``<root>/metadata/`` holds what clients fetch (``N.root.json`` for every N, ``root.json``,
``timestamp.json``, ``N.snapshot.json``, ``N.<role>.json``); serve that directory as the metadata
URL; ``<root>/targets/`` holds the target files (the targets URL). ``<root>/.tufkit/`` holds the
publish journal and is never served. Every file is written to
a temporary file in the same directory and renamed into place, so a web server or a client
reading the directory sees a whole old file or a whole new one. Only the journal is written
durably (fsync) on its own; the other files are flushed together (:meth:`FilesystemStorage.flush`)
at the points where the repository needs them durable. File names come from
:func:`~tufkit.repository.metadata_filename` over checked role names; this module refuses any
other shape of name rather than trusting its caller.
"""

from __future__ import annotations

import os
import shutil
import stat
from typing import BinaryIO

from tufkit._atomic import replace_atomically, write_atomically
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


def _write_in_place(path: str, data: bytes) -> None:
    """Create or overwrite *path* with *data*, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class FilesystemStorage:
    """:class:`~tufkit.repository.Storage` in a directory.

    Args:
        root: the repository directory; ``metadata/`` and ``.tufkit/`` are created inside.
        metadata_dir: where the metadata lives, if not ``<root>/metadata`` (a repository
            adopted from another tool keeps its own layout).
        targets_dir: where the target files live, if not ``<root>/targets``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        metadata_dir: str | os.PathLike[str] | None = None,
        targets_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.root = os.fspath(root)
        self.metadata_dir = (
            os.fspath(metadata_dir)
            if metadata_dir is not None
            else os.path.join(self.root, "metadata")
        )
        self.targets_dir = (
            os.fspath(targets_dir)
            if targets_dir is not None
            else os.path.join(self.root, "targets")
        )
        self._state_dir = os.path.join(self.root, ".tufkit")
        self._dirs_made = False

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
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise StorageError(f"{path} is not a regular file")
            data = handle.read(_MAX_METADATA + 1)
        if len(data) > _MAX_METADATA:
            raise StorageError(f"{path} is larger than {_MAX_METADATA} bytes")
        return data

    def _write(self, path: str, data: bytes, *, in_place: bool = False) -> None:
        if not self._dirs_made:
            self._ensure_dirs()
            self._dirs_made = True
        try:
            # not fsynced one by one: the durable journal replays them after a power cut, and
            # remove_journal() flushes them all first
            if in_place:
                _write_in_place(path, data)
            else:
                write_atomically(path, data, mode=0o644, durable=False)
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
        name = _check_filename(filename)
        # A versioned file other than root is fetched only once a snapshot or timestamp written
        # after it names it, so nobody reads it half-written: it is written in place. Root
        # versions (clients probe for the next one) and unversioned names are renamed into place.
        version, _, role = name.partition(".")
        in_place = version.isdigit() and role != "root.json"
        self._write(os.path.join(self.metadata_dir, name), data, in_place=in_place)

    @staticmethod
    def _target_segments(name: str) -> list[str]:
        segments = name.split("/")
        if any(s in ("", ".", "..") or s.startswith(".") for s in segments) or "\\" in name:
            raise StorageError(f"refusing target file name {name[:80]!r}")
        return segments

    def open_target(self, name: str) -> BinaryIO | None:
        """Open published target file *name* below the targets directory, or None.

        Raises:
            StorageError: a name with an empty, dot or ``..`` segment, a symlink, a path that
                is not a regular file, or an unreadable file.
        """
        path = os.path.join(self.targets_dir, *self._target_segments(name))
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        handle = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise StorageError(f"{path} is not a regular file")
        return handle

    def _target_directory(self, name: str) -> str:
        """Create the directories of target *name* below ``targets/``, refusing symlinks."""
        segments = self._target_segments(name)
        directory = self.targets_dir
        for segment in ["", *segments[:-1]]:
            directory = os.path.join(directory, segment) if segment else directory
            try:
                os.mkdir(directory)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(directory).st_mode):
                    raise StorageError(f"{directory} is not a directory") from None
            except OSError as exc:
                raise StorageError(f"cannot create {directory}: {exc.strerror or exc}") from exc
        return directory

    def write_target(self, name: str, content: bytes | BinaryIO) -> None:
        """Publish a target file below ``targets/``, atomically (world-readable).

        Raises:
            StorageError: a name with an empty, dot or ``..`` segment, a path through a symlink
                or a non-directory, or a failed write (the old file is then unchanged).
        """
        self._ensure_dirs()
        directory = self._target_directory(name)
        path = os.path.join(directory, name.rsplit("/", 1)[-1])
        try:
            with replace_atomically(path, mode=0o644, durable=False) as handle:
                if isinstance(content, bytes):
                    handle.write(content)
                else:
                    shutil.copyfileobj(content, handle, 1024 * 1024)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc

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

    def _staged_path(self, role: str) -> str:
        from tufkit.repository._names import check_role_name

        return os.path.join(self._state_dir, "staged", f"{check_role_name(role)}.json")

    def write_staged(self, role: str, data: bytes) -> None:
        """Save *role*'s staged file under ``.tufkit/staged/``, atomically and durably."""
        path = self._staged_path(role)
        self._ensure_dirs()
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            write_atomically(path, data)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def read_staged(self) -> dict[str, bytes]:
        """Every staged file, by role name."""
        directory = os.path.join(self._state_dir, "staged")
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"cannot list {directory}: {exc.strerror or exc}") from exc
        out = {}
        for name in names:
            data = self._read(os.path.join(directory, name))
            if data is not None:
                out[name.removesuffix(".json")] = data
        return out

    def remove_staged(self, role: str) -> None:
        """Forget *role*'s staged file."""
        try:
            os.unlink(self._staged_path(role))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot remove a staged file: {exc.strerror or exc}") from exc

    def flush(self) -> None:
        """Make every file written so far durable: one flush for a whole publish, instead of
        one fsync per file."""
        os.sync()

    def remove_journal(self) -> None:
        """Forget the publish journal."""
        try:
            os.unlink(os.path.join(self._state_dir, _JOURNAL))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot remove the publish journal: {exc.strerror}") from exc
