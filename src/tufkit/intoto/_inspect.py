"""Inspection runners: how the verifier executes a layout's inspections.

:class:`WorkdirInspectionRunner` behaves like the reference: it records ``.`` in the working
directory, runs the command there with a timeout, records ``.`` again (each recording bounded by
the same timeout) and writes the unsigned ``<inspection>.link`` there. Unlike the reference, that
file is written to a new temporary file and renamed into place: a symlink (or hard link) the
inspected product planted under that name is replaced, never written through.
:class:`TemporaryCopyInspectionRunner` runs in a temporary copy of the directory, made once per
verification, and writes nothing at all: the user's tree is only read (and only regular files,
directories and symlinks are copied). This module does not apply rules or decide verdicts.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Protocol

from tufkit.intoto._envelope import Metablock
from tufkit.intoto._files import link_filename, write_metadata
from tufkit.intoto._models import Inspection, Link
from tufkit.intoto._record import RecordOptions, record_artifacts
from tufkit.intoto._run import run_command

__all__ = ["InspectionRunner", "TemporaryCopyInspectionRunner", "WorkdirInspectionRunner"]


class InspectionRunner(Protocol):
    """Runs one inspection and returns its (unsigned) link."""

    def __call__(self, inspection: Inspection, *, timeout: float | None) -> Link:
        """Record ``.``, run ``inspection.run``, record ``.`` again.

        Raises:
            CommandError: the command cannot be started or timed out.
        """
        ...


def _inspect_in(directory: str, inspection: Inspection, timeout: float | None) -> Link:
    options = RecordOptions(base_path=directory, timeout=timeout)  # each recording bounded too
    materials = record_artifacts(["."], options)
    byproducts = run_command(inspection.run, timeout=timeout, cwd=directory)
    byproducts["stdout"] = byproducts["stderr"] = ""
    products = record_artifacts(["."], options)
    return Link(
        name=inspection.name,
        materials=materials,
        products=products,
        byproducts=byproducts,
        command=list(inspection.run),
    )


class WorkdirInspectionRunner:
    """Run inspections in a directory (the current one by default), as the reference does."""

    def __init__(self, directory: str | os.PathLike[str] = ".", *, persist_links: bool = True):
        self.directory = os.fspath(directory)
        self.persist_links = persist_links

    def __call__(self, inspection: Inspection, *, timeout: float | None) -> Link:
        """Run *inspection* in the directory and write ``<name>.link`` there (if persisting).

        The link file replaces whatever is at that name (a symlink is not followed).

        Raises:
            CommandError: the command cannot be started or timed out.
            InvalidMetadataError: the inspection's name cannot name a file.
            OSError: the link file cannot be written.
        """
        if self.persist_links:
            filename = link_filename(inspection.name)  # checked before anything runs
        link = _inspect_in(self.directory, inspection, timeout)
        if self.persist_links:
            write_metadata(Path(self.directory) / filename, Metablock(link))
        return link


def _copy_regular(source: str, destination: str) -> None:
    """Copy one file for ``copytree``: regular files only (a FIFO or device would hang it)."""
    if not stat.S_ISREG(os.lstat(source).st_mode):
        raise OSError(errno.EINVAL, "not a regular file, not copied", source)
    shutil.copy2(source, destination)


class TemporaryCopyInspectionRunner:
    """Run inspections in a temporary copy of a directory; use as a context manager.

    Nothing is written into the source directory, and no link file is written at all.
    """

    def __init__(self, source: str | os.PathLike[str] = ".") -> None:
        self.source = os.fspath(source)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._inner: WorkdirInspectionRunner | None = None

    def __call__(self, inspection: Inspection, *, timeout: float | None) -> Link:
        """Run *inspection* in the copy (made on first use).

        Raises:
            CommandError: the command cannot be started or timed out.
            OSError: the directory cannot be copied (e.g. it holds a FIFO or a device).
        """
        if self._inner is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tufkit-inspect-")
            copy = os.path.join(self._tmp.name, "work")
            try:
                shutil.copytree(self.source, copy, symlinks=True, copy_function=_copy_regular)
            except shutil.Error as exc:  # a list of (source, destination, reason)
                source, _, reason = exc.args[0][0]
                raise OSError(f"cannot copy {source!r} for inspection: {reason}") from exc
            self._inner = WorkdirInspectionRunner(copy, persist_links=False)
        return self._inner(inspection, timeout=timeout)

    def close(self) -> None:
        """Delete the copy."""
        if self._tmp is not None:
            self._tmp.cleanup()
        self._tmp = None
        self._inner = None

    def __enter__(self) -> TemporaryCopyInspectionRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
