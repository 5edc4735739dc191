"""Small helpers the CLI commands share: atomic private files, passphrase prompts, JSON output."""

from __future__ import annotations

from pathlib import Path

import click

from tufkit._atomic import write_atomically
from tufkit.cli._output import echo_json

__all__ = ["echo_json", "prompt_passphrase", "write_private_file"]


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write *data* to *path* atomically with mode 0600.

    Raises:
        click.ClickException: the file exists and *overwrite* is False.
    """
    if path.exists() and not overwrite:
        raise click.ClickException(f"{path} exists; pass --force to replace it")
    directory = path.parent if str(path.parent) else Path()
    if not directory.is_dir():
        raise click.ClickException(f"cannot write {path}: No such file or directory {directory}")
    write_atomically(path, data, mode=0o600)


def prompt_passphrase(what: str, *, confirm: bool = False) -> str:
    """Ask for a passphrase on the terminal.

    Raises:
        click.UsageError: there is no terminal to ask on (a script, a service): the message
            names the option that gives the passphrase instead.
    """
    if not _has_terminal():
        instead = "--passphrase-env NAME" + (" or --no-encrypt" if confirm else "")
        raise click.UsageError(f"no terminal to ask for the passphrase of {what}; use {instead}")
    value: str = click.prompt(
        f"Passphrase for {what}", hide_input=True, confirmation_prompt=confirm
    )
    return value


def _has_terminal() -> bool:
    """Whether a passphrase prompt can be answered: a controlling terminal, or stdin is one."""
    import os
    import sys

    try:
        os.close(os.open("/dev/tty", os.O_RDWR | getattr(os, "O_CLOEXEC", 0)))
    except OSError:
        return sys.stdin is not None and sys.stdin.isatty()
    return True
