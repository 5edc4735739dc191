"""An in-memory TUF repository that implements the client's Fetcher and records every request.

Metadata is signed when fetched (so a test changes objects and bumps versions, then fetches);
root versions are signed when published with :meth:`publish_root`. ``overrides`` replaces the
bytes served for one file name; ``requests`` records ``(role, version)`` per metadata request
(version None when unversioned) and ``("target", path)`` per target request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from tufkit.client import Updater
from tufkit.crypto import CryptoSigner, generate
from tufkit.errors import DownloadHTTPError, DownloadLengthMismatchError
from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Signed,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

METADATA_URL = "https://repo.test/metadata/"
TARGETS_URL = "https://repo.test/targets/"
Request = tuple[str, "int | str | None"]
MakeUpdater = Callable[..., Updater]


def future(days: int = 30) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


class RepositorySimulator:
    """A repository whose metadata lives in memory; implements ``Fetcher``."""

    def __init__(self, *, consistent_snapshot: bool = True) -> None:
        self.signers: dict[str, list[CryptoSigner]] = {}
        self.root = Root(expires=future(), consistent_snapshot=consistent_snapshot)
        for role in ("root", "timestamp", "snapshot", "targets"):
            self.add_signer(role, generate("ed25519"))
        self.timestamp = Timestamp(expires=future())
        self.snapshot = Snapshot(expires=future())
        self.targets = Targets(expires=future())
        self.delegated: dict[str, Targets] = {}
        self.target_files: dict[str, bytes] = {}
        self.signed_roots: list[bytes] = []
        self.overrides: dict[str, bytes] = {}
        self.missing: set[str] = set()
        self.requests: list[Request] = []
        self.compute_metafile_hashes_length = False
        self.publish_root()

    # -- editing ---------------------------------------------------------------------------

    def add_signer(self, role: str, signer: CryptoSigner) -> None:
        self.root.add_key(signer.public_key, role)
        self.signers.setdefault(role, []).append(signer)

    def rotate_keys(self, role: str) -> None:
        """Replace every key of a top-level role with a fresh one."""
        for keyid in list(self.root.roles[role].keyids):
            self.root.revoke_key(keyid, role)
        self.signers[role] = []
        self.add_signer(role, generate("ed25519"))

    def publish_root(self, *, extra_signers: list[CryptoSigner] | None = None) -> bytes:
        """Sign the current root (its version is set to the next one) and publish it."""
        self.root.version = len(self.signed_roots) + 1
        md = Metadata(self.root)
        for signer in [*(extra_signers or []), *self.signers["root"]]:
            md.sign(signer)
        data = md.to_bytes()
        self.signed_roots.append(data)
        return data

    def delegate(
        self,
        delegator: str,
        name: str,
        paths: list[str] | None = None,
        *,
        terminating: bool = False,
        signer: CryptoSigner | None = None,
        hash_prefixes: list[str] | None = None,
    ) -> CryptoSigner:
        """Add a delegation from *delegator* to a new (or existing) role *name*."""
        signer = signer or generate("ed25519")
        parent = self.targets if delegator == "targets" else self.delegated[delegator]
        if parent.delegations is None:
            parent.delegations = Delegations({}, {})
        assert parent.delegations.roles is not None
        if paths is None and hash_prefixes is None:
            paths = ["*"]
        role = DelegatedRole(name, [], 1, terminating, paths, hash_prefixes)
        parent.delegations.roles[name] = role
        parent.add_key(signer.public_key, name)
        self.signers.setdefault(name, []).append(signer)
        self.delegated.setdefault(name, Targets(expires=future()))
        self.snapshot.meta[f"{name}.json"] = MetaFile(self.delegated[name].version)
        return signer

    def add_target(self, role: str, path: str, data: bytes) -> TargetFile:
        info = TargetFile.from_data(path, data)
        md = self.targets if role == "targets" else self.delegated[role]
        md.targets[path] = info
        self.target_files[path] = data
        return info

    def bump(self, role: str) -> None:
        """New version of a targets role, then of snapshot and timestamp."""
        md = self.targets if role == "targets" else self.delegated[role]
        md.version += 1
        self.bump_snapshot()

    def bump_snapshot(self) -> None:
        self.snapshot.version += 1
        self.bump_timestamp()

    def bump_timestamp(self) -> None:
        self.timestamp.version += 1

    # -- serving ---------------------------------------------------------------------------

    def role_bytes(self, role: str) -> bytes:
        signed = self._signed_for(role)
        md = Metadata[Any](signed)
        for signer in self.signers.get(role, []):
            md.sign(signer)
        return md.to_bytes()

    def _signed_for(self, role: str) -> Signed:
        if role == "timestamp":
            self._refresh_meta()
            return self.timestamp
        if role == "snapshot":
            self._refresh_meta()
            return self.snapshot
        if role == "targets":
            return self.targets
        return self.delegated[role]

    def _refresh_meta(self) -> None:
        for name in list(self.snapshot.meta):
            role = name[: -len(".json")]
            if role != "targets" and role not in self.delegated:
                continue
            version = (self.targets if role == "targets" else self.delegated[role]).version
            self.snapshot.meta[name] = self._metafile(role, version)
        snap = Metadata(self.snapshot)
        for signer in self.signers["snapshot"]:
            snap.sign(signer)
        self.timestamp.snapshot_meta = (
            self._metafile_of(snap.to_bytes(), self.snapshot.version)
            if self.compute_metafile_hashes_length
            else MetaFile(self.snapshot.version)
        )

    def _metafile(self, role: str, version: int) -> MetaFile:
        if not self.compute_metafile_hashes_length:
            return MetaFile(version)
        return self._metafile_of(self.role_bytes(role), version)

    @staticmethod
    def _metafile_of(data: bytes, version: int) -> MetaFile:
        info = TargetFile.from_data("x", data)
        return MetaFile(version, info.length, info.hashes)

    def fetch(self, url: str, max_length: int) -> bytes:
        if url.startswith(TARGETS_URL):
            path = url[len(TARGETS_URL) :]
            self.requests.append(("target", path))
            data = self.overrides.get(path, self._target_bytes(path))
        else:
            name = url[len(METADATA_URL) :]
            data = self._metadata(name)
        if len(data) > max_length:
            raise DownloadLengthMismatchError(f"{url}: more than {max_length} bytes")
        return data

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        data = self.fetch(url, max_length)
        half = len(data) // 2
        yield data[:half]
        yield data[half:]

    def _target_bytes(self, path: str) -> bytes:
        for target_path, data in self.target_files.items():
            info = TargetFile.from_data(target_path, data)
            names = {target_path, *(info.get_prefixed_name(a) for a in info.hashes)}
            if path in names:
                return data
        raise DownloadHTTPError(f"{path}: 404", 404)

    def _metadata(self, name: str) -> bytes:
        stem = name[: -len(".json")]
        first, dot, rest = stem.partition(".")
        version: int | None = None
        role = stem
        if dot and first.isdigit():
            version, role = int(first), rest
        role = unquote(role)
        self.requests.append((role, version))
        if name in self.missing:
            raise DownloadHTTPError(f"{name}: 404", 404)
        if name in self.overrides:
            return self.overrides[name]
        if role == "root":
            if version is None or not 1 <= version <= len(self.signed_roots):
                raise DownloadHTTPError(f"{name}: 404", 404)
            return self.signed_roots[version - 1]
        if role not in ("timestamp", "snapshot", "targets") and role not in self.delegated:
            raise DownloadHTTPError(f"{name}: 404", 404)
        data = self.role_bytes(role)
        if version is not None and version != self._signed_for(role).version:
            raise DownloadHTTPError(f"{name}: 404", 404)
        return data
