"""Running a step's command and recording the link, as ``in-toto-run`` does.

The command runs without a shell, in the current directory (or *cwd*), with a timeout. With
``record_streams`` its stdout and stderr are copied to ours while running and kept as text
(locale-decoded, newlines normalised); otherwise they are discarded and recorded as ``""``.
This module does not sign links or write files.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

from tufkit.intoto._errors import CommandError
from tufkit.intoto._files import check_name
from tufkit.intoto._models import Link
from tufkit.intoto._record import RecordOptions, record_artifacts

__all__ = ["DEFAULT_TIMEOUT", "run_command", "run_step"]

DEFAULT_TIMEOUT = 10.0  # seconds, the reference's default for link commands and inspections


def _pump(source: IO[str], sink: IO[str] | None, parts: list[str]) -> None:
    for chunk in iter(lambda: source.read(4096), ""):
        parts.append(chunk)
        if sink is not None:
            sink.write(chunk)
            sink.flush()


def run_command(
    argv: Sequence[str],
    *,
    record_streams: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    cwd: str | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Run *argv* and return the byproducts ``{"stdout", "stderr", "return-value"}``.

    Args:
        argv: program and arguments (no shell).
        record_streams: capture stdout/stderr as text (and copy them to ours if *echo*).
        timeout: seconds before the command is killed; None waits forever.
        cwd: working directory; the current one if None.
        echo: with *record_streams*, also write the streams to our stdout/stderr.

    Raises:
        CommandError: the command cannot be started or did not finish in time.
    """
    if not argv or not all(isinstance(part, str) for part in argv):
        raise CommandError(f"command must be a non-empty list of strings, got {list(argv)!r:.200}")
    stream = subprocess.PIPE if record_streams else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            list(argv), stdout=stream, stderr=stream, stdin=subprocess.DEVNULL, text=True, cwd=cwd
        )
    except OSError as exc:
        raise CommandError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from exc
    out: list[str] = []
    err: list[str] = []
    threads = []
    if record_streams:
        assert proc.stdout is not None
        assert proc.stderr is not None
        for source, sink, parts in (
            (proc.stdout, sys.stdout if echo else None, out),
            (proc.stderr, sys.stderr if echo else None, err),
        ):
            thread = threading.Thread(target=_pump, args=(source, sink, parts), daemon=True)
            thread.start()
            threads.append(thread)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise CommandError(f"command {list(argv)!r:.200} timed out after {timeout} s") from exc
    finally:
        for thread in threads:
            thread.join(timeout=5)
    return {"stdout": "".join(out), "stderr": "".join(err), "return-value": code}


def run_step(
    name: str,
    command: Sequence[str],
    *,
    materials: Sequence[str] = (),
    products: Sequence[str] = (),
    options: RecordOptions | None = None,
    record_streams: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Link:
    """Record materials, run *command* (unless empty), record products; return the link.

    Raises:
        InvalidMetadataError: *name* cannot name a link file (checked before anything runs).
        CommandError: the command cannot be started or timed out.
        PrefixError: bad lstrip paths.
        ConfigError: a path leads outside the base directory.
        OSError: an artifact cannot be read.
    """
    check_name(name)
    link = Link(name=name, materials=record_artifacts(materials, options) if materials else {})
    if command:
        link.byproducts = run_command(command, record_streams=record_streams, timeout=timeout)
        link.command = list(command)
    if products and not command and list(products) == list(materials):
        # nothing ran in between: the same recording (copied, so neither side aliases the other)
        link.products = {name: dict(hashes) for name, hashes in link.materials.items()}
    elif products:
        link.products = record_artifacts(products, options)
    return link
