"""Subtle points: TAP 12 key de-duplication, crash recovery around root rotation, the bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator

from tufkit.client import UpdaterConfig
from tufkit.crypto import CryptoSigner, Key, Signature, generate
from tufkit.errors import UnsignedMetadataError


class _SameKeyOtherId:
    """Signs with *signer* but claims another keyid: one public key spelt twice."""

    def __init__(self, signer: CryptoSigner, keyid: str) -> None:
        self._signer = signer
        key = signer.public_key
        self._key = Key(keyid, key.keytype, key.scheme, dict(key.keyval))

    @property
    def public_key(self) -> Key:
        return self._key

    def sign(self, payload: bytes) -> Signature:
        return Signature(self._key.keyid, self._signer.sign(payload).signature)


def _stored(metadata_dir: Path, role: str) -> int | None:
    path = metadata_dir / f"{role}.json"
    if not path.exists():
        return None
    version: int = json.loads(path.read_bytes())["signed"]["version"]
    return version


@pytest.mark.parametrize("twin", [True, False], ids=["one key twice", "two keys"])
def test_one_key_under_two_keyids_counts_once(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, twin: bool
) -> None:
    first = generate("ed25519")
    second: CryptoSigner | _SameKeyOtherId = (
        _SameKeyOtherId(first, "ab" * 32) if twin else generate("ed25519")
    )
    for keyid in list(sim.root.roles["snapshot"].keyids):
        sim.root.revoke_key(keyid, "snapshot")
    sim.signers["snapshot"] = []
    sim.add_signer("snapshot", first)
    sim.add_signer("snapshot", second)  # type: ignore[arg-type]
    sim.root.roles["snapshot"].threshold = 2
    sim.publish_root()
    assert len(sim.root.roles["snapshot"].keyids) == 2
    if twin:
        with pytest.raises(UnsignedMetadataError):
            make_updater().refresh()
        assert _stored(tmp_path / "metadata", "snapshot") is None
    else:
        make_updater().refresh()
        assert _stored(tmp_path / "metadata", "snapshot") == 1
    assert _stored(tmp_path / "metadata", "timestamp") == 1


def _fast_forward_then_rotate(sim: RepositorySimulator, make_updater: MakeUpdater) -> None:
    """The timestamp key leaks, version 100 is published; the repository rotates and resets."""
    sim.timestamp.version = 100
    make_updater().refresh()
    sim.rotate_keys("timestamp")
    sim.timestamp.version = 1
    sim.bump_snapshot()
    sim.publish_root()


def test_crash_after_dropping_timestamp_before_storing_root(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    """tufkit's own order: timestamp/snapshot deleted, then the crash, root not yet stored."""
    _fast_forward_then_rotate(sim, make_updater)
    metadata = tmp_path / "metadata"
    (metadata / "timestamp.json").unlink()
    (metadata / "snapshot.json").unlink()
    assert json.loads((metadata / "root.json").read_bytes())["signed"]["version"] == 1
    make_updater().refresh()
    assert _stored(metadata, "root") == 2
    assert _stored(metadata, "timestamp") == 2


def test_crash_after_storing_root_before_dropping_timestamp(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    """The other order: new root stored, stale timestamp v100 and snapshot still on disk."""
    _fast_forward_then_rotate(sim, make_updater)
    metadata = tmp_path / "metadata"
    (metadata / "root.json").write_bytes(sim.signed_roots[1])
    assert _stored(metadata, "timestamp") == 100
    updater = make_updater()
    updater.refresh()
    assert updater.trusted_set.timestamp is not None
    assert updater.trusted_set.timestamp.signed.version == 2
    assert _stored(metadata, "timestamp") == 2


def test_rotation_deletes_baselines_before_storing_root(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    """A failure right after the root step leaves no stale baseline behind."""
    _fast_forward_then_rotate(sim, make_updater)
    sim.missing.add("timestamp.json")
    with pytest.raises(Exception, match="404"):
        make_updater().refresh()
    metadata = tmp_path / "metadata"
    assert _stored(metadata, "root") == 2
    assert _stored(metadata, "timestamp") is None
    assert _stored(metadata, "snapshot") is None


@pytest.mark.parametrize(("bound", "depth", "found"), [(5, 5, True), (5, 6, False), (1, 1, True)])
def test_delegation_bound_counts_delegated_roles(
    sim: RepositorySimulator, make_updater: MakeUpdater, bound: int, depth: int, found: bool
) -> None:
    """``max_delegations`` delegated roles are loaded at most (top-level targets not counted)."""
    names = [f"r{i}" for i in range(depth)]
    parent = "targets"
    for name in names:
        sim.delegate(parent, name)
        parent = name
    sim.add_target(names[-1], "t", b"x")
    sim.bump_snapshot()
    updater = make_updater(UpdaterConfig(max_delegations=bound))
    updater.refresh()
    sim.requests.clear()
    assert (updater.get_targetinfo("t") is not None) == found
    assert sim.requests == [(n, 1) for n in names[:bound]]
