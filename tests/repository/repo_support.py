"""Keys, roots and python-tuf as an oracle, for the repository-library tests.

``pytuf_client`` runs python-tuf's ngclient (the reference client) against whatever a storage
holds at that moment, through a fetcher that reads the storage directly, so a test can ask "what
does a real client make of the repository right now?" at any point, including half-way through
an interrupted publish.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import FetcherInterface, Updater

from tufkit.client import Updater as TufkitUpdater
from tufkit.crypto import CryptoSigner, generate
from tufkit.errors import DownloadHTTPError as TufkitHTTPError
from tufkit.errors import DownloadLengthMismatchError as TufkitLengthError
from tufkit.metadata import Role, Root
from tufkit.repository import Storage

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class Keys:
    """One fresh ed25519 signer per top-level role, and spares for rotations and delegations."""

    root: list[CryptoSigner] = field(default_factory=lambda: [generate(), generate()])
    targets: list[CryptoSigner] = field(default_factory=lambda: [generate()])
    snapshot: list[CryptoSigner] = field(default_factory=lambda: [generate()])
    timestamp: list[CryptoSigner] = field(default_factory=lambda: [generate()])
    spare: list[CryptoSigner] = field(default_factory=lambda: [generate() for _ in range(4)])

    def all(self) -> list[CryptoSigner]:
        return [*self.root, *self.targets, *self.snapshot, *self.timestamp]


def make_root(keys: Keys, *, root_threshold: int = 2) -> Root:
    """A root naming *keys*' signers (root 2-of-2 by default, others 1-of-1)."""
    root = Root(
        roles={
            "root": Role([], root_threshold),
            "targets": Role([], 1),
            "snapshot": Role([], 1),
            "timestamp": Role([], 1),
        }
    )
    for role in ("root", "targets", "snapshot", "timestamp"):
        for signer in getattr(keys, role):
            root.add_key(signer.public_key, role)
    return root


class StorageFetcher(FetcherInterface):
    """python-tuf fetcher that serves a storage's metadata and a dict of target files."""

    def __init__(self, storage: Storage, targets: dict[str, bytes]) -> None:
        self.storage = storage
        self.targets = targets
        self.requests: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        self.requests.append(url)
        kind, _, name = url.removeprefix("http://repo/").partition("/")
        data = (
            self.storage.read_metadata(unquote(name))
            if kind == "metadata"
            else self.targets.get(unquote(name))
        )
        if data is None:
            raise DownloadHTTPError("not found", 404)
        return iter([data])


PyTufClient = Callable[..., Updater]


def pytuf_client_factory(tmp_path: Path) -> PyTufClient:
    """``make(storage, bootstrap, targets={})`` -> a refreshed python-tuf Updater."""
    counter = iter(range(1000))

    def make(
        storage: Storage, bootstrap: bytes, targets: dict[str, bytes] | None = None, **kw: Any
    ) -> Updater:
        directory = kw.pop("directory", None) or tmp_path / f"client{next(counter)}"
        os.makedirs(directory, exist_ok=True)
        updater = Updater(
            bootstrap=bootstrap,
            metadata_dir=str(directory),
            metadata_base_url="http://repo/metadata/",
            target_base_url="http://repo/targets/",
            target_dir=str(tmp_path / "downloads"),
            fetcher=StorageFetcher(storage, targets or {}),
        )
        updater.refresh()
        return updater

    return make


class TufkitStorageFetcher:
    """tufkit client fetcher over a storage's metadata and a dict of target files."""

    def __init__(self, storage: Storage, targets: dict[str, bytes]) -> None:
        self.storage = storage
        self.targets = targets

    def fetch(self, url: str, max_length: int) -> bytes:
        kind, _, name = url.removeprefix("http://repo/").partition("/")
        data = (
            self.storage.read_metadata(unquote(name))
            if kind == "metadata"
            else self.targets.get(unquote(name))
        )
        if data is None:
            raise TufkitHTTPError("not found", 404)
        if len(data) > max_length:
            raise TufkitLengthError(f"{url} is longer than {max_length} bytes")
        return data

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        yield self.fetch(url, max_length)


def tufkit_client(
    storage: Storage,
    bootstrap: bytes,
    directory: Path,
    targets: dict[str, bytes] | None = None,
) -> TufkitUpdater:
    """A refreshed tufkit Updater over *storage*, caching in *directory* (reuse it to follow
    the repository over time)."""
    updater = TufkitUpdater(
        directory,
        "http://repo/metadata/",
        trusted_root=bootstrap,
        target_base_url="http://repo/targets/",
        fetcher=TufkitStorageFetcher(storage, targets or {}),
        clock=lambda: NOW,
    )
    updater.refresh()
    return updater


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve *directory* over HTTP on 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
