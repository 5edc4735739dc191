"""Repositories built with python-tuf 7.0.1 (the reference, test-only) and served over HTTP.

:class:`PyTufRepo` writes a static repository (``metadata/`` and ``targets/``) with python-tuf's
own metadata API; :func:`serve` serves a directory on 127.0.0.1 with ``http.server`` in a
thread and records the request paths.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

TOP = ("root", "timestamp", "snapshot", "targets")


def _expiry(days: int = 30) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


class PyTufRepo:
    """A static TUF repository written by python-tuf."""

    def __init__(self, base: Path, *, consistent: bool = True) -> None:
        self.base = base
        self.consistent = consistent
        (base / "metadata").mkdir(parents=True, exist_ok=True)
        (base / "targets").mkdir(parents=True, exist_ok=True)
        self.signers: dict[str, list[CryptoSigner]] = {
            r: [CryptoSigner.generate_ed25519()] for r in TOP
        }
        root = Root(expires=_expiry(), consistent_snapshot=consistent)
        for role in TOP:
            root.add_key(self.signers[role][0].public_key, role)
        self.root: Metadata[Root] = Metadata(root)
        self.timestamp: Metadata[Timestamp] = Metadata(Timestamp(expires=_expiry()))
        self.snapshot: Metadata[Snapshot] = Metadata(Snapshot(expires=_expiry()))
        self.roles: dict[str, Metadata[Targets]] = {"targets": Metadata(Targets(expires=_expiry()))}
        self._published = False
        self._write_root()

    def _write(self, name: str, md: Metadata[Any]) -> bytes:
        data = md.to_bytes(JSONSerializer(compact=False))
        path = self.base / "metadata" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def _sign(self, role: str, md: Metadata[Any]) -> None:
        md.signatures.clear()
        for signer in self.signers[role]:
            md.sign(signer, append=True)

    def _write_root(self) -> None:
        self._sign("root", self.root)
        data = self._write(f"{self.root.signed.version}.root.json", self.root)
        (self.base / "metadata" / "root.json").write_bytes(data)

    def root_bytes(self, version: int = 1) -> bytes:
        return (self.base / "metadata" / f"{version}.root.json").read_bytes()

    def rotate_root(self) -> None:
        """Publish a new root version whose root key is new (signed by old and new)."""
        old = self.signers["root"][0]
        new = CryptoSigner.generate_ed25519()
        self.root.signed.revoke_key(old.public_key.keyid, "root")
        self.root.signed.add_key(new.public_key, "root")
        self.root.signed.version += 1
        self.signers["root"] = [old, new]
        self._write_root()
        self.signers["root"] = [new]

    def add_target(self, path: str, data: bytes, role: str = "targets") -> None:
        info = TargetFile.from_data(path, data, ["sha256"])
        self.roles[role].signed.targets[path] = info
        directory, _, name = path.rpartition("/")
        folder = self.base / "targets" / directory
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        (folder / f"{info.hashes['sha256']}.{name}").write_bytes(data)

    def delegate(self, parent: str, name: str, paths: list[str], terminating: bool = False) -> None:
        signer = CryptoSigner.generate_ed25519()
        md = self.roles[parent].signed
        if md.delegations is None:
            md.delegations = Delegations({}, roles={})
        role = DelegatedRole(name, [], 1, terminating, paths)
        assert md.delegations.roles is not None
        md.delegations.roles[name] = role
        md.add_key(signer.public_key, name)
        self.signers[name] = [signer]
        self.roles[name] = Metadata(Targets(expires=_expiry()))

    def add_succinct_bins(self, bit_length: int, prefix: str = "bin") -> list[str]:
        signer = CryptoSigner.generate_ed25519()
        succinct = SuccinctRoles([], 1, bit_length, prefix)
        md = self.roles["targets"].signed
        md.delegations = Delegations({}, succinct_roles=succinct)
        md.add_key(signer.public_key)
        names = list(succinct.get_roles())
        for name in names:
            self.signers[name] = [signer]
            self.roles[name] = Metadata(Targets(expires=_expiry()))
        return names

    def bin_for(self, path: str) -> str:
        delegations = self.roles["targets"].signed.delegations
        assert delegations is not None
        assert delegations.succinct_roles is not None
        return delegations.succinct_roles.get_role_for_target(path)

    def publish(self, *, bump: tuple[str, ...] = ()) -> None:
        """Sign and write every targets role, then snapshot and timestamp (new versions)."""
        for name in bump:
            self.roles[name].signed.version += 1
        for name, md in self.roles.items():
            self._sign(name, md)
            self._write_versioned(name, md)
            self.snapshot.signed.meta[f"{name}.json"] = MetaFile(md.signed.version)
        if self._published:
            self.snapshot.signed.version += 1
            self.timestamp.signed.version += 1
        self._published = True
        self._sign("snapshot", self.snapshot)
        self._write_versioned("snapshot", self.snapshot)
        self.timestamp.signed.snapshot_meta = MetaFile(self.snapshot.signed.version)
        self._sign("timestamp", self.timestamp)
        self._write("timestamp.json", self.timestamp)

    def _write_versioned(self, name: str, md: Metadata[Any]) -> None:
        # http.server unquotes request paths, so a quoted "a%2Fb" is served from "a/b"
        self._write(f"{name}.json", md)
        self._write(f"{md.signed.version}.{name}.json", md)


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve *directory* on 127.0.0.1; yield the base URL and the list of requested paths."""

    def handler(*args: Any) -> _Handler:
        return _Handler(*args, directory=str(directory))

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.paths  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
