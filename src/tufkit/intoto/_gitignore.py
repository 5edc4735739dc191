"""Exclude patterns with gitignore semantics, as the reference applies them while recording.

``*`` and ``?`` do not cross ``/``; ``**`` does; a pattern with a ``/`` other than a trailing
one is anchored at the recording root, one without matches at any depth; a trailing ``/`` matches
only what lies below a directory of that name; ``!`` re-includes; the last matching pattern
decides; ``#`` starts a comment; ``\\`` escapes. A match of a path also excludes everything below
it. This module does not walk directories.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["ExcludeFilter"]


def _segment(text: str) -> str:
    """Translate one path segment (no ``/``, not ``**``) to a regex."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        i += 1
        if char == "\\" and i < n:
            out.append(re.escape(text[i]))
            i += 1
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = i
            if end < n and text[end] in "!^":
                end += 1
            if end < n and text[end] == "]":
                end += 1
            while end < n and text[end] != "]":
                end += 1
            if end >= n:
                out.append("\\[")
                continue
            body = text[i:end]
            i = end + 1
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            out.append(f"[{'^' if negate else ''}{body}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "
    return stripped


def translate(line: str) -> tuple[str, bool] | None:
    """Return (regex, negated) for one pattern line, or None for blanks and comments."""
    line = _strip_trailing_spaces(line.rstrip("\n"))
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line in ("/", ""):
        return None
    dir_only = line.endswith("/")
    line = line.rstrip("/") if dir_only else line
    anchored = "/" in line
    parts = [part for part in line.lstrip("/").split("/") if part != ""] or [""]
    pieces: list[str] = []
    open_end = False  # True when the last piece already ends at a segment boundary
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            if index == 0 and last:
                pieces.append(".+")
            elif index == 0:
                pieces.append("(?:.+/)?")
                anchored = True
                open_end = True
            elif last:
                pieces.append("/.*")
            else:
                pieces.append("(?:/.+)?/")
                open_end = True
            continue
        if pieces and not open_end:
            pieces.append("/")
        pieces.append(_segment(part))
        open_end = False
    body = "".join(pieces)
    prefix = "" if anchored else "(?:.+/)?"
    suffix = "" if body.endswith(".*") or body == ".+" else "/.*" if dir_only else "(?:/.*)?"
    return f"^{prefix}{body}{suffix}$", negated


class ExcludeFilter:
    """A compiled list of exclude patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        compiled = [translate(line) for line in patterns]
        self._rules = [(re.compile(r, re.DOTALL), neg) for r, neg in filter(None, compiled)]
        self._combined: re.Pattern[str] | None = None
        if self._rules and not any(neg for _, neg in self._rules):
            joined = "|".join(f"(?:{r.pattern})" for r, _ in self._rules)
            self._combined = re.compile(joined, re.DOTALL)

    def __call__(self, path: str) -> bool:
        """True if *path* (normalised, relative, ``/``-separated) is excluded."""
        if self._combined is not None:
            return self._combined.match(path) is not None
        excluded = False
        for regex, negated in self._rules:
            if excluded == negated and regex.match(path) is not None:
                excluded = not negated
        return excluded
