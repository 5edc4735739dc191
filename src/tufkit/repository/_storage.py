"""The storage a repository publishes to: the protocol, and the publish journal's format.

A backend stores published metadata files by name and one *journal*: the files that clients read
by name (root versions, unversioned names, timestamp) which a publish is about to write, saved
whole before the first of them. A publish killed half-way through them is finished from the
journal by the next :meth:`Repository.open <tufkit.repository.Repository.open>`, with the very
bytes first planned, so a version once visible is never re-signed with other bytes. The
journal format is pure (bytes in, files out) and checked like any input: a truncated or tampered
journal is refused, never half-applied.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import BinaryIO, Protocol

from tufkit.errors import StorageError

__all__ = ["Storage", "decode_journal", "encode_journal", "read_current_root"]

_MAX_ROOT_VERSIONS = 100_000  # root versions probed one by one: far beyond any real chain

_JOURNAL_FORMAT = "tufkit-publish-journal/1"


class Storage(Protocol):
    """Where a repository's published metadata lives.

    Every write replaces the whole file atomically: a reader sees the old bytes or the new ones.
    """

    def read_metadata(self, filename: str) -> bytes | None:
        """The bytes of published file *filename*, or None if there is none."""
        ...

    def write_metadata(self, filename: str, data: bytes) -> None:
        """Publish *data* as *filename*, atomically."""
        ...

    def write_target(self, name: str, content: bytes | BinaryIO) -> None:
        """Publish a target file's *content* as *name* (a checked, ``/``-separated relative
        path; with consistent snapshots, hash-prefixed), atomically."""
        ...

    def open_target(self, name: str) -> BinaryIO | None:
        """Open published target file *name* for reading (the caller closes it), or None."""
        ...

    def write_staged(self, role: str, data: bytes) -> None:
        """Save the staged file of *role* (a checked role name), atomically."""
        ...

    def read_staged(self) -> dict[str, bytes]:
        """Every staged file, by role name."""
        ...

    def remove_staged(self, role: str) -> None:
        """Forget *role*'s staged file (published, or abandoned)."""
        ...

    def flush(self) -> None:
        """Make every file written so far durable (survive a power cut)."""
        ...

    def read_journal(self) -> bytes | None:
        """The pending publish journal, or None."""
        ...

    def write_journal(self, data: bytes) -> None:
        """Save the publish journal, atomically and durably."""
        ...

    def remove_journal(self) -> None:
        """Forget the publish journal (the publish it described is complete)."""
        ...


def read_current_root(storage: Storage) -> tuple[str, bytes] | None:
    """The newest root a client following the repository would reach, and its file name.

    That is ``root.json``, or the highest ``N.root.json`` above it: clients probe for the next
    root version, and repositories made by other tools often publish no ``root.json`` at all.
    None if neither ``root.json`` nor ``1.root.json`` exists.

    Raises:
        StorageError: the storage failed, or ``root.json`` has no readable version.
    """
    found: tuple[str, bytes] | None = None
    version = 0
    data = storage.read_metadata("root.json")
    if data is not None:
        found = ("root.json", data)
        try:
            parsed = json.loads(data)["signed"]["version"]
        except (ValueError, TypeError, KeyError) as exc:
            raise StorageError("root.json is not root metadata with a version") from exc
        if type(parsed) is not int or parsed < 1:
            raise StorageError("root.json has no valid version")
        version = parsed
    for _ in range(_MAX_ROOT_VERSIONS):
        name = f"{version + 1}.root.json"
        data = storage.read_metadata(name)
        if data is None:
            return found
        found, version = (name, data), version + 1
    raise StorageError(f"more than {_MAX_ROOT_VERSIONS} root versions")


def encode_journal(files: Sequence[tuple[str, bytes]]) -> bytes:
    """The journal of a publish that writes *files* in this order."""
    entries = [[name, base64.b64encode(data).decode("ascii")] for name, data in files]
    body = json.dumps(entries, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    header = json.dumps({"format": _JOURNAL_FORMAT, "sha256": digest}).encode()
    return header + b"\n" + body


def decode_journal(data: bytes) -> list[tuple[str, bytes]]:
    """The files a journal lists, in write order.

    Raises:
        StorageError: not a journal this version wrote, or truncated or altered since.
    """
    try:
        header_line, body = data.split(b"\n", 1)
        header = json.loads(header_line)
        if header.get("format") != _JOURNAL_FORMAT:
            raise ValueError(f"unknown journal format {str(header.get('format'))[:40]!r}")
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise ValueError("journal does not match its checksum (truncated or altered)")
        entries = json.loads(body)
        files = [(str(name), base64.b64decode(text, validate=True)) for name, text in entries]
    except (ValueError, TypeError, AttributeError) as exc:
        raise StorageError(f"unreadable publish journal: {exc}") from exc
    return files
