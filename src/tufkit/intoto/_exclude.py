"""Exclude patterns, matched by pathspec's gitignore rules exactly as the reference matches them.

The reference (in-toto 3.1.0) compiles its exclude patterns with ``pathspec``'s
``GitIgnoreSpec`` and asks it about each normalised path; so does this module, so a pattern
means the same in both (``*`` and ``?`` stay within a ``/`` segment, ``**`` crosses them, a
pattern with an inner ``/`` is anchored, a trailing ``/`` matches below a directory, ``!``
re-includes, a file match beats a directory match, and the odd cases: names holding newlines,
an unclosed ``[``, trailing tabs, escaped backslashes, a leading ``//``). When no pattern
re-includes (the defaults, and most lists), pathspec's regular expressions are joined into one,
which answers the same question several times faster. A pattern pathspec rejects is a
:class:`~tufkit.errors.ConfigError` naming it. This module does not walk directories.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from tufkit.errors import ConfigError

__all__ = ["ExcludeFilter"]

_DIR_GROUP = "(?P<ps_d>"  # pathspec's one named group ("the match was a directory above")


def _compile(patterns: Sequence[str]) -> Any:
    """pathspec's GitIgnoreSpec for *patterns* (imported only when patterns are compiled)."""
    from pathspec import GitIgnoreSpec

    for line in patterns:
        if not isinstance(line, str):
            raise ConfigError(f"exclude pattern {line!r} is not a string")
    with warnings.catch_warnings():  # re's "possible nested set" for "[[]" is no news to users
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return GitIgnoreSpec.from_lines(list(patterns))
        except ValueError:
            for line in patterns:  # name the culprit
                try:
                    GitIgnoreSpec.from_lines([line])
                except ValueError as exc:
                    raise ConfigError(f"invalid exclude pattern {line!r}: {exc}") from exc
            raise


def _joined(spec: Any) -> Callable[[str], object] | None:
    """One regex's ``search`` answering like *spec*, if no pattern re-includes; else None."""
    regexes = [pattern.regex for pattern in spec.patterns if pattern.include is not None]
    if not regexes:
        return lambda _path: None
    if any(not pattern.include for pattern in spec.patterns if pattern.regex):
        return None
    flags = {regex.flags for regex in regexes}
    sources = [regex.pattern for regex in regexes]
    if len(flags) != 1 or not all(isinstance(source, str) for source in sources):
        return None
    # Escaped text never holds "(?P<" (re.escape turns "(" into "\("): only the group is renamed.
    joined = "|".join(f"(?:{source.replace(_DIR_GROUP, '(?:')})" for source in sources)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(joined, flags.pop()).search
    except re.error:
        return None


class ExcludeFilter:
    """A compiled list of exclude patterns; call it with a path to ask whether it is excluded."""

    def __init__(self, patterns: Sequence[str]) -> None:
        """Compile *patterns* (gitignore lines).

        Raises:
            ConfigError: a pattern is not a string or pathspec rejects it.
        """
        self._spec = _compile(patterns)
        self._search = _joined(self._spec)

    def __call__(self, path: str) -> bool:
        """True if *path* (normalised, ``/``-separated) is excluded, as pathspec decides."""
        search = self._search
        if search is None:
            return bool(self._spec.match_file(path))
        if path.startswith("/"):  # pathspec's own normalisation (separators are already "/")
            path = path[1:]
        elif path.startswith("./"):
            path = path[2:]
        return search(path) is not None
