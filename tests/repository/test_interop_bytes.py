"""For the same content and the same deterministic keys (ed25519 from fixed seeds, expiry from a
fixed clock), every file tufkit publishes is byte for byte what python-tuf's Metadata API
produces: the canonical signed bytes, hence the signatures, and the compact file around them.
Root, top-level targets with a path delegation, a delegated role with succinct bins, the bins,
snapshot and timestamp."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from repo_pytuf import COMPACT, SeededKey, seeded, sign
from repo_support import NOW
from securesystemslib.formats import encode_canonical
from tuf.api import metadata as pytuf

from tufkit.metadata import (
    SPEC_VERSION,
    DelegatedRole,
    Delegations,
    Metadata,
    Role,
    Root,
    TargetFile,
)
from tufkit.repository import MemoryStorage, Repository, succinct_bins

CONTENT = {"proj/a.txt": b"a\n", "proj/b.txt": b"bb\n", "proj/c.txt": b"c" * 300, "top": b"t"}


def _keys() -> dict[str, SeededKey]:
    return {
        role: seeded(i + 11)
        for i, role in enumerate(["r1", "r2", "targets", "online", "proj", "pb"])
    }


def _tufkit(keys: dict[str, SeededKey]) -> MemoryStorage:
    roles = {
        "root": Role([], 2),
        "targets": Role([], 1),
        "snapshot": Role([], 1),
        "timestamp": Role([], 1),
    }
    root = Root(roles=roles)
    for name, top in [("r1", "root"), ("r2", "root"), ("targets", "targets")]:
        root.add_key(keys[name].tufkit.public_key, top)
    root.add_key(keys["online"].tufkit.public_key, "snapshot")
    root.add_key(keys["online"].tufkit.public_key, "timestamp")
    storage = MemoryStorage()
    repo = Repository.create(
        storage, root, signers=[k.tufkit for k in keys.values()], clock=lambda: NOW
    )
    proj = keys["proj"].tufkit.public_key
    with repo.edit_targets() as targets:
        role = DelegatedRole("proj", [proj.keyid], 1, True, paths=["proj/*"])
        targets.delegations = Delegations({proj.keyid: proj}, {"proj": role})
    with repo.edit_targets("proj") as signed:
        signed.delegations = succinct_bins(
            [keys["pb"].tufkit.public_key], bit_length=2, name_prefix="pb"
        )
    repo.list_targets(TargetFile.from_data(path, data) for path, data in CONTENT.items())
    repo.publish()
    return storage


def _pytuf(keys: dict[str, SeededKey]) -> dict[str, bytes]:
    """The same repository, state by state, with python-tuf's Metadata API."""
    files: dict[str, bytes] = {}

    def put(name: str, md: pytuf.Metadata[Any]) -> bytes:
        files[name] = md.to_bytes(COMPACT)
        return files[name]

    def common(signed: Any, version: int, lifetime: timedelta) -> Any:
        signed.version, signed.expires, signed.spec_version = version, NOW + lifetime, SPEC_VERSION
        return signed

    root = common(pytuf.Root(consistent_snapshot=True), 1, timedelta(days=365))
    for name in ("r1", "r2"):
        root.add_key(keys[name].pytuf.public_key, "root")
    root.roles["root"].threshold = 2
    root.add_key(keys["targets"].pytuf.public_key, "targets")
    root.add_key(keys["online"].pytuf.public_key, "snapshot")
    root.add_key(keys["online"].pytuf.public_key, "timestamp")
    put("1.root.json", sign(root, keys["r1"], keys["r2"]))

    bins = pytuf.SuccinctRoles([keys["pb"].keyid], 1, 2, "pb")
    bin_roles = {name: common(pytuf.Targets(), 1, timedelta(days=90)) for name in bins.get_roles()}
    targets = common(pytuf.Targets(), 2, timedelta(days=90))
    proj_key = keys["proj"].pytuf.public_key
    delegated = pytuf.DelegatedRole("proj", [proj_key.keyid], 1, True, paths=["proj/*"])
    targets.delegations = pytuf.Delegations({proj_key.keyid: proj_key}, roles={"proj": delegated})
    proj = common(pytuf.Targets(), 1, timedelta(days=90))
    pb_key = keys["pb"].pytuf.public_key
    proj.delegations = pytuf.Delegations({pb_key.keyid: pb_key}, succinct_roles=bins)
    for path, data in CONTENT.items():
        owner = bin_roles[bins.get_role_for_target(path)] if path.startswith("proj/") else targets
        owner.targets[path] = pytuf.TargetFile.from_data(path, data, ["sha256"])
    snapshot = common(pytuf.Snapshot(), 2, timedelta(days=7))
    snapshot.meta = {"targets.json": pytuf.MetaFile(2), "proj.json": pytuf.MetaFile(1)}
    for name, signed in bin_roles.items():
        put(f"1.{name}.json", sign(signed, keys["pb"]))
        snapshot.meta[f"{name}.json"] = pytuf.MetaFile(1)
    put("1.proj.json", sign(proj, keys["proj"]))
    put("2.targets.json", sign(targets, keys["targets"]))
    snapshot_bytes = put("2.snapshot.json", sign(snapshot, keys["online"]))
    meta = pytuf.MetaFile(2, len(snapshot_bytes))
    meta.hashes = {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}
    put(
        "timestamp.json",
        sign(common(pytuf.Timestamp(snapshot_meta=meta), 2, timedelta(days=1)), keys["online"]),
    )
    return files


NAMES = ["1.root.json", "2.targets.json", "1.proj.json", *[f"1.pb-{i}.json" for i in range(4)]]


@pytest.mark.parametrize("name", [*NAMES, "2.snapshot.json", "timestamp.json"])
def test_published_bytes_equal_python_tufs_for_the_same_content(name: str) -> None:
    keys = _keys()
    ours = _tufkit(keys).files[name]
    theirs = _pytuf(keys)[name]
    our_md = Metadata.from_bytes(ours)
    their_md = pytuf.Metadata.from_bytes(theirs)
    canonical = encode_canonical(their_md.signed.to_dict())
    assert canonical is not None
    assert our_md.signed_bytes == canonical.encode()
    assert ours == theirs


def test_every_role_is_compared() -> None:
    keys = _keys()
    assert set(_tufkit(keys).files) - {"root.json", "1.snapshot.json", "1.targets.json"} == set(
        _pytuf(keys)
    )
