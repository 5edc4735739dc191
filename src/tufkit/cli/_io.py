"""Small helpers the CLI commands share: atomic private files, passphrase prompts, JSON output."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

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
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prompt_passphrase(what: str, *, confirm: bool = False) -> str:
    """Ask for a passphrase on the terminal."""
    value: str = click.prompt(
        f"Passphrase for {what}", hide_input=True, confirmation_prompt=confirm
    )
    return value


def echo_json(value: Any) -> None:
    """Print *value* as indented JSON."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))
