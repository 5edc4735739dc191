"""Replica of tuf-conformance ``test_delegated_expiration.py``: expiry of delegated roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance_runner import Setup
from conformance_sim import days_from_now
from tuf.api.metadata import DelegatedRole, Targets


def _delegate(setup: Setup, expires: datetime) -> None:
    role = DelegatedRole("delegated", [], 1, False, ["delegatedpath/*"])
    setup.repo.add_delegation("targets", role, Targets(expires=expires))


def test_delegated_targets_expired(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    _delegate(setup, days_from_now(-1))
    setup.repo.add_artifact("delegated", b"delegated content", "delegatedpath/target")
    setup.repo.publish(["delegated", "targets", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.download(setup.endpoints, "delegatedpath/target") == 1
    assert setup.client.downloaded() == []
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 2),
        ("targets", 2),
        ("timestamp", 2),
    ]


def test_expired_local_delegated_targets(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    now = datetime.now(UTC)
    _delegate(setup, now + timedelta(days=7))
    setup.repo.add_artifact("delegated", b"first", "delegatedpath/first")
    setup.repo.add_artifact("delegated", b"second", "delegatedpath/second")
    setup.repo.publish(["delegated", "targets", "snapshot", "timestamp"])
    assert setup.client.download(setup.endpoints, "delegatedpath/first") == 0
    assert setup.client.downloaded() == [b"first"]
    later = now + timedelta(days=18)
    assert setup.client.download(setup.endpoints, "delegatedpath/second", fake_time=later) == 1
    assert setup.client.downloaded() == [b"first"]


def test_expired_local_delegated_targets_updates(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    now = datetime.now(UTC)
    _delegate(setup, now + timedelta(days=7))
    setup.repo.add_artifact("delegated", b"first", "delegatedpath/first")
    setup.repo.add_artifact("delegated", b"second", "delegatedpath/second")
    setup.repo.publish(["delegated", "targets", "snapshot", "timestamp"])
    assert setup.client.download(setup.endpoints, "delegatedpath/first") == 0
    setup.repo.any_targets("delegated").expires = now + timedelta(days=21)
    setup.repo.publish(["delegated", "snapshot", "timestamp"])
    later = now + timedelta(days=18)
    assert setup.client.download(setup.endpoints, "delegatedpath/second", fake_time=later) == 0
    assert setup.client.downloaded() == [b"first", b"second"]
