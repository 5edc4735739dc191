"""A role the snapshot does not list is an error naming it, never a quiet success (issue 7,
security 5): top-level targets missing from snapshot fails the refresh; a delegated role
missing from snapshot fails the lookup, before any request for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator

from tufkit.errors import RepositoryError


def test_snapshot_without_targets_fails_the_refresh(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    del sim.snapshot.meta["targets.json"]
    with pytest.raises(RepositoryError, match=r"does not list role 'targets'"):
        make_updater().refresh()
    assert ("targets", 1) not in sim.requests
    assert ("targets", None) not in sim.requests
    # what was verified before the failure stays (as python-tuf): snapshot is stored
    assert (tmp_path / "metadata" / "snapshot.json").exists()
    assert not (tmp_path / "metadata" / "targets.json").exists()


def test_snapshot_without_targets_fails_offline_too(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    del sim.snapshot.meta["targets.json"]
    with pytest.raises(RepositoryError, match=r"does not list role 'targets'"):
        make_updater().refresh()
    with pytest.raises(RepositoryError, match=r"does not list role 'targets'"):
        make_updater().load_offline()  # the stored snapshot is no better offline


def test_delegated_role_missing_from_snapshot_fails_the_lookup(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.delegate("targets", "A", ["a/*"])
    sim.delegate("targets", "B", ["*"])
    sim.add_target("B", "a/t", b"from B")
    del sim.snapshot.meta["A.json"]
    sim.bump_snapshot()
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    with pytest.raises(RepositoryError, match=r"does not list role 'A' \(A\.json\)"):
        updater.get_targetinfo("a/t")  # B (lower priority) must not answer instead of A
    with pytest.raises(RepositoryError, match=r"does not list role 'A'"):
        updater.lookup("a/t", exhaustive=True)
    assert sim.requests == []  # the unlisted role is never requested


def test_unlisted_role_outside_the_path_does_not_matter(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.delegate("targets", "A", ["a/*"])
    sim.delegate("targets", "B", ["b/*"])
    sim.add_target("B", "b/t", b"from B")
    del sim.snapshot.meta["A.json"]
    sim.bump_snapshot()
    info = make_updater().get_targetinfo("b/t")
    assert info is not None
    assert info.length == len(b"from B")
