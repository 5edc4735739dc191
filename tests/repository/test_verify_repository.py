"""The whole-repository consistency check: a clean repository passes, and each kind of deliberate
breakage (one repository broken per kind) is reported with the role, the file and what is
wrong."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from repo_support import NOW, Keys, make_root

from tufkit.crypto import Signer
from tufkit.errors import RepositoryError
from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    TargetFile,
    hash_digests,
)
from tufkit.repository import (
    PROBLEM_KINDS,
    FilesystemStorage,
    MemoryStorage,
    Repository,
    get_repository_result,
    succinct_bins,
    verify_repository,
)


def _build(storage: MemoryStorage | FilesystemStorage, keys: Keys) -> Repository:
    """targets -> proj (proj/*) -> two succinct bins pb-0, pb-1; four targets with content."""
    owner, binkey = keys.spare[0], keys.spare[1]
    repo = Repository.create(
        storage, make_root(keys), signers=[*keys.all(), owner, binkey], clock=lambda: NOW
    )
    with repo.edit_targets() as targets:
        role = DelegatedRole("proj", [owner.public_key.keyid], 1, True, paths=["proj/*"])
        targets.delegations = Delegations(
            {owner.public_key.keyid: owner.public_key}, {"proj": role}
        )
    with repo.edit_targets("proj") as proj:
        proj.delegations = succinct_bins([binkey.public_key], bit_length=1, name_prefix="pb")
    repo.add_targets([(f"proj/f{i}", f"file {i}".encode()) for i in range(4)])
    repo.add_targets([("top.txt", b"top")])
    repo.publish()
    return repo


@pytest.fixture
def built(keys: Keys) -> tuple[MemoryStorage, Repository]:
    storage = MemoryStorage()
    return storage, _build(storage, keys)


def _resign(
    storage: MemoryStorage, name: str, signer: Signer, change: Callable[..., object]
) -> None:
    md = Metadata.from_bytes(storage.files[name])
    change(md.signed)
    md.signatures.clear()
    md.sign(signer)
    storage.files[name] = md.to_bytes()


def _bin_of(repo: Repository, path: str) -> str:
    return repo.responsible_role(path)


@dataclass
class Breakage:
    name: str
    expected: tuple[str, str]  # (role, kind)
    breaks: Callable[[MemoryStorage, Repository, Keys], object]


def _drop_from_snapshot(storage: MemoryStorage, repo: Repository, keys: Keys) -> None:
    version = repo.snapshot.signed.version
    _resign(
        storage,
        f"{version}.snapshot.json",
        keys.snapshot[0],
        lambda s: s.meta.pop("pb-1.json"),
    )
    data = storage.files[f"{version}.snapshot.json"]
    length, hashes = hash_digests(data, ["sha256"])
    _resign(
        storage,
        "timestamp.json",
        keys.timestamp[0],
        lambda t: setattr(t, "snapshot_meta", MetaFile(version, length, hashes)),
    )


def _wrong_bin(storage: MemoryStorage, repo: Repository, keys: Keys) -> None:
    name = _bin_of(repo, "proj/f0")
    other = "pb-1" if name == "pb-0" else "pb-0"
    entry = repo.targets(name).signed.targets["proj/f0"]
    _resign(
        storage,
        f"{repo.published_version(other)}.{other}.json",
        keys.spare[1],
        lambda t: t.targets.__setitem__("proj/f0", entry),
    )


def _corrupt_target(storage: MemoryStorage, repo: Repository, keys: Keys) -> None:
    name = next(n for n in storage.targets if n.endswith(".f1"))
    storage.targets[name] = b"file X"


def _rotate_with_one_old_signature(storage: MemoryStorage, repo: Repository, keys: Keys) -> None:
    repo.set_threshold("root", 1)
    repo.publish()
    md = Metadata.from_bytes(storage.files["2.root.json"])
    del md.signatures[keys.root[1].public_key.keyid]
    storage.files["2.root.json"] = storage.files["root.json"] = md.to_bytes()


def _rotate_then_lose_root(storage: MemoryStorage, repo: Repository, keys: Keys) -> None:
    repo.set_threshold("root", 1)
    repo.publish()
    del storage.files["2.root.json"]


BREAKAGES = [
    Breakage("missing role file", ("proj", "missing"), lambda s, r, k: s.files.pop("1.proj.json")),
    Breakage(
        "malformed role file",
        ("pb-0", "malformed"),
        lambda s, r, k: s.files.__setitem__(f"{r.published_version('pb-0')}.pb-0.json", b"[]"),
    ),
    Breakage(
        "content changed after signing",
        ("targets", "signatures"),
        lambda s, r, k: s.files.__setitem__(
            "2.targets.json", s.files["2.targets.json"].replace(b'"proj/*"', b'"proj/f*"')
        ),
    ),
    Breakage(
        "version differs from snapshot",
        ("proj", "version"),
        lambda s, r, k: _resign(s, "1.proj.json", k.spare[0], lambda t: setattr(t, "version", 9)),
    ),
    Breakage(
        "snapshot bytes differ from timestamp's hashes",
        ("snapshot", "hashes"),
        lambda s, r, k: s.files.__setitem__(
            "2.snapshot.json", Metadata.from_bytes(s.files["2.snapshot.json"]).to_bytes(pretty=True)
        ),
    ),
    Breakage("bin missing from snapshot", ("pb-1", "unlisted"), _drop_from_snapshot),
    Breakage("target in the wrong bin", ("pb-0/1", "delegation"), _wrong_bin),
    Breakage(
        "target outside delegated paths",
        ("proj", "delegation"),
        lambda s, r, k: _resign(
            s,
            "1.proj.json",
            k.spare[0],
            lambda t: t.targets.__setitem__(
                "elsewhere", TargetFile(1, {"sha256": "00" * 32}, "elsewhere")
            ),
        ),
    ),
    Breakage("stored target changed", ("pb-0/1", "target"), _corrupt_target),
    Breakage("root version missing", ("root", "missing"), _rotate_then_lose_root),
    Breakage(
        "root not signed by its predecessor", ("root", "signatures"), _rotate_with_one_old_signature
    ),
    Breakage(
        "root.json differs from its versioned file",
        ("root", "hashes"),
        lambda s, r, k: s.files.__setitem__(
            "root.json", Metadata.from_bytes(s.files["root.json"]).to_bytes(pretty=True)
        ),
    ),
    Breakage("interrupted publish", ("*", "journal"), lambda s, r, k: s.write_journal(b"x")),
]


def test_a_clean_repository_has_no_problems(built: tuple[MemoryStorage, Repository]) -> None:
    storage, repo = built
    report = verify_repository(storage, reference_time=NOW)
    assert report.ok
    assert report.roles == 7  # root, timestamp, snapshot, targets, proj, pb-0, pb-1
    assert report.target_files == 5
    assert report.targets_without_content == 0
    assert repo.verify().ok


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.name)
def test_each_kind_of_breakage_is_reported_with_role_and_kind(
    keys: Keys, breakage: Breakage
) -> None:
    storage = MemoryStorage()
    repo = _build(storage, keys)
    breakage.breaks(storage, repo, keys)
    report = get_repository_result(storage, reference_time=NOW)
    found = {(p.role, p.kind) for p in report.problems}
    role, kind = breakage.expected
    assert kind in PROBLEM_KINDS
    roles = role.split("/") if not role.startswith("pb-") else ["pb-0", "pb-1"]
    assert any((r, kind) in found for r in roles), report.problems
    with pytest.raises(RepositoryError, match=r"problem\(s\) in the repository"):
        verify_repository(storage, reference_time=NOW)


def test_expiry_is_reported_against_the_reference_time_and_horizon(
    built: tuple[MemoryStorage, Repository],
) -> None:
    storage, _ = built
    soon = get_repository_result(storage, reference_time=NOW, horizon=timedelta(days=2))
    assert [(p.role, p.kind) for p in soon.problems] == [("timestamp", "expiring")]
    late = get_repository_result(storage, reference_time=NOW + timedelta(days=8))
    assert [(p.role, p.kind) for p in late.problems] == [
        ("timestamp", "expired"),
        ("snapshot", "expired"),
    ]
    assert "expired 2030-01-02 00:00:00 UTC" in late.problems[0].message


def test_staged_roles_below_threshold_are_reported_only_when_asked(
    built: tuple[MemoryStorage, Repository], keys: Keys
) -> None:
    storage, repo = built
    repo.remove_signer(keys.spare[0].public_key.keyid)
    repo.list_targets([TargetFile(1, {"sha256": "11" * 32}, "proj/staged")], role="proj")
    repo.stage("proj")
    assert get_repository_result(storage, reference_time=NOW).ok
    report = get_repository_result(storage, reference_time=NOW, staged=True)
    assert [(p.role, p.kind) for p in report.problems] == [("proj", "staged")]
    assert "not ready to publish: 0 valid signatures, threshold 1" in report.problems[0].message


def test_a_problem_names_the_file(built: tuple[MemoryStorage, Repository]) -> None:
    storage, _ = built
    del storage.files["1.proj.json"]
    with pytest.raises(RepositoryError, match=r"proj \(1\.proj\.json\): listed in snapshot"):
        verify_repository(storage, reference_time=NOW)


def test_on_disk_a_symlinked_target_is_a_problem_not_a_traceback(
    keys: Keys, tmp_path: Path
) -> None:
    storage = FilesystemStorage(tmp_path / "repo")
    _build(storage, keys)
    victim = next((tmp_path / "repo" / "targets").rglob("*.top.txt"))
    victim.unlink()
    (tmp_path / "secret").write_bytes(b"top")
    os.symlink(tmp_path / "secret", victim)
    report = get_repository_result(storage, reference_time=NOW)
    assert [(p.role, p.kind) for p in report.problems] == [("targets", "target")]
    assert report.target_files == 4
