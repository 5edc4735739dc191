"""Replica of tuf-conformance ``test_expiration.py``; the day-18 checks run under ``faketime``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance_runner import Setup
from conformance_sim import days_from_now


def test_root_expired(setup: Setup) -> None:
    """An expired newest root is still persisted (5.3.10), and nothing after it is loaded."""
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.publish(["root"])  # v2
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.root.expires = days_from_now(-1)
    setup.repo.publish(["root"])  # v3
    setup.repo.targets.version += 1
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("root") == 3
    assert setup.client.version("timestamp") == 1
    assert setup.client.version("snapshot") == 1


def test_timestamp_expired(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.timestamp.expires = days_from_now(-5)
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 1),
        ("targets", 1),
        ("timestamp", 1),
    ]


def test_snapshot_expired(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.snapshot.expires = days_from_now(-5)
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 1),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_targets_expired(setup: Setup) -> None:
    """Only the current object expires; snapshot still points at the valid targets v1."""
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.targets.expires = days_from_now(-5)
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 2),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_new_targets_expired(setup: Setup) -> None:
    """The checklist's reading of test_targets_expired: an expired *new* targets is refused."""
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.targets.expires = days_from_now(-5)
    setup.repo.publish(["targets", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 2),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_expired_local_root(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    now = datetime.now(UTC)
    setup.repo.root.expires = now + timedelta(days=7)
    setup.repo.publish(["root"])  # v2
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.root.expires = now + timedelta(days=21)
    setup.repo.publish(["root"])  # v3
    assert setup.client.refresh(setup.endpoints, now + timedelta(days=18)) == 0
    assert setup.client.version("root") == 3


def test_expired_local_timestamp(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    now = datetime.now(UTC)
    setup.repo.timestamp.expires = now + timedelta(days=7)
    setup.repo.publish(["timestamp"])  # v2
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.timestamp.expires = now + timedelta(days=21)
    setup.repo.publish(["targets", "snapshot", "timestamp"])  # v2, v2, v3
    assert setup.client.refresh(setup.endpoints, now + timedelta(days=18)) == 0
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 2),
        ("targets", 2),
        ("timestamp", 3),
    ]
