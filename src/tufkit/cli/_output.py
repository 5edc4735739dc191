"""Text from metadata made safe for a terminal.

Role names, target paths, custom fields, file names and error messages can come from a hostile
repository or supply chain. Printed raw, control characters in them move the cursor, rewrite
earlier lines, change colours or set the window title, and bidirectional overrides reorder what a
reader sees. :func:`printable` escapes every such character so that what reaches the terminal is
exactly what the data says, visibly. It does not shorten text or decide what is trusted.
"""

from __future__ import annotations

__all__ = ["printable"]


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Return *text* with every character that could act on a terminal escaped.

    Escaped: C0 and C1 controls, format characters (bidirectional overrides and isolates,
    zero-width characters), line and paragraph separators, spaces other than U+0020 (look-alikes),
    surrogates, private-use and unassigned code points: whatever ``str.isprintable`` refuses.

    Args:
        text: any text, possibly hostile.
        keep_newlines: leave ``\\n`` as is (for multi-line messages tufkit itself composed);
            every other control character, tab included, is still escaped.

    A backslash is left alone, so the result is for people to read, not to parse back.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, at C speed
    out: list[str] = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        else:
            out.append(char if char.isprintable() else _escape(char))
    return "".join(out)
