"""Replica of tuf-conformance ``test_updater_key_rotations.py``: key rotations of every role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conformance_runner import Setup
from conformance_sim import new_signer


@dataclass(frozen=True)
class Version:
    """One published version: key indices in the role, its threshold, who signs it."""

    keys: list[int]
    threshold: int
    sigs: list[int]
    ok: bool = True  # whether the client is expected to accept it


V = Version
ROOT_CHAINS: dict[str, list[Version]] = {
    "1-of-1-key-rotation": [V([1], 1, [1]), V([2], 1, [2, 1]), V([2], 1, [2])],
    "1-of-1-key-rotation-unused-signatures": [
        V([1], 1, [3, 1, 4]),
        V([2], 1, [3, 2, 1, 4]),
        V([2], 1, [3, 2, 4]),
    ],
    "3-of-5-sign-with-different-keycombos": [
        V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
        V([0, 1, 2, 3, 4], 3, [0, 4, 1]),
        V([0, 1, 2, 3, 4], 3, [0, 1, 3]),
        V([0, 1, 2, 3, 4], 3, [0, 1, 3]),
    ],
    "3-of-5-one-key-rotated": [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 3, 4, 5], 3, [0, 4, 1])],
    "3-of-5-one-key-rotated-with-intermediate-step": [
        V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
        V([0, 1, 3, 4, 5], 3, [0, 2, 4, 5]),
        V([0, 1, 3, 4, 5], 3, [0, 4, 5]),
    ],
    "3-of-5-all-keys-rotated-with-intermediate-step": [
        V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
        V([5, 6, 7, 8, 9], 3, [0, 2, 4, 5, 6, 7]),
        V([5, 6, 7, 8, 9], 3, [5, 6, 7]),
    ],
    "1-of-3-threshold-increase-to-2-of-3": [V([1, 2, 3], 1, [1]), V([1, 2, 3], 2, [1, 2])],
    "2-of-3-threshold-decrease-to-1-of-3": [
        V([1, 2, 3], 2, [1, 2]),
        V([1, 2, 3], 1, [1, 2]),
        V([1, 2, 3], 1, [1]),
    ],
    "1-of-2-threshold-increase-to-2-of-2": [V([1], 1, [1]), V([1, 2], 2, [1, 2])],
    "1-of-1-key-rotation-fail-not-signed-with-old-key": [
        V([1], 1, [1]),
        V([2], 1, [2, 3, 4], ok=False),
    ],
    "1-of-1-key-rotation-fail-not-signed-with-new-key": [
        V([1], 1, [1]),
        V([2], 1, [1, 3, 4], ok=False),
    ],
    "3-of-5-one-key-rotate-fails-not-signed-with-3-new-keys": [
        V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
        V([0, 1, 3, 4, 5], 3, [0, 2, 4], ok=False),
    ],
    "3-of-5-one-key-rotate-fails-not-signed-with-3-old-keys": [
        V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
        V([0, 1, 3, 4, 5], 3, [0, 4, 5], ok=False),
    ],
    "1-of-3-threshold-bump-to-2-of-3-fails-new-threshold-not-reached": [
        V([1, 2, 3], 1, [1]),
        V([1, 2, 3], 2, [2], ok=False),
    ],
    "2-of-3-threshold-decr-to-1-of-3-fails-old-threshold-not-eached": [
        V([1, 2, 3], 2, [1, 2]),
        V([1, 2, 3], 1, [1], ok=False),
    ],
}


def _set_role(setup: Setup, role: str, version: Version, signers: list) -> None:  # type: ignore[type-arg]
    setup.repo.root.roles[role].keyids.clear()
    setup.repo.signers[role].clear()
    setup.repo.root.roles[role].threshold = version.threshold
    for i in version.keys:
        setup.repo.append_keyid(role, signers[i].public_key)
    for i in version.sigs:
        setup.repo.add_signer(role, signers[i])


@pytest.mark.parametrize("chain", ROOT_CHAINS.values(), ids=ROOT_CHAINS.keys())
def test_root_rotation(setup: Setup, chain: list[Version]) -> None:
    """The stored root ends as the last acceptable version of the chain."""
    del setup.repo.published["root"]
    signers = [new_signer() for _ in range(10)]
    for version in chain:
        _set_role(setup, "root", version, signers)
        setup.repo.publish(["root"])
    setup.repo.publish(["targets", "snapshot", "timestamp"])
    endpoints = type(setup.endpoints)(
        setup.endpoints.metadata_url, setup.endpoints.targets_url, setup.repo.published["root"][0]
    )
    assert setup.client.init(endpoints) == 0
    if chain[-1].ok:
        assert setup.client.refresh(endpoints) == 0
        setup.client.assert_metadata("root", setup.repo.published["root"][-1])
    else:
        assert setup.client.refresh(endpoints) == 1
        setup.client.assert_metadata("root", setup.repo.published["root"][-2])


NON_ROOT: dict[str, Version] = {
    "1-of-1-key-rotation": V([2], 1, [2]),
    "1-of-1-key-rotation-unused-signatures": V([1], 1, [3, 1, 4]),
    "1-of-1-key-rotation-fail-not-signed-with-new-key": V([2], 1, [1, 3, 4], ok=False),
    "3-of-5-one-key-signature-wrong-not-signed-with-3-expected-keys": V(
        [0, 1, 3, 4, 5], 3, [0, 2, 4], ok=False
    ),
    "2-of-5-one-key-signature-mising-threshold-not-reached": V(
        [0, 1, 3, 4, 5], 3, [0, 4], ok=False
    ),
    "3-of-5-sign-first-combo": V([0, 1, 2, 3, 4], 3, [0, 2, 4]),
    "3-of-5-sign-second-combo": V([0, 1, 2, 3, 4], 3, [0, 4, 1]),
    "3-of-5-sign-third-combo": V([0, 1, 2, 3, 4], 3, [0, 1, 3]),
    "3-of-5-sign-fourth-combo": V([0, 1, 2, 3, 4], 3, [1, 2, 3]),
    "3-of-5-sign-fifth-combo": V([0, 1, 2, 3, 4], 3, [2, 3, 4]),
}


@pytest.mark.parametrize("version", NON_ROOT.values(), ids=NON_ROOT.keys())
def test_non_root_rotations(setup: Setup, version: Version) -> None:
    """Timestamp, then snapshot, then targets get the key set; each refresh must agree."""
    assert setup.client.init(setup.endpoints) == 0
    signers = [new_signer() for _ in range(10)]
    for role in ("timestamp", "snapshot", "targets"):
        _set_role(setup, role, version, signers)
        setup.repo.publish(["root", "targets", "snapshot", "timestamp"])
        if version.ok:
            assert setup.client.refresh(setup.endpoints) == 0
            setup.client.assert_metadata(role, setup.repo.latest(role))
        else:
            assert setup.client.refresh(setup.endpoints) == 1
            setup.client.assert_metadata("root", setup.repo.latest("root"))
