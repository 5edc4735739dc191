"""Key rotations: root chains with thresholds above 1, and rotations of the other top-level roles.

Each root chain row lists, per root version, the key indices it trusts, its threshold and the
key indices that sign it; the client must end up trusting exactly ``expected`` and fail iff
``fails``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator

from tufkit.client import UpdaterConfig
from tufkit.crypto import CryptoSigner, generate
from tufkit.errors import UnsignedMetadataError
from tufkit.metadata import Role

# (trusted key indices, threshold, signing key indices)
Version = tuple[list[int], int, list[int]]
ALL5 = [0, 1, 2, 3, 4]
NEW5 = [5, 6, 7, 8, 9]


@dataclass(frozen=True)
class Chain:
    name: str
    versions: list[Version]
    expected: int
    fails: bool


CHAINS = [
    Chain("1-of-1 rotation", [([0], 1, [0]), ([1], 1, [0, 1])], 2, False),
    Chain("1-of-1 rotation, unused signatures", [([0], 1, [0]), ([1], 1, [0, 1, 2])], 2, False),
    Chain("1-of-1 not signed by old key", [([0], 1, [0]), ([1], 1, [1])], 1, True),
    Chain("1-of-1 not signed by new key", [([0], 1, [0]), ([1], 1, [0])], 1, True),
    Chain("3-of-5 different signers", [(ALL5, 3, [0, 2, 4]), (ALL5, 3, [0, 4, 1]),
                                       (ALL5, 3, [0, 1, 3])], 3, False),
    Chain("3-of-5 one key rotated", [(ALL5, 3, [0, 1, 2]), ([0, 1, 2, 3, 5], 3, [0, 1, 2, 5])],
          2, False),
    Chain("3-of-5 all keys rotated", [(ALL5, 3, [0, 1, 2]), (NEW5, 3, [0, 1, 2, 5, 6, 7])],
          2, False),
    Chain("3-of-5 all keys rotated, intermediate step",
          [(ALL5, 3, [0, 1, 2]), ([0, 1, 5, 6, 7], 3, [0, 1, 2, 5]), (NEW5, 3, [5, 6, 7, 8])],
          3, False),
    Chain("threshold increase", [(ALL5, 3, [0, 1, 2]), (ALL5, 4, [0, 1, 2, 3])], 2, False),
    Chain("threshold decrease", [(ALL5, 3, [0, 1, 2]), (ALL5, 1, [0, 1, 2]), (ALL5, 1, [3])],
          3, False),
    Chain("not signed by 3 new keys", [(ALL5, 3, [0, 1, 2]), (NEW5, 3, [0, 1, 2, 5, 6])], 1, True),
    Chain("not signed by 3 old keys", [(ALL5, 3, [0, 1, 2]), (NEW5, 3, [0, 1, 5, 6, 7])], 1, True),
    Chain("new threshold not reached", [(ALL5, 3, [0, 1, 2]), (ALL5, 4, [0, 1, 2])], 1, True),
    Chain("old threshold not reached", [(ALL5, 3, [0, 1, 2]), (ALL5, 2, [0, 1])], 1, True),
    Chain("threshold above key count", [(ALL5, 3, [0, 1, 2]), ([0, 1], 3, [0, 1, 2])], 1, True),
    Chain("good then bad", [([0], 1, [0]), ([1], 1, [0, 1]), ([2], 1, [2])], 2, True),
]  # fmt: skip


def _publish_chain(sim: RepositorySimulator, versions: list[Version]) -> None:
    pool = [generate("ed25519") for _ in range(10)]
    sim.signed_roots.clear()
    for keys, threshold, signers in versions:
        for keyid in list(sim.root.roles["root"].keyids):
            sim.root.revoke_key(keyid, "root")
        for index in keys:
            sim.root.add_key(pool[index].public_key, "root")
        sim.root.roles["root"].threshold = threshold
        sim.signers["root"] = [pool[i] for i in signers]
        for signer in sim.signers["root"]:  # signers outside the root need no key entry
            sim.root.keys.setdefault(signer.public_key.keyid, signer.public_key)
        sim.publish_root()


def _root_version(tmp_path: Path) -> int:
    version: int = json.loads((tmp_path / "metadata/root.json").read_bytes())["signed"]["version"]
    return version


@pytest.mark.parametrize("chain", CHAINS, ids=[c.name for c in CHAINS])
def test_root_rotation(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, chain: Chain
) -> None:
    _publish_chain(sim, chain.versions)
    updater = make_updater()
    if chain.fails:
        with pytest.raises(UnsignedMetadataError):
            updater.refresh()
    else:
        updater.refresh()
    assert _root_version(tmp_path) == chain.expected


def test_root_rotation_bound_continues_next_time(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    for _ in range(4):
        sim.publish_root()
    make_updater(UpdaterConfig(max_root_rotations=2)).refresh()
    assert _root_version(tmp_path) == 3
    make_updater(UpdaterConfig(max_root_rotations=2)).refresh()
    assert _root_version(tmp_path) == 5


@dataclass(frozen=True)
class RoleRotation:
    role: str
    keys: int
    threshold: int
    signers: int
    ok: bool


ROLE_ROTATIONS = [
    RoleRotation(role, keys, threshold, signers, signers >= threshold)
    for role in ("timestamp", "snapshot", "targets")
    for keys, threshold, signers in ((1, 1, 1), (3, 2, 2), (3, 3, 2), (5, 3, 4), (2, 3, 2))
]


@pytest.mark.parametrize(
    "rot",
    ROLE_ROTATIONS,
    ids=[f"{r.role}-{r.threshold}of{r.keys}-{r.signers}sig" for r in ROLE_ROTATIONS],
)
def test_non_root_rotation(
    sim: RepositorySimulator, make_updater: MakeUpdater, rot: RoleRotation
) -> None:
    make_updater().refresh()
    signers: list[CryptoSigner] = [generate("ed25519") for _ in range(rot.keys)]
    for keyid in list(sim.root.roles[rot.role].keyids):
        sim.root.revoke_key(keyid, rot.role)
    for signer in signers:
        sim.root.add_key(signer.public_key, rot.role)
    sim.root.roles[rot.role] = Role(sim.root.roles[rot.role].keyids, rot.threshold)
    sim.signers[rot.role] = signers[: rot.signers]
    sim.publish_root()
    sim.bump("targets")
    updater = make_updater()
    if rot.ok:
        updater.refresh()
        assert updater.trusted_set.targets is not None
        assert updater.trusted_set.targets.signed.version == 2
    else:
        with pytest.raises(UnsignedMetadataError):
            updater.refresh()
