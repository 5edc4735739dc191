"""Repositories built with python-tuf's Metadata API, the reference, from deterministic keys.

``seeded(n)`` gives the same ed25519 key to both sides: a securesystemslib signer for python-tuf
and a tufkit signer loaded from the same private key. ``build_pytuf_repository`` writes a
repository the way python-tuf's documentation builds one (one ``Metadata`` per role, ``sign``,
``to_file``): top-level targets delegating ``proj/*`` to role ``proj``, which delegates to
succinct bins ``pb-*``; consistent snapshots (versioned names, hash-prefixed targets, no
``root.json``) or not (unversioned names only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner as SslibSigner
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

from tufkit.crypto import CryptoSigner
from tufkit.metadata import SPEC_VERSION

COMPACT = JSONSerializer(compact=True)


@dataclass(frozen=True)
class SeededKey:
    """One ed25519 key on both sides."""

    pytuf: SslibSigner
    tufkit: CryptoSigner

    @property
    def keyid(self) -> str:
        return self.tufkit.public_key.keyid


def seeded(n: int) -> SeededKey:
    """The ed25519 key whose private seed is 32 bytes of *n*."""
    private = Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pair = SeededKey(SslibSigner(private), CryptoSigner.from_private_pem(pem))
    assert pair.pytuf.public_key.keyid == pair.keyid  # the same keyid on both sides
    return pair


@dataclass
class PyTufRepository:
    """What ``build_pytuf_repository`` made."""

    metadata_dir: Path
    targets_dir: Path
    keys: dict[str, SeededKey]
    bootstrap: bytes
    contents: dict[str, bytes]  # target path -> content


def sign(signed: Any, *keys: SeededKey) -> Metadata[Any]:
    md = Metadata(signed)
    for key in keys:
        md.sign(key.pytuf, append=True)
    return md


def build_pytuf_repository(directory: Path, *, consistent: bool, now: datetime) -> PyTufRepository:
    """Write a python-tuf repository (see the module docstring) under *directory*."""
    keys = {
        role: seeded(i + 1) for i, role in enumerate(["root", "targets", "online", "proj", "pb"])
    }
    metadata_dir, targets_dir = directory / "metadata", directory / "targets"
    metadata_dir.mkdir(parents=True)
    targets_dir.mkdir(parents=True)
    expires = now + timedelta(days=30)

    root = Root(expires=expires, consistent_snapshot=consistent)
    root.add_key(keys["root"].pytuf.public_key, "root")
    root.add_key(keys["targets"].pytuf.public_key, "targets")
    root.add_key(keys["online"].pytuf.public_key, "snapshot")
    root.add_key(keys["online"].pytuf.public_key, "timestamp")

    contents = {"proj/a.txt": b"project file a\n", "proj/b.txt": b"b\n", "top.txt": b"top\n"}
    pb_key = keys["pb"].pytuf.public_key
    bins = SuccinctRoles([pb_key.keyid], 1, 2, "pb")
    proj = Targets(expires=expires)
    proj.delegations = Delegations({pb_key.keyid: pb_key}, succinct_roles=bins)
    bin_roles = {name: Targets(expires=expires) for name in bins.get_roles()}
    targets = Targets(expires=expires)
    proj_key = keys["proj"].pytuf.public_key
    delegated = DelegatedRole("proj", [proj_key.keyid], 1, True, paths=["proj/*"])
    targets.delegations = Delegations({proj_key.keyid: proj_key}, roles={"proj": delegated})
    for path, data in contents.items():
        entry = TargetFile.from_data(path, data, ["sha256"])
        owner = bin_roles[bins.get_role_for_target(path)] if path.startswith("proj/") else targets
        owner.targets[path] = entry
        head, _, base = path.rpartition("/")
        name = f"{hashlib.sha256(data).hexdigest()}.{base}" if consistent else base
        (targets_dir / head).mkdir(parents=True, exist_ok=True)
        (targets_dir / head / name).write_bytes(data)

    def write(role: str, md: Metadata[Any]) -> None:
        name = f"{md.signed.version}.{role}.json" if consistent else f"{role}.json"
        md.to_file(str(metadata_dir / name), COMPACT)

    snapshot = Snapshot(expires=expires)
    for name, signed in bin_roles.items():
        write(name, sign(signed, keys["pb"]))
        snapshot.meta[f"{name}.json"] = MetaFile(1)
    write("proj", sign(proj, keys["proj"]))
    snapshot.meta["proj.json"] = MetaFile(1)
    write("targets", sign(targets, keys["targets"]))
    write("snapshot", sign(snapshot, keys["online"]))
    timestamp = Timestamp(expires=expires, snapshot_meta=MetaFile(1))
    sign(timestamp, keys["online"]).to_file(str(metadata_dir / "timestamp.json"), COMPACT)
    root_md = sign(root, keys["root"])
    bootstrap = root_md.to_bytes(COMPACT)
    (metadata_dir / ("1.root.json" if consistent else "root.json")).write_bytes(bootstrap)
    return PyTufRepository(metadata_dir, targets_dir, keys, bootstrap, contents)


__all__ = ["COMPACT", "SPEC_VERSION", "PyTufRepository", "SeededKey", "build_pytuf_repository"]
