"""Replica of tuf-conformance ``test_basic.py``: the top-level refresh, end to end."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conformance_runner import Setup
from conformance_sim import new_signer, recompute_keyid
from tuf.api.metadata import Metadata, MetaFile, Timestamp

FIRST_REFRESH = [("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)]
FIRST_REFRESH_PATHS = [
    "metadata/2.root.json",
    "metadata/timestamp.json",
    "metadata/1.snapshot.json",
    "metadata/1.targets.json",
]


def test_basic_refresh_requests(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.repo.requests == []
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.repo.requests == FIRST_REFRESH
    assert setup.repo.paths == FIRST_REFRESH_PATHS


def test_basic_refresh_trusted_data(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    for role in ("root", "timestamp", "snapshot", "targets"):
        setup.client.assert_metadata(role, setup.repo.latest(role))
    assert setup.client.files_outside() == []


def test_implicit_refresh(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.download(setup.endpoints, "nonexistent artifact") == 1
    assert setup.repo.requests == FIRST_REFRESH
    assert setup.repo.artifact_requests == []
    for role in ("root", "timestamp", "snapshot", "targets"):
        setup.client.assert_metadata(role, setup.repo.latest(role))
    assert setup.client.downloaded() == []


def _corrupted_root(setup: Setup, edit: str) -> bytes:
    doc = json.loads(setup.endpoints.trusted_root)
    if edit == "no-version":
        del doc["signed"]["version"]
    else:  # a plausible ecdsa signature over something else
        doc["signatures"][0]["sig"] = (
            "3045022100ee448afe2d25dd1f05afedac83a24e7df90f203615221434979153dc7cea6d4702"
            "207710015851e571885a77db8a6e42c4b2983a59b9e1ebec91178dfa2fb0d42ab8"
        )
    return json.dumps(doc).encode()


@pytest.mark.parametrize("edit", ["no-version", "bad-signature"])
def test_invalid_or_unsigned_initial_root(setup: Setup, edit: str) -> None:
    """test_invalid_initial_root and test_unsigned_initial_root: no request is ever made."""
    endpoints = type(setup.endpoints)(
        setup.endpoints.metadata_url,
        setup.endpoints.targets_url,
        _corrupted_root(setup, edit),
    )
    setup.client.init(endpoints)  # may or may not validate
    assert setup.client.refresh(endpoints) == 1
    assert setup.repo.requests == []


@dataclass(frozen=True)
class TrustedAfter:
    role: str
    trusted: list[tuple[str, int]]


UNSIGNED = [
    TrustedAfter("root", [("root", 1)]),
    TrustedAfter("timestamp", [("root", 2)]),
    TrustedAfter("snapshot", [("root", 2), ("timestamp", 2)]),
    TrustedAfter("targets", [("root", 2), ("snapshot", 2), ("timestamp", 2)]),
]


@pytest.mark.parametrize("case", UNSIGNED, ids=[c.role for c in UNSIGNED])
def test_unsigned_metadata(setup: Setup, case: TrustedAfter) -> None:
    setup.repo.signers[case.role].popitem()
    setup.repo.publish(["root", "targets", "snapshot", "timestamp"])
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == case.trusted


MISMATCH = [
    TrustedAfter("root", [("root", 1)]),
    TrustedAfter("snapshot", [("root", 2), ("timestamp", 2)]),
    TrustedAfter("targets", [("root", 2), ("snapshot", 2), ("timestamp", 2)]),
]


@pytest.mark.parametrize("case", MISMATCH, ids=[c.role for c in MISMATCH])
def test_url_and_metadata_version_mismatch(setup: Setup, case: TrustedAfter) -> None:
    """Version 2 in the URL, version 3 inside: refused."""
    setup.repo.mds[case.role].signed.version += 1
    setup.repo.publish(["root", "targets", "snapshot", "timestamp"], check_version=False)
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == case.trusted


def test_timestamp_content_changes(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.timestamp.snapshot_meta.version = 100
    del setup.repo.published["timestamp"]
    setup.repo.publish(["timestamp"])  # a different v1
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.repo.requests[-1] == ("timestamp", None)
    stored = Metadata[Timestamp].from_bytes(setup.client.stored("timestamp") or b"")
    assert stored.signed.snapshot_meta.version == 1


def test_basic_metadata_hash_support(setup: Setup) -> None:
    setup.repo.hashes_in_meta = True
    setup.repo.publish(["targets", "snapshot", "timestamp"])  # v2 each
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0

    setup.repo.publish(["targets"])  # v3
    hashes = setup.repo.snapshot.meta["targets.json"].hashes
    assert hashes
    hashes["sha256"] = "46419349341cfb2d95f6ae3d4cd5c3d3dd7f4673985dad42a45130be5e0531a0"
    setup.repo.publish(["snapshot", "timestamp"])  # v3
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") == 3
    assert setup.client.version("targets") == 2


def test_snapshot_hash_mismatch(setup: Setup) -> None:
    """The checklist's test_snapshot_hash_mismatch: a bad snapshot hash in timestamp."""
    setup.repo.hashes_in_meta = True
    setup.repo.publish(["targets", "snapshot", "timestamp"])
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.publish(["snapshot"])  # v3
    hashes = setup.repo.timestamp.snapshot_meta.hashes
    assert hashes
    hashes["sha256"] = "46419349341cfb2d95f6ae3d4cd5c3d3dd7f4673985dad42a45130be5e0531a0"
    setup.repo.publish(["timestamp"])  # v3
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("timestamp") == 3
    assert setup.client.version("snapshot") == 2


def test_metadata_bytes_match(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    data = setup.repo.published["timestamp"][-1] + b" "
    setup.repo.published["timestamp"][-1] = data
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.stored("timestamp") == data


def test_custom_fields(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    signer = new_signer()
    signer.public_key.unrecognized_fields["extra-field"] = {"a": 1, "b": 2}
    recompute_keyid(signer.public_key)
    setup.repo.root.unrecognized_fields["custom-field"] = "value"
    setup.repo.add_key("root", signer=signer)
    setup.repo.root.roles["root"].unrecognized_fields["another-field"] = "value"
    setup.repo.publish(["root"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("root") == 2


def test_deprecated_keyid_hash_algorithms(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    old = setup.repo.root.roles["snapshot"].keyids[0]
    setup.repo.root.revoke_key(old, "snapshot")
    del setup.repo.signers["snapshot"][old]
    signer = new_signer()
    signer.public_key.unrecognized_fields = {"keyid_hash_algorithms": "md5"}
    recompute_keyid(signer.public_key)
    setup.repo.add_key("snapshot", signer=signer)
    setup.repo.publish(["root", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("root") == 2
    assert setup.client.version("snapshot") == 2


def test_snapshot_404(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.timestamp.snapshot_meta.version += 1
    setup.repo.publish(["timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.repo.requests[-1] == ("snapshot", 2)
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 1),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_targets_404(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.snapshot.meta["targets.json"].version += 1
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.repo.requests[-1] == ("targets", 2)
    assert setup.client.trusted_roles() == [
        ("root", 1),
        ("snapshot", 2),
        ("targets", 1),
        ("timestamp", 2),
    ]


def test_timestamp_404(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    del setup.repo.published["timestamp"]
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.repo.requests[-1] == ("timestamp", None)


def test_incorrect_metadata_type(setup: Setup) -> None:
    """A snapshot, signed by the timestamp key too, served as timestamp v2: refused."""
    assert setup.client.init(setup.endpoints) == 0
    timestamp_signer = next(iter(setup.repo.signers["timestamp"].values()))
    assert hasattr(timestamp_signer, "public_key")
    setup.repo.add_key("snapshot", signer=timestamp_signer)  # type: ignore[arg-type]
    setup.repo.snapshot.meta = {"snapshot.json": MetaFile(1)}
    setup.repo.publish(["root", "snapshot"])
    setup.repo.published["timestamp"].append(setup.repo.published["snapshot"].pop())
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.trusted_roles() == [("root", 2)]


def test_faketime(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    now = datetime.now(UTC)
    setup.repo.root.expires = now + timedelta(days=7)
    setup.repo.publish(["root"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints, now + timedelta(days=8)) == 1


def test_new_targets_version_mismatch(setup: Setup) -> None:
    """Targets v2 published but not in snapshot: the client keeps v1 and asks for nothing."""
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.publish(["targets"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("targets") == 1
    assert setup.repo.requests[-1] == ("timestamp", None)


def test_refresh_without_trailing_slash(setup: Setup) -> None:
    """CLIENT-CLI.md's example URL has no trailing slash; the requests are the same."""
    endpoints = type(setup.endpoints)(
        setup.endpoints.metadata_url.rstrip("/"),
        setup.endpoints.targets_url.rstrip("/"),
        setup.endpoints.trusted_root,
    )
    assert setup.client.init(endpoints) == 0
    assert setup.client.refresh(endpoints) == 0
    assert setup.repo.paths == FIRST_REFRESH_PATHS
