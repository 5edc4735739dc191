"""Replica of tuf-conformance ``test_rollback.py``: rollback and fast-forward recovery."""

from __future__ import annotations

import pytest
from conformance_runner import Setup
from tuf.api.metadata import DelegatedRole

ALL = ["root", "targets", "snapshot", "timestamp"]


def test_simple_snapshot_rollback(setup: Setup) -> None:
    """An older snapshot served without touching timestamp: the client never asks for it."""
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.publish(["snapshot"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("snapshot") == 2
    assert setup.repo.requests[-1] == ("timestamp", None)


def test_new_timestamp_version_rollback(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("timestamp") == 2
    del setup.repo.published["timestamp"]
    setup.repo.timestamp.version = 1
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("timestamp") == 2
    assert setup.repo.requests[-1] == ("timestamp", None)


@pytest.mark.parametrize("use_hashes", [False, True], ids=["basic", "with hashes"])
def test_snapshot_rollback(setup: Setup, use_hashes: bool) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.hashes_in_meta = use_hashes
    setup.repo.publish(["snapshot", "timestamp"])  # v2, v2
    assert setup.client.refresh(setup.endpoints) == 0
    del setup.repo.published["snapshot"]
    setup.repo.snapshot.version = 1
    setup.repo.publish(["snapshot", "timestamp"])  # v1, v3
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("timestamp") == 2
    assert setup.client.version("snapshot") == 2
    assert setup.repo.requests[-1] == ("timestamp", None)


@pytest.mark.parametrize("use_hashes", [False, True], ids=["basic", "with hashes"])
def test_targets_rollback(setup: Setup, use_hashes: bool) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.hashes_in_meta = use_hashes
    setup.repo.publish(["targets", "snapshot", "timestamp"])  # v2 each
    assert setup.client.refresh(setup.endpoints) == 0
    del setup.repo.published["targets"]
    setup.repo.targets.version = 1
    setup.repo.publish(["targets", "snapshot", "timestamp"])  # v1, v3, v3
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") == 2
    assert setup.client.version("targets") == 2


def _delegate(setup: Setup, name: str = "delegated") -> None:
    setup.repo.add_delegation("targets", DelegatedRole(name, [], 1, False, [f"{name}/*"]))


def test_targets_role_removal(setup: Setup) -> None:
    """A role listed in the trusted snapshot disappears from the new one: refused."""
    assert setup.client.init(setup.endpoints) == 0
    _delegate(setup)
    setup.repo.publish(["delegated", "targets", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("snapshot") == 2
    del setup.repo.snapshot.meta["delegated.json"]
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") == 2
    assert setup.client.version("timestamp") == 3


def test_targets_fast_forward_recovery(setup: Setup) -> None:
    """Snapshot keys rotated: targets 100 -> 1 and a dropped delegated role are accepted."""
    assert setup.client.init(setup.endpoints) == 0
    _delegate(setup)
    setup.repo.publish(["delegated"])
    for _ in range(99):
        setup.repo.publish(["targets"])
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("targets") == 100

    setup.repo.rotate_keys("snapshot")
    del setup.repo.published["targets"]
    setup.repo.targets.version = 1
    del setup.repo.snapshot.meta["delegated.json"]
    setup.repo.publish(ALL)
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("targets") == 1
    assert setup.client.version("snapshot") == 3


def test_new_targets_fast_forward_recovery(setup: Setup) -> None:
    """The suite's older form: snapshot keys rotated, targets 100 -> 101 (continues)."""
    assert setup.client.init(setup.endpoints) == 0
    for _ in range(99):
        setup.repo.publish(["targets"])
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("targets") == 100
    setup.repo.rotate_keys("snapshot")
    setup.repo.publish(ALL)
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("targets") == 101


def test_new_snapshot_fast_forward_recovery(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    for _ in range(99):
        setup.repo.publish(["snapshot"])
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("snapshot") == 100

    setup.repo.rotate_keys("snapshot")
    setup.repo.rotate_keys("timestamp")
    del setup.repo.published["snapshot"]
    setup.repo.snapshot.version = 1
    setup.repo.publish(ALL)
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("snapshot") == 1


def test_snapshot_only_fast_forward_recovery(setup: Setup) -> None:
    """Checklist 6.5: only snapshot keys rotated and snapshot reset; the spec says recover."""
    assert setup.client.init(setup.endpoints) == 0
    for _ in range(99):
        setup.repo.publish(["snapshot"])
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.rotate_keys("snapshot")
    del setup.repo.published["snapshot"]
    setup.repo.snapshot.version = 1
    setup.repo.publish(ALL)
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("snapshot") == 1
    assert setup.client.version("timestamp") == 3


def test_new_snapshot_version_mismatch(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.publish(["snapshot"])  # v2, but timestamp will keep pointing at v1
    setup.repo.timestamp.snapshot_meta.version -= 1
    setup.repo.publish(["root", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.trusted_roles() == [
        ("root", 2),
        ("snapshot", 1),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_new_timestamp_fast_forward_recovery(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    for _ in range(99):
        setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("timestamp") == 100

    setup.repo.rotate_keys("timestamp")
    setup.repo.publish(ALL)
    setup.repo.timestamp.version = 0
    setup.repo.publish(["timestamp"], check_version=False)  # served: timestamp v1, new key
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("timestamp") == 1
