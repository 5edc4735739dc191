"""The ``tufkit`` command line: thin click commands over the library.

Exit codes: 0 success, 1 verification or operation failed, 2 usage error (a missing, malformed
or contradictory option), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A failure is
printed as one diagnostic line, never a traceback, with every character that could act on a
terminal escaped; with ``--json`` it is one JSON error object on standard output instead (see
:func:`tufkit.cli._output.error_object`). SIGTERM unwinds like Ctrl-C, so a download being
written removes its temporary file. Subcommand modules are imported only when their command
runs, so ``tufkit --help`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

__all__ = ["main"]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM

# command name -> (module, attribute, short help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "key": ("tufkit.cli.key", "key", "Generate and inspect signing keys."),
    "client": ("tufkit.cli.client", "client", "Update from a TUF repository and download targets."),
    "metadata": ("tufkit.cli.metadata", "metadata", "Inspect and verify TUF metadata files."),
    "demo": ("tufkit.cli.demo", "demo", "Run the end-to-end demonstration."),
    "intoto": ("tufkit.cli.intoto", "intoto", "in-toto layouts, links and verification."),
    "repo": ("tufkit.cli.repo", "repo", "Create, sign and publish a TUF repository."),
}


class _Terminated(BaseException):
    """SIGTERM arrived: unwinds like KeyboardInterrupt so that clean-ups run."""


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

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; report any failure as a diagnostic and an exit code."""
        argv = list(sys.argv[1:] if args is None else args)

        def run() -> Any:
            return super(_LazyGroup, self).main(
                argv, prog_name, complete_var, standalone_mode=False, **extra
            )

        with _sigterm_unwinds():
            code = _report_failures(run, as_json=_wants_json(argv))
        if standalone_mode:
            sys.exit(code)
        return code


def _wants_json(argv: list[str]) -> bool:
    """Whether ``--json`` was asked for (also when parsing the command line itself fails)."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in options


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`_Terminated` (in the main thread only)."""
    import signal

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (an embedding test runner): leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report_failures(run: Callable[[], Any], *, as_json: bool) -> int:
    """Call *run*; return its exit code, printing a diagnostic for every failure."""
    from tufkit.errors import Error

    try:
        result = run()
    except Error as exc:
        return _fail(exc, str(exc) or "no details", EXIT_FAILED, as_json, exc.diagnostics())
    except click.UsageError as exc:
        return _fail(exc, exc.format_message(), EXIT_USAGE, as_json, _usage_text(exc))
    except click.ClickException as exc:
        return _fail(exc, exc.format_message(), exc.exit_code, as_json)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            return _fail(KeyboardInterrupt(), "interrupted", EXIT_INTERRUPTED, as_json)
        return _fail(exc, "aborted: no answer to a prompt", EXIT_FAILED, as_json)
    except KeyboardInterrupt as exc:
        return _fail(exc, "interrupted", EXIT_INTERRUPTED, as_json)
    except _Terminated as exc:
        return _fail(exc, "terminated", EXIT_TERMINATED, as_json)
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (e.g. `| head`): nothing left to tell it
        return EXIT_FAILED
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        return _fail(exc, text, EXIT_FAILED, as_json)
    except Exception as exc:
        if os.environ.get("TUFKIT_DEBUG"):
            raise
        text = f"internal error: {type(exc).__name__}: {exc}"
        hint = " (a bug in tufkit; set TUFKIT_DEBUG=1 to see where)"
        return _fail(exc, text, EXIT_FAILED, as_json, text + hint)
    return result if isinstance(result, int) else 0


def _fail(
    exc: BaseException, message: str, code: int, as_json: bool, text: str | None = None
) -> int:
    """Print one failure: a JSON error object on stdout, or an escaped line on stderr."""
    from tufkit.cli._output import echo_json, error_object, printable

    if as_json:
        echo_json(error_object(exc, message, code))
    elif text is not None and isinstance(exc, click.UsageError):
        click.echo(printable(text, keep_newlines=True), err=True)
    else:
        click.echo(f"error: {printable(text if text is not None else message)}", err=True)
    return code


def _usage_text(exc: click.UsageError) -> str:
    """What click would print for a usage error: usage line, help hint and message."""
    import io

    buffer = io.StringIO()
    exc.show(file=buffer)
    return buffer.getvalue().rstrip("\n")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="tufkit")
def main() -> None:
    """tufkit: secure software updates with TUF, content trust and in-toto."""


def run() -> None:  # pragma: no cover - used by python -m tufkit
    """Entry point for ``python -m tufkit``."""
    main(prog_name="tufkit", args=sys.argv[1:])
