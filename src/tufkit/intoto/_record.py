"""Recording artifacts: hashing files and directories as the reference's ``in-toto-run`` does.

Each path argument is stripped of a ``file:`` scheme, normalised, filtered by the exclude
patterns (gitignore semantics, defaults ``*.link*``, ``.git``, ``*.pyc``, ``*~``; given patterns
*replace* them), skipped if it does not exist, hashed if a file, walked if a directory (symlinked
directories followed, broken symlinks and special files skipped). Names use ``/``; ``lstrip_paths``
cuts the first matching prefix. Hash: SHA-256 of the bytes, optionally with CRLF and CR turned
into LF first.

Unlike the reference, paths and symlinks leading outside the base directory are refused unless
``unsafe_allow_outside_base`` is set, and symlink loops are walked once. This module does not run
commands or sign anything.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from tufkit.errors import ConfigError
from tufkit.intoto._errors import PrefixError
from tufkit.intoto._gitignore import ExcludeFilter

__all__ = ["DEFAULT_EXCLUDE_PATTERNS", "RecordOptions", "hash_file", "record_artifacts"]

_LOG = logging.getLogger(__name__)
DEFAULT_EXCLUDE_PATTERNS: tuple[str, ...] = ("*.link*", ".git", "*.pyc", "*~")
_CHUNK = 1024 * 1024  # bytes read per call while hashing


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
    """

    exclude_patterns: Sequence[str] | None = None
    base_path: str | os.PathLike[str] | None = None
    follow_symlink_dirs: bool = True
    normalize_line_endings: bool = False
    lstrip_paths: Sequence[str] = ()
    unsafe_allow_outside_base: bool = False


def hash_file(path: str | os.PathLike[str], *, normalize_line_endings: bool = False) -> str:
    """Return the lowercase hex SHA-256 of a file, optionally with line endings normalised.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        while True:
            data = os.read(fd, _CHUNK)
            if normalize_line_endings:
                while data.endswith(b"\r"):
                    more = os.read(fd, 1)
                    if not more:
                        break
                    data += more
                digest.update(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            else:
                digest.update(data)
            if len(data) < _CHUNK:  # a short read of a regular file is its end
                break
    finally:
        os.close(fd)
    return digest.hexdigest()


class _Recorder:
    def __init__(self, options: RecordOptions, root: str) -> None:
        for a, b in combinations(options.lstrip_paths, 2):
            if a.startswith(b) or b.startswith(a):
                raise PrefixError(f"lstrip paths {a!r} and {b!r} are prefixes of each other")
        self.options = options
        self.exclude = ExcludeFilter(list(options.exclude_patterns or DEFAULT_EXCLUDE_PATTERNS))
        self.root = root
        self.real_root = os.path.realpath(root)
        self.hashes: dict[str, dict[str, str]] = {}

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(os.path.join(self.root, path))
        return real == self.real_root or real.startswith(self.real_root.rstrip("/") + "/")

    def _check_inside(self, path: str, what: str) -> None:
        if not self.options.unsafe_allow_outside_base and not self._inside(path):
            raise ConfigError(
                f"{what} {path!r} leads outside the base directory {self.root!r}; "
                "refusing to record it (unsafe_allow_outside_base allows it)"
            )

    def _add(self, path: str, prefix: str, full: str) -> None:
        name = path.replace("\\", "/") if "\\" in path else path
        for strip in self.options.lstrip_paths:
            if name.startswith(strip):
                name = name[len(strip) :]
                break
        if self.options.lstrip_paths and name in self.hashes:
            raise PrefixError(f"lstrip paths make two artifacts share the name {name!r}")
        digest = hash_file(full, normalize_line_endings=self.options.normalize_line_endings)
        self.hashes[prefix + name] = {"sha256": digest}

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
        if not os.path.exists(full):
            _LOG.info("artifact %s does not exist, skipped", path)
            return
        self._check_inside(path, "path")
        if os.path.isfile(full):
            self._add(path, prefix, full)
        elif os.path.isdir(full):
            for file_path, file_full in self._walk(path):
                self._add(file_path, prefix, file_full)

    def _walk(self, top: str) -> Iterator[tuple[str, str]]:
        # Each entry carries the identities of its ancestors: a directory that is its own
        # ancestor (a symlink loop) is not entered again; siblings reached twice are.
        stack: list[tuple[str, frozenset[tuple[int, int]]]] = [(top, frozenset())]
        while stack:
            directory, ancestors = stack.pop()
            full = os.path.join(self.root, directory)
            try:
                info = os.stat(full)
                entries = list(os.scandir(full))
            except OSError as exc:
                _LOG.info("cannot list %s: %s", directory, exc)
                continue
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                _LOG.info("symlink loop at %s, not entered again", directory)
                continue
            inner = ancestors | {identity}
            subdirs: list[str] = []
            for entry in entries:
                # directory is normalised and a name holds no "/": joining keeps it normal
                if directory == ".":
                    path = entry.name
                elif directory.endswith("/"):
                    path = directory + entry.name
                else:
                    path = f"{directory}/{entry.name}"
                if self.exclude(path):
                    continue
                kind = self._kind(entry, path)
                if kind == "dir":
                    subdirs.append(path)
                elif kind == "file":
                    yield path, entry.path
            stack.extend((path, inner) for path in sorted(subdirs, reverse=True))

    def _kind(self, entry: os.DirEntry[str], path: str) -> str:
        """``"dir"`` to descend, ``"file"`` to hash, ``""`` to skip."""
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            return ""
        if is_link and (is_dir or is_file):
            self._check_inside(path, "symlink")
        if is_dir:
            return "dir" if not is_link or self.options.follow_symlink_dirs else ""
        return "file" if is_file else ""


def record_artifacts(
    paths: Sequence[str], options: RecordOptions | None = None
) -> dict[str, dict[str, str]]:
    """Hash the files named by *paths* (files or directories) into an artifact dict.

    Args:
        paths: artifact paths relative to the base directory (``file:`` prefix allowed).
        options: exclude patterns, base path, symlink and line-ending handling, lstrip paths.

    Returns:
        Artifact name -> ``{"sha256": hex}``.

    Raises:
        PrefixError: overlapping lstrip prefixes or colliding stripped names.
        ConfigError: a path or symlink leads outside the base directory, or an unsupported
            artifact scheme.
        OSError: a file cannot be read.
    """
    options = options or RecordOptions()
    root = os.fspath(options.base_path) if options.base_path else "."
    if not Path(root).is_dir():
        raise ConfigError(f"base path {root!r} is not a directory")
    recorder = _Recorder(options, root)
    for path in paths:
        recorder.record(path)
    return recorder.hashes
