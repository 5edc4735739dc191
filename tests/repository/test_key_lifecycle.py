"""Key lifecycle: adding and removing keys of any role, root rotation chains, revocation of a
compromised key, expiry warnings. Every published state is followed by python-tuf's ngclient
(the reference) and by tufkit's own client; revocation is shown by forging metadata with the
revoked key afterwards and watching both clients refuse it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from repo_support import NOW, Keys, PyTufClient, make_root, tufkit_client
from tuf.api.exceptions import UnsignedMetadataError as PyTufUnsigned

from tufkit.crypto import CryptoSigner, Key, generate
from tufkit.errors import ConfigError, UnsignedMetadataError
from tufkit.metadata import DelegatedRole, Delegations, Metadata, MetaFile, TargetFile, Targets
from tufkit.repository import MemoryStorage, Repository, succinct_bins


def _published(storage: MemoryStorage, name: str) -> Metadata[Targets]:
    return Metadata.from_bytes(storage.files[name])


def _forge_targets(
    storage: MemoryStorage, forger: CryptoSigner, snapshot_key: CryptoSigner, ts_key: CryptoSigner
) -> None:
    """Publish a targets version signed by *forger*, with snapshot and timestamp signed by the
    real online keys (the worst case: the attacker also controls the online signing)."""
    timestamp = Metadata.from_bytes(storage.files["timestamp.json"])
    snapshot_version = timestamp.signed.snapshot_meta.version
    snapshot = Metadata.from_bytes(storage.files[f"{snapshot_version}.snapshot.json"])
    version = snapshot.signed.meta["targets.json"].version + 1
    evil = TargetFile(4, {"sha256": "ee" * 32}, "evil.bin")
    forged = Metadata(
        Targets(version, expires=NOW + timedelta(days=30), targets={"evil.bin": evil})
    )
    forged.sign(forger)
    storage.files[f"{version}.targets.json"] = forged.to_bytes()
    snapshot.signed.meta["targets.json"] = MetaFile(version)
    snapshot.signed.version += 1
    snapshot.signatures.clear()
    snapshot.sign(snapshot_key)
    storage.files[f"{snapshot.signed.version}.snapshot.json"] = snapshot.to_bytes()
    timestamp.signed.snapshot_meta = MetaFile(snapshot.signed.version)
    timestamp.signed.version += 1
    timestamp.signatures.clear()
    timestamp.sign(ts_key)
    storage.files["timestamp.json"] = timestamp.to_bytes()


def test_adding_a_targets_key_with_a_higher_threshold_re_signs_targets(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    second = keys.spare[0]
    repo.add_signer(second)
    assert repo.add_key("targets", second.public_key, threshold=2) == ["targets"]
    written = repo.publish()
    assert written[:1] == ["2.targets.json"]
    assert "2.root.json" in written
    targets = _published(storage, "2.targets.json")
    assert set(targets.signatures) == {keys.targets[0].public_key.keyid, second.public_key.keyid}
    bootstrap = storage.files["1.root.json"]
    assert pytuf_client(storage, bootstrap)._trusted_set.targets.version == 2
    ours = tufkit_client(storage, bootstrap, tmp_path / "c").trusted_set.targets
    assert ours is not None
    assert ours.signed.version == 2


def test_adding_a_key_needs_no_new_version_of_the_role_itself(repo: Repository, keys: Keys) -> None:
    assert repo.add_key("snapshot", keys.spare[0].public_key) == []
    assert repo.pending == ["root"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r, k: r.add_key("nobody", k.spare[0].public_key), "no role 'nobody' is delegated"),
        (lambda r, k: r.add_key("targets", k.targets[0].public_key), "already a key of 'targets'"),
        (lambda r, k: r.remove_key("targets", k.spare[0].public_key.keyid), "not a key of"),
        (
            lambda r, k: r.remove_key("targets", k.targets[0].public_key.keyid),
            r"would have 0 keys for a threshold of 1",
        ),
        (lambda r, k: r.set_threshold("root", 3), "would have 2 keys for a threshold of 3"),
        (lambda r, k: r.set_threshold("root", 0), "must be a whole number >= 1"),
        (lambda r, k: r.rotate_keys("root"), "nothing to change"),
        (lambda r, k: r.revoke_key("ab" * 32), "not authorised for any role"),
    ],
)
def test_bad_key_changes_are_refused_and_change_nothing(
    repo: Repository, keys: Keys, call: object, message: str
) -> None:
    assert callable(call)
    with pytest.raises(ConfigError, match=message):
        call(repo, keys)
    assert repo.pending == []


def test_removing_a_key_re_signs_the_role_with_the_remaining_keys(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    second = keys.spare[0]
    repo.add_signer(second)
    repo.add_key("targets", second.public_key)
    repo.publish()
    old = keys.targets[0].public_key.keyid
    assert repo.remove_key("targets", old) == ["targets"]
    repo.publish()
    targets = _published(storage, "2.targets.json")  # adding the key needed no new version
    assert list(targets.signatures) == [second.public_key.keyid]
    assert old not in repo.root.signed.keys
    assert pytuf_client(storage, storage.files["1.root.json"])._trusted_set.targets.version == 2


def _bins_repo(keys: Keys, storage: MemoryStorage) -> Repository:
    repo = Repository.create(
        storage, make_root(keys), signers=[*keys.all(), *keys.spare], clock=lambda: NOW
    )
    with repo.edit_targets() as targets:
        targets.delegations = succinct_bins(
            [keys.spare[0].public_key], bit_length=3, name_prefix="b"
        )
    repo.add_targets([("pkg/one", b"one")])
    repo.publish()
    return repo


def test_keys_of_succinct_bins_change_for_every_bin_at_once(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    repo = _bins_repo(keys, storage)
    old, new = keys.spare[0].public_key, keys.spare[1].public_key
    assert repo.add_key("b", new) == []  # the name prefix stands for all bins
    repo.publish()
    renewed = repo.remove_key("b-3", old.keyid)  # so does any one bin
    assert renewed == [f"b-{i}" for i in range(8)]
    written = repo.publish()
    assert sorted(written[:8]) == sorted(f"2.b-{i}.json" for i in range(8))
    for i in range(8):
        assert list(_published(storage, f"2.b-{i}.json").signatures) == [new.keyid]
    bootstrap = storage.files["1.root.json"]
    assert pytuf_client(storage, bootstrap, storage.targets).get_targetinfo("pkg/one") is not None
    ours = tufkit_client(storage, bootstrap, tmp_path / "c", storage.targets)
    assert ours.get_targetinfo("pkg/one") is not None


def test_a_chain_of_root_rotations_is_followed_by_both_clients(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    """v1 2-of-2 -> v2 1-of-1 (all new) -> v3 2-of-3 -> v4 2-of-2 (one key dropped)."""
    repo = Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    bootstrap = storage.files["1.root.json"]
    following = tmp_path / "following"
    tufkit_client(storage, bootstrap, following)
    fresh = [generate() for _ in range(4)]
    for signer in fresh:
        repo.add_signer(signer)
    steps: list[tuple[list[Key], list[str], int]] = [
        ([fresh[0].public_key], [k.public_key.keyid for k in keys.root], 1),
        ([fresh[1].public_key, fresh[2].public_key], [], 2),
        ([], [fresh[1].public_key.keyid], 2),
    ]
    for add, remove, threshold in steps:
        repo.rotate_keys("root", add=add, remove=remove, threshold=threshold)
        repo.publish()
        tufkit_client(storage, bootstrap, following)  # a client that updates at every step
    assert repo.root.signed.version == 4
    assert repo.root.signed.roles["root"].keyids == [
        fresh[0].public_key.keyid,
        fresh[2].public_key.keyid,
    ]
    assert pytuf_client(storage, bootstrap)._trusted_set.root.version == 4
    ours = tufkit_client(storage, bootstrap, tmp_path / "late")
    assert ours.trusted_set.root.signed.version == 4
    assert tufkit_client(storage, bootstrap, following).trusted_set.root.signed.version == 4


def test_a_root_rotation_without_the_old_threshold_is_refused(
    repo: Repository, keys: Keys, storage: MemoryStorage
) -> None:
    fresh = generate()
    repo.add_signer(fresh)
    repo.remove_signer(keys.root[1].public_key.keyid)
    repo.rotate_keys(
        "root", add=[fresh.public_key], remove=[k.public_key.keyid for k in keys.root], threshold=1
    )
    before = dict(storage.files)
    with pytest.raises(
        ConfigError, match=r"root v2 has 1 valid signatures, threshold 2 \(as root v1"
    ):
        repo.publish()
    assert storage.files == before


def test_a_revoked_targets_key_no_longer_signs_anything_clients_accept(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    compromised, backup = keys.targets[0], keys.spare[0]
    repo.add_signer(backup)
    repo.add_key("targets", backup.public_key)
    repo.publish()
    bootstrap = storage.files["1.root.json"]
    # control: before the revocation a targets version signed by the key alone is accepted
    control = MemoryStorage()
    control.files = dict(storage.files)
    _forge_targets(control, compromised, keys.snapshot[0], keys.timestamp[0])
    assert pytuf_client(control, bootstrap).get_targetinfo("evil.bin") is not None

    assert repo.revoke_key(compromised.public_key.keyid) == ["root", "targets"]
    written = repo.publish()
    assert written[0] == "2.targets.json"
    assert "3.root.json" in written
    assert list(_published(storage, "2.targets.json").signatures) == [backup.public_key.keyid]
    assert compromised.public_key.keyid not in repo.root.signed.keys
    following = tmp_path / "following"
    tufkit_client(storage, bootstrap, following)
    assert pytuf_client(storage, bootstrap)._trusted_set.targets.version == 2

    _forge_targets(storage, compromised, keys.snapshot[0], keys.timestamp[0])
    with pytest.raises(PyTufUnsigned):
        pytuf_client(storage, bootstrap)
    with pytest.raises(UnsignedMetadataError):
        tufkit_client(storage, bootstrap, following)


def test_revoking_an_online_key_re_signs_snapshot_and_timestamp(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    online = keys.spare[0]
    repo.add_signer(online)
    repo.add_key("timestamp", online.public_key)
    repo.add_key("snapshot", online.public_key)
    repo.publish()
    compromised = keys.timestamp[0].public_key.keyid
    assert repo.revoke_key(compromised) == ["root", "timestamp"]
    repo.publish()
    timestamp = Metadata.from_bytes(storage.files["timestamp.json"])
    assert list(timestamp.signatures) == [online.public_key.keyid]
    client = pytuf_client(storage, storage.files["1.root.json"])
    assert client._trusted_set.timestamp.version == 3


def test_revoking_a_key_used_by_several_delegations_re_signs_every_role_it_could_sign(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    shared, other = keys.spare[2], keys.spare[3]
    repo = Repository.create(
        storage, make_root(keys), signers=[*keys.all(), *keys.spare], clock=lambda: NOW
    )
    ids = [shared.public_key.keyid, other.public_key.keyid]
    with repo.edit_targets() as targets:
        role = DelegatedRole("proj", ids, 1, True, paths=["proj/*"])
        targets.delegations = Delegations(
            {shared.public_key.keyid: shared.public_key, other.public_key.keyid: other.public_key},
            {"proj": role},
        )
    with repo.edit_targets("proj") as proj:
        proj.delegations = succinct_bins(
            [shared.public_key, other.public_key], bit_length=1, name_prefix="pb"
        )
    repo.add_targets([("proj/a", b"a"), ("proj/b", b"b")])
    repo.publish()
    renewed = repo.revoke_key(shared.public_key.keyid)
    assert sorted(renewed) == ["pb-0", "pb-1", "proj"]
    repo.publish()
    for name in ("2.proj.json", "2.pb-0.json", "2.pb-1.json"):
        assert list(_published(storage, name).signatures) == [other.public_key.keyid]
    client = pytuf_client(storage, storage.files["1.root.json"], storage.targets)
    assert client.get_targetinfo("proj/a") is not None
    assert client.get_targetinfo("proj/b") is not None


def test_expiry_warnings_list_roles_expiring_within_the_horizon(keys: Keys) -> None:
    now = [NOW]
    storage = MemoryStorage()
    repo = Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: now[0])
    assert [w.role for w in repo.expiring(timedelta(hours=1))] == []
    assert [w.role for w in repo.expiring(timedelta(days=2))] == ["timestamp"]
    warnings = repo.expiring(timedelta(days=100))
    assert [w.role for w in warnings] == ["timestamp", "snapshot", "targets"]
    assert warnings[0].expires == NOW + timedelta(days=1)
    assert not warnings[0].expired
    now[0] = NOW + timedelta(days=8)
    late = repo.expiring(timedelta(0))
    assert [(w.role, w.expired) for w in late] == [("timestamp", True), ("snapshot", True)]
    repo.bump("snapshot")
    repo.publish()
    assert repo.expiring(timedelta(0)) == []
    with pytest.raises(ConfigError, match="must not be negative"):
        repo.expiring(timedelta(-1))


def test_revoking_a_root_key_rotates_root_without_its_signature(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient, tmp_path: Path
) -> None:
    third = keys.spare[0]
    keys.root.append(third)  # root 2-of-3
    repo = Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    bootstrap = storage.files["1.root.json"]
    compromised = keys.root[0].public_key.keyid
    assert repo.revoke_key(compromised) == ["root"]
    repo.publish()
    new_root = Metadata.from_bytes(storage.files["2.root.json"])
    assert compromised not in new_root.signatures
    assert compromised not in repo.root.signed.keys
    assert pytuf_client(storage, bootstrap)._trusted_set.root.version == 2
    assert tufkit_client(storage, bootstrap, tmp_path / "c").trusted_set.root.signed.version == 2


def test_a_revoked_key_signs_the_root_transition_only_when_given_back(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    """Root 2-of-2 replaces a compromised key: root v1's threshold needs its signature."""
    replacement, compromised = keys.spare[0], keys.root[0]
    repo.add_signer(replacement)
    repo.add_key("root", replacement.public_key)
    repo.revoke_key(compromised.public_key.keyid)
    assert repo.root.signed.roles["root"].keyids == [
        keys.root[1].public_key.keyid,
        replacement.public_key.keyid,
    ]
    with pytest.raises(
        ConfigError, match=r"root v2 has 1 valid signatures, threshold 2 \(as root v1"
    ):
        repo.publish()
    repo.add_signer(compromised)  # authorised nowhere now but in the published root
    repo.publish()
    assert (
        compromised.public_key.keyid in Metadata.from_bytes(storage.files["2.root.json"]).signatures
    )
    assert pytuf_client(storage, storage.files["1.root.json"])._trusted_set.root.version == 2
    repo.bump("targets", "timestamp")
    repo.publish()  # the key signs nothing else
    for name in ("2.targets.json", "2.snapshot.json", "timestamp.json"):
        signatures = Metadata.from_bytes(storage.files[name]).signatures
        assert compromised.public_key.keyid not in signatures
