"""The ``tufkit`` command line: thin click commands over the library.

Exit codes: 0 success, 1 verification or operation failed, 2 usage error. A tufkit
:class:`~tufkit.errors.Error` is printed as its diagnostics, never as a traceback. Subcommand
modules are imported only when their command runs, so ``tufkit --help`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

__all__ = ["main"]

# command name -> (module, attribute, short help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "key": ("tufkit.cli.key", "key", "Generate and inspect signing keys."),
    "client": ("tufkit.cli.client", "client", "Update from a TUF repository and download targets."),
    "metadata": ("tufkit.cli.metadata", "metadata", "Inspect and verify TUF metadata files."),
    "demo": ("tufkit.cli.demo", "demo", "Run the end-to-end demonstration."),
    "intoto": ("tufkit.cli.intoto", "intoto", "in-toto layouts, links and verification."),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use and whose errors become exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = getattr(module, entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry[2]) for name, entry in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from tufkit.errors import Error

        try:
            return super().invoke(ctx)
        except Error as exc:
            click.echo(f"error: {exc.diagnostics()}", err=True)
            ctx.exit(1)
        except OSError as exc:
            click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("TUFKIT_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(a bug in tufkit; set TUFKIT_DEBUG=1 to see where)",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="tufkit")
def main() -> None:
    """tufkit: secure software updates with TUF, content trust and in-toto."""


def run() -> None:  # pragma: no cover - used by python -m tufkit
    """Entry point for ``python -m tufkit``."""
    main(prog_name="tufkit", args=sys.argv[1:])
