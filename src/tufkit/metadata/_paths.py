"""Which delegated role is responsible for a target path: globs, hash prefixes, succinct bins.

Path patterns match segment by segment, split on ``/``, case-sensitively, identically on every
operating system: ``*`` matches any run of characters within one segment, ``?`` one character,
``[...]`` / ``[!...]`` one character of (not of) a set; a pattern matches only a path with the same
number of segments. No ``fnmatch`` or ``os.path`` is involved. Hash prefixes and succinct bins use
the SHA-256 of the path's UTF-8 bytes (the path string, not the file content).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["compile_pattern", "path_hash", "succinct_bin"]

_SET_SPECIAL = re.compile(r"[\\\]\[^&~|]|(?<=-)-")


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = i
            if end < n and segment[end] == "!":
                end += 1
            if end < n and segment[end] == "]":
                end += 1
            while end < n and segment[end] != "]":
                end += 1
            if end >= n:
                out.append(re.escape(char))  # an unclosed '[' is literal
                continue
            body = segment[i:end]
            i = end + 1
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            # Escape what the regex set syntax reads differently: a leading ']' stops being first
            # once '/' is prepended; '[' opens nested sets; '&&' '~~' '||' '--' are set operations.
            body = _SET_SPECIAL.sub(r"\\\g<0>", body)
            out.append(f"[^/{body}]" if negate else f"(?!/)[{body}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a TUF path pattern into a regular expression for ``fullmatch``.

    Raises:
        ValueError: the pattern holds a character set that is not valid (e.g. ``[z-a]``).
    """
    regex = "/".join(_translate_segment(segment) for segment in pattern.split("/"))
    try:
        return re.compile(regex, re.DOTALL)
    except re.error as exc:
        raise ValueError(f"path pattern {pattern[:80]!r} is not valid: {exc}") from exc


def path_hash(path: str) -> str:
    """The hex SHA-256 of *path* encoded as UTF-8."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def succinct_bin(path: str, bit_length: int) -> int:
    """The succinct hash bin (TAP 15) of *path*: the first *bit_length* bits of its SHA-256."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - bit_length)
