"""A repository storage held in memory: for tests, and for building metadata to hand elsewhere."""

from __future__ import annotations

import io
from typing import BinaryIO

__all__ = ["MemoryStorage"]


class MemoryStorage:
    """:class:`~tufkit.repository.Storage` in a dict; lost with the process.

    Attributes:
        files: metadata file name -> bytes, as published.
        targets: target file name -> bytes, as published.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.targets: dict[str, bytes] = {}
        self.staged: dict[str, bytes] = {}
        self._journal: bytes | None = None

    def read_metadata(self, filename: str) -> bytes | None:
        """The bytes of published file *filename*, or None."""
        return self.files.get(filename)

    def write_metadata(self, filename: str, data: bytes) -> None:
        """Publish *data* as *filename*."""
        self.files[filename] = bytes(data)

    def write_target(self, name: str, content: bytes | BinaryIO) -> None:
        """Publish a target file."""
        self.targets[name] = bytes(content) if isinstance(content, bytes) else content.read()

    def open_target(self, name: str) -> BinaryIO | None:
        """Open a published target file, or None."""
        data = self.targets.get(name)
        return io.BytesIO(data) if data is not None else None

    def write_staged(self, role: str, data: bytes) -> None:
        """Save a staged file."""
        self.staged[role] = bytes(data)

    def read_staged(self) -> dict[str, bytes]:
        """Every staged file, by role name."""
        return dict(self.staged)

    def remove_staged(self, role: str) -> None:
        """Forget a staged file."""
        self.staged.pop(role, None)

    def flush(self) -> None:
        """Nothing to do: memory is as durable as it gets."""

    def read_journal(self) -> bytes | None:
        """The pending publish journal, or None."""
        return self._journal

    def write_journal(self, data: bytes) -> None:
        """Save the publish journal."""
        self._journal = bytes(data)

    def remove_journal(self) -> None:
        """Forget the publish journal."""
        self._journal = None
