"""Target files: the paths a repository accepts, their published names, and hashing them.

A target path is what clients ask for and what the repository's storage turns into a file name,
so it must be a relative ``/``-separated path without empty, ``.`` or ``..`` segments, without
``\\``, NUL or other control characters. With consistent snapshots a target is published as
``dir/<hex digest>.<name>``, once per listed hash algorithm, so a client that fetched one
snapshot's metadata always finds the matching bytes. Hashing reads files in chunks and runs in a
thread pool for many files (hashlib releases the GIL). Nothing here decides which role lists a
target.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from tufkit.errors import ConfigError
from tufkit.metadata import HASH_ALGORITHMS, TargetFile, hash_digests

__all__ = ["Source", "check_target_path", "hash_sources", "published_target_names"]

#: A target's content: bytes in memory, or the path of a local file.
Source = bytes | str | os.PathLike[str]

_MAX_PATH = 4096  # characters


def check_target_path(path: object) -> str:
    """Return *path* if it is a target path that is safe to publish.

    Raises:
        ConfigError: not a string, empty or too long, absolute, with an empty, ``.`` or ``..``
            segment, a backslash, or a control character.
    """
    if not isinstance(path, str):
        raise ConfigError(f"a target path must be a string, not {type(path).__name__}")
    shown = repr(path[:80])
    if not path or len(path) > _MAX_PATH:
        raise ConfigError(f"target path {shown} must have 1 to {_MAX_PATH} characters")
    if "\\" in path or not path.isprintable():
        raise ConfigError(f"target path {shown} must not contain '\\' or control characters")
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise ConfigError(f"target path {shown} must be relative, without empty, '.' or '..' parts")
    return path


def published_target_names(target: TargetFile, *, consistent: bool) -> list[str]:
    """The storage names of *target*: one per hash with consistent snapshots, else its path."""
    if not consistent:
        return [target.path]
    head, _, base = target.path.rpartition("/")
    prefix = f"{head}/" if head else ""
    return [f"{prefix}{digest}.{base}" for digest in dict.fromkeys(target.hashes.values())]


def _hash_one(source: Source, algorithms: Sequence[str]) -> tuple[int, dict[str, str]]:
    if isinstance(source, bytes):
        return hash_digests(source, algorithms)
    try:
        with open(source, "rb") as handle:
            return hash_digests(handle, algorithms)
    except OSError as exc:
        raise ConfigError(f"cannot read {os.fspath(source)}: {exc.strerror or exc}") from exc


def hash_sources(
    items: Iterable[tuple[str, Source]], algorithms: Sequence[str] = ("sha256",)
) -> list[TargetFile]:
    """Describe each (path, content) pair as a :class:`TargetFile`, hashing in parallel.

    Raises:
        ConfigError: a bad target path, a file that cannot be read, or an unknown algorithm.
    """
    pairs = [(check_target_path(path), source) for path, source in items]
    if not algorithms:
        raise ConfigError("at least one hash algorithm is needed")
    unknown = [name for name in algorithms if name not in HASH_ALGORITHMS]
    if unknown:
        raise ConfigError(
            f"unknown hash algorithm {unknown[0][:40]!r} (known: {', '.join(HASH_ALGORITHMS)})"
        )
    workers = min(8, (os.cpu_count() or 1) + 1, max(1, len(pairs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        digests = list(pool.map(lambda pair: _hash_one(pair[1], algorithms), pairs))
    return [
        TargetFile(length, hashes, path)
        for (path, _), (length, hashes) in zip(pairs, digests, strict=True)
    ]
