"""Table-driven update-cycle scenarios: each attack, verdict and exact request sequence.

Each row: ``before`` runs on the repository and a refresh must succeed; then ``attack`` runs and
a second refresh (a fresh updater built from the cache) must raise ``error`` (or succeed), make
exactly ``requests`` and leave the cache holding ``versions``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator, Request

from tufkit.crypto import generate
from tufkit.errors import (
    BadVersionNumberError,
    DownloadHTTPError,
    DownloadLengthMismatchError,
    ExpiredMetadataError,
    FormatError,
    LengthOrHashMismatchError,
    UnsignedMetadataError,
)
from tufkit.metadata import Metadata

Step = Callable[[RepositorySimulator], None]
PAST = datetime(2000, 1, 1, tzinfo=UTC)


def nothing(sim: RepositorySimulator) -> None:
    return None


@dataclass(frozen=True)
class Case:
    name: str
    attack: Step
    error: type[Exception] | None
    requests: list[Request]
    versions: dict[str, int]
    before: Step = nothing
    attack_hashes: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _expire(role: str) -> Step:
    def step(sim: RepositorySimulator) -> None:
        getattr(sim, role).expires = PAST
        if role == "root":
            sim.publish_root()
        elif role == "targets":
            sim.bump("targets")
        elif role == "snapshot":
            sim.bump_snapshot()
        else:
            sim.bump_timestamp()

    return step


def _ts_rollback(sim: RepositorySimulator) -> None:
    sim.timestamp.version = 1


def _snapshot_rollback(sim: RepositorySimulator) -> None:
    sim.timestamp.version += 1
    sim.snapshot.version = 1


def _targets_rollback(sim: RepositorySimulator) -> None:
    sim.targets.version = 1
    sim.bump_snapshot()


def _with_delegated(sim: RepositorySimulator) -> None:
    sim.delegate("targets", "delegated")
    sim.bump_snapshot()


def _role_removal(sim: RepositorySimulator) -> None:
    del sim.snapshot.meta["delegated.json"]
    sim.bump_snapshot()


def _ts_same_version_new_content(sim: RepositorySimulator) -> None:
    sim.timestamp.expires += timedelta(days=1)
    sim.snapshot.version = 100  # a different timestamp v1, pointing elsewhere


def _unsigned(role: str) -> Step:
    def step(sim: RepositorySimulator) -> None:
        sim.signers[role] = [generate("ed25519")]
        if role == "root":
            sim.publish_root()
        elif role == "targets":
            sim.bump("targets")
        elif role == "snapshot":
            sim.bump_snapshot()
        else:
            sim.bump_timestamp()

    return step


def _override(name: str, data: bytes, then: Step = nothing) -> Step:
    def step(sim: RepositorySimulator) -> None:
        then(sim)
        sim.overrides[name] = data

    return step


def _version_mismatch(role: str) -> Step:
    """Serve version V+1's content under version V's name."""

    def step(sim: RepositorySimulator) -> None:
        if role == "root":
            sim.publish_root()
            sim.root.version = 3
            md = Metadata(sim.root)
            for signer in sim.signers["root"]:
                md.sign(signer)
            sim.signed_roots[1] = md.to_bytes()
            return
        if role == "snapshot":
            sim.bump_snapshot()
            sim.snapshot.version = 3
            sim.overrides["2.snapshot.json"] = sim.role_bytes("snapshot")
            sim.snapshot.version = 2
            return
        sim.bump("targets")
        sim.targets.version = 3
        sim.overrides["2.targets.json"] = sim.role_bytes("targets")
        sim.targets.version = 2

    return step


def _missing(name: str, then: Step) -> Step:
    def step(sim: RepositorySimulator) -> None:
        then(sim)
        sim.missing.add(name)

    return step


def _tamper(name: str, then: Step) -> Step:
    def step(sim: RepositorySimulator) -> None:
        then(sim)
        role = name.split(".")[1]
        sim.overrides[name] = sim.role_bytes(role)[:-1] + b" "  # same length

    return step


def _wrong_type(sim: RepositorySimulator) -> None:
    sim.bump_timestamp()
    sim.overrides["timestamp.json"] = sim.role_bytes("snapshot")


def _dup_signature(sim: RepositorySimulator) -> None:
    sim.bump_snapshot()
    doc = json.loads(sim.role_bytes("snapshot"))
    doc["signatures"] = doc["signatures"] * 2
    sim.overrides["2.snapshot.json"] = json.dumps(doc).encode()


def _ff_timestamp_before(sim: RepositorySimulator) -> None:
    sim.timestamp.version = 100


def _ff_timestamp(sim: RepositorySimulator) -> None:
    sim.rotate_keys("timestamp")
    sim.publish_root()
    sim.timestamp.version = 1


def _ff_snapshot_before(sim: RepositorySimulator) -> None:
    sim.snapshot.version = 100
    sim.bump_timestamp()


def _ff_snapshot(rotate: tuple[str, ...]) -> Step:
    def step(sim: RepositorySimulator) -> None:
        for role in rotate:
            sim.rotate_keys(role)
        sim.publish_root()
        sim.snapshot.version = 1
        sim.bump_timestamp()

    return step


def _ff_targets_before(sim: RepositorySimulator) -> None:
    sim.targets.version = 100
    sim.bump_snapshot()


def _ff_targets(sim: RepositorySimulator) -> None:
    sim.rotate_keys("snapshot")
    sim.publish_root()
    sim.targets.version = 1
    sim.bump_snapshot()


R2, TS = ("root", 2), ("timestamp", None)
CASES = [
    Case("unchanged", nothing, None, [R2, TS], {"timestamp": 1, "snapshot": 1, "targets": 1}),
    Case(
        "new targets",
        lambda s: s.bump("targets"),
        None,
        [R2, TS, ("snapshot", 2), ("targets", 2)],
        {"timestamp": 2, "snapshot": 2, "targets": 2},
    ),
    Case(
        "timestamp rollback",
        _ts_rollback,
        BadVersionNumberError,
        [R2, TS],
        {"timestamp": 2},
        before=lambda s: s.bump_timestamp(),
    ),
    Case(
        "timestamp same version, new content",
        _ts_same_version_new_content,
        None,
        [R2, TS],
        {"timestamp": 1, "snapshot": 1},
    ),
    Case(
        "snapshot version rollback in timestamp",
        _snapshot_rollback,
        BadVersionNumberError,
        [R2, TS],
        {"timestamp": 2, "snapshot": 2},
        before=lambda s: s.bump_snapshot(),
    ),
    Case(
        "targets rollback",
        _targets_rollback,
        BadVersionNumberError,
        [R2, TS, ("snapshot", 3)],
        {"timestamp": 3, "snapshot": 2, "targets": 2},
        before=lambda s: s.bump("targets"),
    ),
    Case(
        "targets rollback with hashes",
        _targets_rollback,
        BadVersionNumberError,
        [R2, TS, ("snapshot", 3)],
        {"timestamp": 3, "snapshot": 2, "targets": 2},
        before=lambda s: s.bump("targets"),
        attack_hashes=True,
    ),
    Case(
        "delegated role removed from snapshot",
        _role_removal,
        BadVersionNumberError,
        [R2, TS, ("snapshot", 3)],
        {"timestamp": 3, "snapshot": 2},
        before=_with_delegated,
    ),
    Case("root expired", _expire("root"), ExpiredMetadataError, [R2, ("root", 3)], {"root": 2}),
    Case(
        "timestamp expired", _expire("timestamp"), ExpiredMetadataError, [R2, TS], {"timestamp": 1}
    ),
    Case(
        "snapshot expired",
        _expire("snapshot"),
        ExpiredMetadataError,
        [R2, TS, ("snapshot", 2)],
        {"timestamp": 2, "snapshot": 1},
    ),
    Case(
        "targets expired",
        _expire("targets"),
        ExpiredMetadataError,
        [R2, TS, ("snapshot", 2), ("targets", 2)],
        {"timestamp": 2, "snapshot": 2, "targets": 1},
    ),
    Case("root unsigned", _unsigned("root"), UnsignedMetadataError, [R2], {"root": 1}),
    Case("timestamp unsigned", _unsigned("timestamp"), UnsignedMetadataError, [R2, TS], {}),
    Case(
        "snapshot unsigned",
        _unsigned("snapshot"),
        UnsignedMetadataError,
        [R2, TS, ("snapshot", 2)],
        {"timestamp": 2, "snapshot": 1},
    ),
    Case(
        "targets unsigned",
        _unsigned("targets"),
        UnsignedMetadataError,
        [R2, TS, ("snapshot", 2), ("targets", 2)],
        {"timestamp": 2, "snapshot": 2, "targets": 1},
    ),
    Case(
        "root version mismatch",
        _version_mismatch("root"),
        BadVersionNumberError,
        [R2],
        {"root": 1},
    ),
    Case(
        "snapshot version mismatch",
        _version_mismatch("snapshot"),
        BadVersionNumberError,
        [R2, TS, ("snapshot", 2)],
        {"timestamp": 2, "snapshot": 1},
    ),
    Case(
        "targets version mismatch",
        _version_mismatch("targets"),
        BadVersionNumberError,
        [R2, TS, ("snapshot", 2), ("targets", 2)],
        {"timestamp": 2, "snapshot": 2, "targets": 1},
    ),
    Case(
        "timestamp 404",
        _missing("timestamp.json", lambda s: s.bump_timestamp()),
        DownloadHTTPError,
        [R2, TS],
        {"timestamp": 1},
    ),
    Case(
        "snapshot 404",
        _missing("2.snapshot.json", lambda s: s.bump_snapshot()),
        DownloadHTTPError,
        [R2, TS, ("snapshot", 2)],
        {"timestamp": 2, "snapshot": 1},
    ),
    Case(
        "snapshot hash mismatch",
        _tamper("2.snapshot.json", lambda s: s.bump_snapshot()),
        LengthOrHashMismatchError,
        [R2, TS, ("snapshot", 2)],
        {"timestamp": 2, "snapshot": 1},
        attack_hashes=True,
    ),
    Case(
        "targets hash mismatch",
        _tamper("2.targets.json", lambda s: s.bump("targets")),
        LengthOrHashMismatchError,
        [R2, TS, ("snapshot", 2), ("targets", 2)],
        {"timestamp": 2, "snapshot": 2, "targets": 1},
        attack_hashes=True,
    ),
    Case(
        "endless timestamp",
        _override("timestamp.json", b" " * 100_000),
        DownloadLengthMismatchError,
        [R2, TS],
        {"timestamp": 1},
    ),
    Case("malformed root", _override("2.root.json", b"[]"), FormatError, [R2], {"root": 1}),
    Case("malformed timestamp", _override("timestamp.json", b"{"), FormatError, [R2, TS], {}),
    Case("timestamp of wrong type", _wrong_type, FormatError, [R2, TS], {"timestamp": 1}),
    Case(
        "duplicate signatures",
        _dup_signature,
        FormatError,
        [R2, TS, ("snapshot", 2)],
        {"snapshot": 1},
    ),
    Case(
        "timestamp fast-forward recovery",
        _ff_timestamp,
        None,
        [R2, ("root", 3), TS, ("snapshot", 1)],
        {"root": 2, "timestamp": 1, "snapshot": 1, "targets": 1},
        before=_ff_timestamp_before,
    ),
    Case(
        "snapshot fast-forward recovery",
        _ff_snapshot(("snapshot", "timestamp")),
        None,
        [R2, ("root", 3), TS, ("snapshot", 1)],
        {"root": 2, "snapshot": 1},
        before=_ff_snapshot_before,
    ),
    Case(
        "snapshot-only key rotation recovery",
        _ff_snapshot(("snapshot",)),
        None,
        [R2, ("root", 3), TS, ("snapshot", 1)],
        {"root": 2, "timestamp": 3, "snapshot": 1},
        before=_ff_snapshot_before,
    ),
    Case(
        "targets fast-forward recovery",
        _ff_targets,
        None,
        [R2, ("root", 3), TS, ("snapshot", 3), ("targets", 1)],
        {"root": 2, "snapshot": 3, "targets": 1},
        before=_ff_targets_before,
    ),
]


def stored_version(metadata_dir: Path, role: str) -> int | None:
    path = metadata_dir / f"{role}.json"
    if not path.exists():
        return None
    version: int = json.loads(path.read_bytes())["signed"]["version"]
    return version


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_update_cycle(
    case: Case, sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    make_updater().refresh()
    case.before(sim)
    make_updater().refresh()
    sim.requests.clear()
    sim.compute_metafile_hashes_length = case.attack_hashes
    case.attack(sim)
    updater = make_updater()
    if case.error is None:
        updater.refresh()
    else:
        with pytest.raises(case.error):
            updater.refresh()
    assert sim.requests == case.requests
    for role, version in case.versions.items():
        assert stored_version(tmp_path / "metadata", role) == version, role


def test_stored_bytes_are_received_bytes(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    sim.overrides["timestamp.json"] = sim.role_bytes("timestamp") + b" "
    make_updater().refresh()
    assert (tmp_path / "metadata" / "timestamp.json").read_bytes().endswith(b"} ")


@pytest.mark.parametrize("data", [b"{}", b"[]", b"not json", b'{"signed": 1, "signatures": []}'])
def test_invalid_initial_root_makes_no_request(
    sim: RepositorySimulator, tmp_path: Path, data: bytes
) -> None:
    from client_sim import METADATA_URL

    from tufkit.client import Updater

    with pytest.raises(FormatError):
        Updater(tmp_path, METADATA_URL, trusted_root=data, fetcher=sim)
    assert sim.requests == []


def test_unsigned_initial_root_makes_no_request(sim: RepositorySimulator, tmp_path: Path) -> None:
    from client_sim import METADATA_URL

    from tufkit.client import Updater

    doc = json.loads(sim.signed_roots[0])
    doc["signatures"][0]["sig"] = "00" * 64
    with pytest.raises(UnsignedMetadataError):
        Updater(tmp_path, METADATA_URL, trusted_root=json.dumps(doc).encode(), fetcher=sim)
    assert sim.requests == []


def test_expired_local_root_and_timestamp_do_not_block(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    make_updater().refresh()
    later = datetime.now(UTC) + timedelta(days=60)
    sim.root.expires = later + timedelta(days=30)
    sim.publish_root()
    for role in ("timestamp", "snapshot", "targets"):
        getattr(sim, role).expires = later + timedelta(days=30)
    sim.bump("targets")
    make_updater(clock=lambda: later).refresh()
