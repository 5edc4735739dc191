"""Click commands that also accept the argparse spellings of the in-toto reference tools.

``in-toto-run`` and friends are argparse programs: an option may take several values at once
(``-m a b c``, ``--exclude '*.pyc' build``), a long option may be shortened to any unique prefix
(``--step`` for ``--step-name``), and an option with an optional value (``-g [<id>]``) takes the
next word unless it looks like an option. Click takes one value per occurrence and no prefixes, so
:class:`ReferenceCommand` rewrites the arguments into click's form before click parses them:
``-m a b c`` becomes ``-m a -m b -m c`` and ``--step x`` becomes ``--step-name x``. Everything
after ``--`` is left as it is. Usage errors (exit 2) have their text escaped for the terminal,
since it repeats what was typed. This module knows nothing of in-toto.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import click

from tufkit.cli._output import printable

__all__ = ["ASKED", "MultiOption", "ReferenceCommand", "ReferenceGroup"]

ASKED = "\x00"  # the value of an optional-value option given without one (argv holds no NUL)


class MultiOption(click.Option):
    """An option written argparse's way with several values: ``-m a b c`` (``nargs="+"``).

    With ``allow_empty`` it may also be given with none (``nargs="*"``); its value then holds
    :data:`ASKED` alone.
    """

    def __init__(self, *args: Any, allow_empty: bool = False, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)
        self.allow_empty = allow_empty


def _looks_like_option(word: str) -> bool:
    """argparse's test: a dash and more, and not a negative number or a phrase with spaces."""
    if len(word) < 2 or not word.startswith("-") or " " in word:
        return False
    try:
        float(word)
    except ValueError:
        return True
    return False


class _Table:
    """The options of one command, by every spelling."""

    def __init__(self, command: click.Command, ctx: click.Context) -> None:
        self.options: dict[str, click.Option] = {}
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    self.options[name] = param

    def expand(self, word: str) -> str:
        """``--step=x`` -> ``--step-name=x`` when the prefix names one long option only."""
        name, eq, value = word.partition("=")
        if name in self.options or not name.startswith("--") or len(name) < 3:
            return word
        matches = {n for n in self.options if n.startswith(name)}
        owners = {id(self.options[n]) for n in matches}
        if len(owners) == 1:
            return min(matches, key=len) + eq + value
        return word

    def takes_one_value(self, option: click.Option) -> bool:
        return not (option.is_flag or option.count or getattr(option, "_flag_needs_value", False))


def _rewrite(table: _Table, args: Sequence[str]) -> Iterator[str]:
    words = list(args)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            yield from words[i - 1 :]
            return
        word = table.expand(word) if word.startswith("--") else word
        name, eq, value = word.partition("=")
        if eq and name in table.options:  # --name=value, or -n=value as argparse reads it
            yield from (name, value)
            continue
        option = table.options.get(word)
        if isinstance(option, MultiOption):
            values: list[str] = []
            while i < len(words) and words[i] != "--" and not _looks_like_option(words[i]):
                values.append(words[i])
                i += 1
            if not values and option.allow_empty:
                values = [ASKED]
            if not values:
                raise click.BadOptionUsage(word, f"Option '{word}' requires an argument.")
            for item in values:
                yield from (word, item)
        elif option is not None and table.takes_one_value(option) and i < len(words):
            yield from (word, words[i])
            i += 1
        else:
            yield word


class _EscapedUsageError(click.UsageError):
    """A usage error whose text (which repeats what was typed) is escaped for the terminal."""

    def __init__(self, inner: click.UsageError, ctx: click.Context) -> None:
        text = printable(inner.format_message(), keep_newlines=True)
        super().__init__(text, ctx=inner.ctx or ctx)


def _escaped(exc: click.UsageError, ctx: click.Context) -> click.UsageError:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc  # the group's own help text
    return _EscapedUsageError(exc, ctx)


class ReferenceCommand(click.Command):
    """A click command whose arguments may also be written the way the reference's argparse
    takes them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            rewritten = list(_rewrite(_Table(self, ctx), args))
            return super().parse_args(ctx, rewritten)
        except click.UsageError as exc:
            raise _escaped(exc, ctx) from None


class ReferenceGroup(click.Group):
    """A group of :class:`ReferenceCommand` whose usage errors are escaped for the terminal."""

    command_class = ReferenceCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _escaped(exc, ctx) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _escaped(exc, ctx) from None
