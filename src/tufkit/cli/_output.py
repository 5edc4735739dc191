"""Text from metadata made safe for a terminal.

Role names, target paths, custom fields, file names and error messages can come from a hostile
repository or supply chain. Printed raw, control characters in them move the cursor, rewrite
earlier lines, change colours or set the window title, and bidirectional overrides reorder what a
reader sees. :func:`printable` escapes every such character so that what reaches the terminal is
exactly what the data says, visibly. It does not shorten text or decide what is trusted.

Every human-readable line the CLI prints goes through :func:`echo` (fields from data escaped one
by one with :func:`printable` before), every JSON document through :func:`echo_json` (ASCII only:
the encoder escapes every control and non-ASCII character), and a failure becomes one
:func:`error_object` under ``--json``. :func:`progress_bar` imports rich, and only when a bar is
really shown. This module imports nothing at start-up: ``tufkit client`` stays lean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tufkit.errors import Error

__all__ = [
    "echo",
    "echo_json",
    "error_category",
    "error_object",
    "in_file",
    "printable",
    "progress_bar",
]


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


def echo(text: str, *, err: bool = False) -> None:
    """Print one message of tufkit's own (fields already escaped) with a final safety net.

    Newlines tufkit put there stay; any other control character that slipped through is escaped.
    """
    import click

    click.echo(printable(text, keep_newlines=True), err=err)


def echo_json(value: Any) -> None:
    """Print *value* as indented JSON made of printable ASCII only (plus newlines).

    ``ensure_ascii`` makes the encoder escape every non-ASCII character (C1 controls,
    bidirectional overrides) as well as every control character (``DEL`` included), so the raw
    stream carries nothing a terminal acts on while a JSON reader gets the exact strings back.
    """
    import json

    import click

    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True))


# the error tree's branches, most specific first: what ``category`` says in a JSON error object
_CATEGORIES = (
    ("RepositoryError", "repository"),
    ("DownloadError", "download"),
    ("StorageError", "storage"),
    ("SupplyChainError", "supply-chain"),
    ("ConfigError", "config"),
    ("TargetNotFoundError", "not-found"),
    ("UsageError", "usage"),
    ("ClickException", "operation"),
    ("OSError", "os"),
    ("KeyboardInterrupt", "interrupted"),
    ("_Terminated", "interrupted"),
    ("Abort", "interrupted"),
)


def error_category(exc: BaseException) -> str:
    """Who is at fault, in one word: the branch of the error tree *exc* belongs to."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for name, category in _CATEGORIES:
        if name in names:
            return category
    return "internal"


def error_object(exc: BaseException, message: str, exit_code: int) -> dict[str, Any]:
    """The ``--json`` form of a failure: ``{"error": {type, category, message, exit_code}}``.

    Args:
        exc: what failed.
        message: the text for people (not escaped: the JSON encoder escapes it).
        exit_code: the process exit code that goes with it.
    """
    return {
        "error": {
            "type": type(exc).__name__,
            "category": error_category(exc),
            "message": message,
            "exit_code": exit_code,
        }
    }


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Show a progress bar on standard error for the block; yield ``advance(nbytes)``.

    Imports rich, so call it only when standard error is a terminal and the download is large.
    *label* is escaped here (rich would otherwise read ``[...]`` in it as markup).
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress("{task.description}", *columns, console=console, transient=True) as bar:
        task = bar.add_task(escape(printable(label)), total=total)

        def advance(nbytes: int) -> None:
            bar.update(task, advance=nbytes)

        yield advance


def in_file(path: str, exc: Error) -> Error:
    """*exc* again (same class), its message naming the file *path* it is about."""
    from tufkit.errors import ConfigError

    message = f"{path}: {exc}"
    try:
        return type(exc)(message)
    except TypeError:  # an error class that takes more than a message
        return ConfigError(message)
