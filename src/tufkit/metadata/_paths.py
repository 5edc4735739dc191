"""Which delegated role is responsible for a target path: globs, hash prefixes, succinct bins.

Path patterns match segment by segment, split on ``/``, case-sensitively, identically on every
operating system: a pattern matches only a path with the same number of segments, and each
segment matches by shell-style rules (``*`` any run of characters, ``?`` one character,
``[...]`` / ``[!...]`` one character of / not of a set; a set with a reversed range such as
``[z-a]`` drops that range). Segments are compiled with :func:`fnmatch.translate`, which is pure;
``fnmatch.fnmatch`` (which folds case on some systems) and ``os.path`` are never used. Hash
prefixes and succinct bins use the SHA-256 of the path's UTF-8 bytes (the path string, not the
file content).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["PathPattern", "path_hash", "succinct_bin"]


class PathPattern:
    """A compiled TUF path pattern.

    Attributes:
        pattern: the pattern as written in metadata.
    """

    __slots__ = ("_segments", "pattern")

    def __init__(self, pattern: str) -> None:
        import fnmatch  # deferred: most clients never see a path pattern

        self.pattern = pattern
        self._segments = [re.compile(fnmatch.translate(s)) for s in pattern.split("/")]

    def matches(self, target_path: str) -> bool:
        """True if *target_path* has as many segments as the pattern and each one matches."""
        segments = target_path.split("/")
        if len(segments) != len(self._segments):
            return False
        return all(
            rx.match(seg) is not None for rx, seg in zip(self._segments, segments, strict=True)
        )

    def __repr__(self) -> str:
        return f"PathPattern({self.pattern!r})"


def path_hash(path: str) -> str:
    """The hex SHA-256 of *path* encoded as UTF-8."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def succinct_bin(path: str, bit_length: int) -> int:
    """The succinct hash bin (TAP 15) of *path*: the first *bit_length* bits of its SHA-256."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - bit_length)
