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
    """Return (regex, negated) for one pattern line, or None for blanks and comments.

    The regex is searched for in a path (most are anchored at its start, none at its end). Its
    group ``d`` is set when the pattern matched a directory above the path, not the path itself.
    """
    line = _strip_trailing_spaces(line.rstrip("\n"))
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    body = line.strip("/") if dir_only else line.lstrip("/")
    if not body:
        return None
    segments = body.split("/")
    if "/" not in line.rstrip("/") and segments[0] != "**":
        segments.insert(0, "**")  # no inner slash: matches at any depth
    if dir_only:
        segments.append("**")
    segments = [seg for i, seg in enumerate(segments) if not (seg == "**" == segments[i - 1] and i)]
    if segments == ["**"]:  # everything: any path (or, for a dir pattern, anything below one)
        return ("(?P<d>/)" if dir_only else "."), negated
    return _assemble(segments, dir_only), negated


def _assemble(segments: list[str], dir_only: bool) -> str:
    out = ["^"]
    slash = False
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == 0:
                out.append("(?:.+/)?")
            elif index < last:
                out.append("(?:/.+)?")
                slash = True
            else:
                out.append("(?P<d>/)" if dir_only else "/")
            continue
        if slash:
            out.append("/")
        out.append("[^/]+" if segment == "*" else _segment(segment))
        if index == last:
            out.append("(?:(?P<d>/)|$)")
        slash = True
    return "".join(out)


class ExcludeFilter:
    """A compiled list of exclude patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        compiled = [translate(line) for line in patterns]
        self._rules = [(re.compile(r, re.DOTALL), neg) for r, neg in filter(None, compiled)]
        self._combined: re.Pattern[str] | None = None
        if self._rules and not any(neg for _, neg in self._rules):
            joined = "|".join(f"(?:{r.pattern.replace('?P<d>', '')})" for r, _ in self._rules)
            self._combined = re.compile(joined, re.DOTALL)

    def __call__(self, path: str) -> bool:
        """True if *path* (normalised, relative, ``/``-separated) is excluded.

        The last pattern that matches *path* itself decides; if none does, the last one that
        matches a directory above *path* decides (the reference's pathspec behaviour).
        """
        if self._combined is not None:
            return self._combined.search(path) is not None
        via_dir: bool | None = None
        for regex, negated in reversed(self._rules):
            found = regex.search(path)
            if found is None:
                continue
            if found.groupdict().get("d") is None:
                return not negated
            if via_dir is None:
                via_dir = not negated
        return bool(via_dir)
