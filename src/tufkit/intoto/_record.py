"""Recording artifacts: hashing files and directories as the reference's ``in-toto-run`` does.

Each path argument is stripped of a ``file:`` scheme, normalised, filtered by the exclude
patterns (pathspec's gitignore rules, as the reference; defaults ``*.link*``, ``.git``, ``*.pyc``,
``*~``; given patterns *replace* them), skipped if it does not exist, hashed if a file, walked if
a directory (symlinks to files hashed, symlinked directories followed, broken symlinks and special
files skipped). Names use ``/``; ``lstrip_paths`` cuts the first matching prefix. Hash: SHA-256
of the bytes, optionally with CRLF and CR turned into LF first.

Where the reference trusts the tree, this module does not:

* Paths and symlinks leading outside the base directory are refused (an
  :class:`~tufkit.intoto.OutsideBaseError`, a ``ConfigError``) unless
  ``unsafe_allow_outside_base`` is set.
* Nothing is hashed by name. Directories are opened without following symlinks, relative to
  their parent's descriptor; files are opened relative to their directory's descriptor with
  ``O_NOFOLLOW | O_NONBLOCK`` and hashed from that descriptor once ``fstat`` shows a regular
  file. A symlink is opened through, then the opened descriptor's real path (``/proc/self/fd``
  or ``F_GETPATH``) is checked against the base. So a file swapped for a symlink to an outside
  file while recording is refused or skipped, never hashed under the inside name, and a file
  swapped for a FIFO is skipped instead of blocking the recording.
* Each real directory is listed at most twice per path argument: under its own name, and under
  the first symlinked name (in sorted walk order) that leads to it; a symlink to one of its own
  ancestors (a loop) is not followed. A tree in which no directory is reached by two symlinks is
  recorded with exactly the reference's names and hashes; in one where several symlinks lead to a
  directory, only the first symlinked name is recorded (the reference records every name: for a
  graph where each level holds two links to the next, exponentially many).
* ``timeout`` bounds a recording (the verifier passes its inspection timeout).

This module does not run commands or sign anything.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from tufkit.errors import ConfigError
from tufkit.intoto._errors import OutsideBaseError, PrefixError
from tufkit.intoto._exclude import ExcludeFilter
from tufkit.intoto._hashing import Deadline, Hasher

__all__ = ["DEFAULT_EXCLUDE_PATTERNS", "MAX_DEPTH", "RecordOptions", "record_artifacts"]

_LOG = logging.getLogger(__name__)
DEFAULT_EXCLUDE_PATTERNS: tuple[str, ...] = ("*.link*", ".git", "*.pyc", "*~")
MAX_DEPTH = 512  # directory levels below a path argument (each holds a descriptor while walked)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | _NOCTTY
_THROUGH_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | _NOCTTY  # follows a symlink
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC
_SYMLINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})  # O_NOFOLLOW met a symlink (Linux, BSD)
_GONE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})  # vanished or broken
_INLINE_MAX = 64 * 1024  # bytes: smaller files are hashed by the walk itself
_DEADLINE_EVERY = 256  # directory entries between deadline checks


@dataclass(frozen=True)
class RecordOptions:
    """How artifacts are recorded.

    Attributes:
        exclude_patterns: gitignore-style patterns; None (or empty) means the defaults.
        base_path: directory the names are relative to (the current directory if None).
        follow_symlink_dirs: descend into symlinked directories (the reference CLI does).
        normalize_line_endings: hash with CRLF and CR turned into LF.
        lstrip_paths: prefixes cut from names; none may be a prefix of another.
        unsafe_allow_outside_base: record paths and symlink targets outside the base directory,
            as the reference does.
        timeout: seconds one call of :func:`record_artifacts` may take; None for no bound.
    """

    exclude_patterns: Sequence[str] | None = None
    base_path: str | os.PathLike[str] | None = None
    follow_symlink_dirs: bool = True
    normalize_line_endings: bool = False
    lstrip_paths: Sequence[str] = ()
    unsafe_allow_outside_base: bool = False
    timeout: float | None = None


def _descriptor_path(fd: int) -> str | None:
    """The path the kernel holds for an open descriptor, or None where it cannot say."""
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        import fcntl

        try:
            raw = fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024))
        except OSError:
            return None
        return os.fsdecode(raw.split(b"\0", 1)[0])
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


@dataclass
class _Frame:
    """A directory being walked: its descriptor and the subdirectories still to enter."""

    fd: int
    path: str
    identity: tuple[int, int]
    via_link: bool
    subdirs: list[tuple[str, str, bool]] = field(default_factory=list)  # name, path, is link


class _Recorder:
    def __init__(self, options: RecordOptions, root: str) -> None:
        self.options = options
        self.exclude = ExcludeFilter(list(options.exclude_patterns or DEFAULT_EXCLUDE_PATTERNS))
        self.root = root
        self.real_root = os.path.realpath(root)
        self.root_prefix = self.real_root.rstrip("/") + "/"
        self.deadline = Deadline.after(options.timeout)
        self.hasher = Hasher(
            self.deliver,
            normalize_line_endings=options.normalize_line_endings,
            deadline=self.deadline,
        )
        self.hashes: dict[str, dict[str, str]] = {}
        self.follow = options.follow_symlink_dirs
        self.checked = not options.unsafe_allow_outside_base
        self.inline = not options.normalize_line_endings  # small files hashed by _small_files
        self.mangle = bool(options.lstrip_paths)

    def deliver(self, key: str, digest: str) -> None:
        self.hashes[key] = {"sha256": digest}

    def _claim(self, path: str, prefix: str) -> str:
        """The artifact name for *path* (lstripped, prefixed), its place in the result kept."""
        name = path.replace("\\", "/") if "\\" in path else path
        for strip in self.options.lstrip_paths:
            if name.startswith(strip):
                name = name[len(strip) :]
                break
        if self.options.lstrip_paths and name in self.hashes:
            raise PrefixError(f"lstrip paths make two artifacts share the name {name!r}")
        key = prefix + name
        self.hashes.setdefault(key, {})  # filled when hashed; keeps the walk's order
        return key

    def _check(self, fd: int, what: str, path: str) -> None:
        """Refuse an opened descriptor that lies outside the base directory."""
        if not self.checked:
            return
        real = _descriptor_path(fd)
        if real is None:  # no kernel answer: the name's real path, if it is still this file
            real = os.path.realpath(os.path.join(self.root, path))
            opened, named = os.fstat(fd), os.stat(real)
            if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
                raise ConfigError(f"{what} {path!r} changed while it was recorded; try again")
        if real != self.real_root and not real.startswith(self.root_prefix):
            raise OutsideBaseError(what, path, self.root)

    def _add(self, fd: int, path: str, prefix: str, what: str | None) -> None:
        """Hash the opened *fd* as *path* if it is a regular file (checked if *what*)."""
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                _LOG.info("%s is not a regular file, skipped", path)
                os.close(fd)
                return
            if what is not None:
                self._check(fd, what, path)
            key = self._claim(path, prefix)
        except BaseException:
            os.close(fd)
            raise
        self.hasher.add(key, fd, info.st_size)

    def record(self, uri: str) -> None:
        prefix = ""
        if uri.startswith("file:"):
            prefix, uri = "file:", uri[len("file:") :]
        elif uri.startswith(("dir:", "ostree:")):
            raise ConfigError(f"artifact {uri!r}: the dir: and ostree: schemes are not supported")
        path = os.path.normpath(uri)
        if self.exclude(path):
            return
        full = os.path.join(self.root, path)
        try:
            info = os.stat(full)
        except OSError:
            _LOG.info("artifact %s does not exist, skipped", path)
            return
        if stat.S_ISREG(info.st_mode):
            try:
                fd = os.open(full, _THROUGH_FLAGS)
            except OSError as exc:
                if exc.errno not in _GONE_ERRNOS:
                    raise
                return
            self._add(fd, path, prefix, "path")
        elif stat.S_ISDIR(info.st_mode):
            try:
                fd = os.open(full, _DIR_FLAGS)
            except OSError as exc:
                if exc.errno not in _GONE_ERRNOS:
                    raise
                return
            try:
                self._check(fd, "path", path)
            except BaseException:
                os.close(fd)
                raise
            self._walk(fd, path, prefix)
        else:
            _LOG.info("artifact %s is not a file or directory, skipped", path)

    def _walk(self, top_fd: int, top: str, prefix: str) -> None:
        """Walk the directory open as *top_fd* (owned), depth first in sorted order."""
        active: set[tuple[int, int]] = set()  # the directories on the current path (loops)
        linked: set[tuple[int, int]] = set()  # directories already entered through a symlink
        stack: list[_Frame] = []
        try:
            fd: int | None = top_fd
            path, via_link = top, False
            while True:
                if fd is not None:
                    frame = self._enter(fd, path, via_link, active, linked, depth=len(stack))
                    if frame is not None:
                        active.add(frame.identity)
                        stack.append(frame)
                        self._list(frame, prefix)
                fd = None
                while stack and not stack[-1].subdirs:
                    done = stack.pop()
                    active.discard(done.identity)
                    os.close(done.fd)
                if not stack:
                    return
                self.deadline.check()
                parent = stack[-1]
                name, path, is_link = parent.subdirs.pop()
                opened = self._open_dir(parent.fd, name, path, is_link)
                if opened is not None:
                    fd, is_link = opened
                    via_link = parent.via_link or is_link
        finally:
            for frame in stack:
                os.close(frame.fd)

    def _enter(
        self,
        fd: int,
        path: str,
        via_link: bool,
        active: set[tuple[int, int]],
        linked: set[tuple[int, int]],
        *,
        depth: int,
    ) -> _Frame | None:
        """A frame for the directory *fd* (owned), or None if it is not to be walked."""
        try:
            info = os.fstat(fd)
            identity = (info.st_dev, info.st_ino)
            if identity in active:
                _LOG.info("symlink loop at %s, not entered again", path)
            elif via_link and identity in linked:
                _LOG.info("%s was recorded through another symlink, not entered again", path)
            elif depth >= MAX_DEPTH:
                raise ConfigError(f"{path!r} lies more than {MAX_DEPTH} directories deep")
            else:
                if via_link:
                    linked.add(identity)
                return _Frame(fd, path, identity, via_link)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return None

    def _list(self, frame: _Frame, prefix: str) -> None:
        """Hash the files of *frame*'s directory and note its subdirectories to enter."""
        directory = frame.path
        # directory is normalised and a name holds no "/": joining keeps it normal
        base = "" if directory == "." else directory if directory.endswith("/") else directory + "/"
        files: list[tuple[str, str]] = []
        excluded = self.exclude
        with os.scandir(frame.fd) as entries:
            for count, entry in enumerate(entries):
                if count % _DEADLINE_EVERY == _DEADLINE_EVERY - 1:
                    self.deadline.check()
                path = base + entry.name
                if excluded(path):
                    continue
                try:  # the file type from the listing; each is checked again once opened
                    if entry.is_file(follow_symlinks=False):
                        files.append((entry.name, path))
                    elif entry.is_dir(follow_symlinks=False):
                        frame.subdirs.append((entry.name, path, False))
                    elif entry.is_symlink():
                        self._through_link(frame.fd, entry.name, path, prefix, frame.subdirs)
                except FileNotFoundError:  # removed since it was listed
                    _LOG.info("%s vanished while recording, skipped", path)
        frame.subdirs.sort(reverse=True)  # popped from the end: sorted order
        if self.inline and not (prefix or self.mangle):
            self._small_files(frame.fd, files)
        else:
            for name, path in files:
                self._file(frame.fd, name, path, prefix)

    def _small_files(self, dir_fd: int, files: list[tuple[str, str]]) -> None:
        """:meth:`_file` for names that are their paths, small files hashed in one tight loop.

        The hot loop of every recording: one ``open`` (``O_NOFOLLOW`` in a directory inside the
        base: inside), ``fstat`` (a regular file), one ``read`` (the size plus one byte: a short
        read of a regular file is its end) and ``close`` per file. Anything else takes the
        general path.
        """
        hashes, sha256, is_regular = self.hashes, hashlib.sha256, stat.S_ISREG
        open_, fstat, read, close = os.open, os.fstat, os.read, os.close
        for name, path in files:
            try:
                fd = open_(name, _FILE_FLAGS, dir_fd=dir_fd)
            except OSError:
                self._file(dir_fd, name, path, "")  # it sorts out why
                continue
            owned = True
            try:
                info = fstat(fd)
                size = info.st_size
                if size < _INLINE_MAX and is_regular(info.st_mode) and "\\" not in path:
                    data = read(fd, size + 1)
                    if len(data) <= size:
                        hashes[path] = {"sha256": sha256(data).hexdigest()}
                        continue
                    os.lseek(fd, 0, os.SEEK_SET)  # it grew meanwhile: hashed whole below
                owned = False
                self._add(fd, path, "", None)  # takes the descriptor
            finally:
                if owned:
                    close(fd)

    def _file(self, dir_fd: int, name: str, path: str, prefix: str) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in _SYMLINK_ERRNOS:  # swapped for a symlink since it was listed
                self._through_link(dir_fd, name, path, prefix, None)
                return
            if exc.errno in _GONE_ERRNOS:
                _LOG.info("%s vanished while recording, skipped", path)
                return
            raise
        self._add(fd, path, prefix, None)  # O_NOFOLLOW in a directory inside the base: inside

    def _through_link(
        self,
        dir_fd: int,
        name: str,
        path: str,
        prefix: str,
        subdirs: list[tuple[str, str, bool]] | None,
    ) -> None:
        """A symlink: hash the file it leads to, or note the directory (unless *subdirs* None)."""
        try:
            info = os.stat(name, dir_fd=dir_fd)
        except OSError:
            _LOG.info("%s appears to be a broken symlink, skipped", path)
            return
        if stat.S_ISDIR(info.st_mode):
            if subdirs is not None and self.follow:
                subdirs.append((name, path, True))
            return
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device is never opened on purpose
            return
        try:
            fd = os.open(name, _THROUGH_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno not in _GONE_ERRNOS:
                raise
            return
        self._add(fd, path, prefix, "symlink")

    def _open_dir(
        self, parent: int, name: str, path: str, is_link: bool
    ) -> tuple[int, bool] | None:
        """Open subdirectory *name* of *parent*: (descriptor, reached through a symlink)."""
        flags = _DIR_FLAGS if is_link else _DIR_FLAGS | os.O_NOFOLLOW
        try:
            fd = os.open(name, flags, dir_fd=parent)
        except OSError as exc:
            if not is_link and exc.errno in _SYMLINK_ERRNOS and self.follow:
                return self._open_dir(parent, name, path, True)  # swapped for a symlink
            if exc.errno in _GONE_ERRNOS or exc.errno in _SYMLINK_ERRNOS:
                _LOG.info("%s vanished while recording, skipped", path)
                return None
            raise
        if is_link:
            try:
                self._check(fd, "symlink", path)
            except BaseException:
                os.close(fd)
                raise
        return fd, is_link


def _check_lstrip(prefixes: Sequence[str]) -> None:
    for a, b in combinations(prefixes, 2):
        if a.startswith(b) or b.startswith(a):
            raise PrefixError(f"lstrip paths {a!r} and {b!r} are prefixes of each other")


def record_artifacts(
    paths: Sequence[str], options: RecordOptions | None = None
) -> dict[str, dict[str, str]]:
    """Hash the files named by *paths* (files or directories) into an artifact dict.

    Args:
        paths: artifact paths relative to the base directory (``file:`` prefix allowed).
        options: exclude patterns, base path, symlink and line-ending handling, lstrip paths,
            timeout.

    Returns:
        Artifact name -> ``{"sha256": hex}``.

    Raises:
        PrefixError: overlapping lstrip prefixes or colliding stripped names.
        ConfigError: a path or symlink leads outside the base directory, an exclude pattern is
            invalid, a tree is deeper than :data:`MAX_DEPTH`, or an unsupported artifact scheme.
        CommandError: the recording took longer than ``options.timeout``.
        OSError: a file cannot be read.
    """
    options = options or RecordOptions()
    _check_lstrip(options.lstrip_paths)
    root = os.fspath(options.base_path) if options.base_path else "."
    if not os.path.isdir(root):
        raise ConfigError(f"base path {root!r} is not a directory")
    recorder = _Recorder(options, root)
    with recorder.hasher:
        for path in paths:
            recorder.deadline.check()
            recorder.record(path)
        recorder.hasher.finish()
    return recorder.hashes
