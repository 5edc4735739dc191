"""The repository library: edits, versions, expiry, thresholds, snapshot and timestamp production.

Every published state is checked by python-tuf's ngclient, the reference client, not only by
reading our own files back.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from repo_support import NOW, Keys, PyTufClient, make_root
from tuf.api.exceptions import UnsignedMetadataError as PyTufUnsigned

from tufkit.errors import ConfigError, StorageError
from tufkit.metadata import DelegatedRole, Delegations, Metadata, SuccinctRoles, TargetFile
from tufkit.repository import ExpiryPolicy, MemoryStorage, Repository


def _target(data: bytes, path: str) -> TargetFile:
    return TargetFile(len(data), {"sha256": hashlib.sha256(data).hexdigest()}, path)


def _hashed_name(path: str, data: bytes) -> str:
    head, _, base = path.rpartition("/")
    name = f"{hashlib.sha256(data).hexdigest()}.{base}"
    return f"{head}/{name}" if head else name


def test_create_publishes_version_1_of_every_role_that_the_reference_client_accepts(
    repo: Repository, storage: MemoryStorage, pytuf_client: PyTufClient
) -> None:
    assert sorted(storage.files) == [
        "1.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "root.json",
        "timestamp.json",
    ]
    client = pytuf_client(storage, storage.files["1.root.json"])
    assert client._trusted_set.timestamp.version == 1
    assert client._trusted_set.snapshot.version == 1
    assert client._trusted_set.targets.version == 1


def test_expiry_comes_from_the_policy_and_the_clock(keys: Keys) -> None:
    policy = ExpiryPolicy(timestamp=timedelta(hours=6), targets=timedelta(days=30))
    storage = MemoryStorage()
    repo = Repository.create(
        storage, make_root(keys), signers=keys.all(), policy=policy, clock=lambda: NOW
    )
    assert repo.timestamp.signed.expires == NOW + timedelta(hours=6)
    assert repo.targets().signed.expires == NOW + timedelta(days=30)
    assert repo.root.signed.expires == NOW + timedelta(days=365)


def test_a_role_bumps_once_per_publish_however_many_edits(
    repo: Repository, storage: MemoryStorage, pytuf_client: PyTufClient
) -> None:
    files = {}
    for path in ("a.txt", "b.txt"):
        data = path.encode() * 3
        files[_hashed_name(path, data)] = data
        with repo.edit_targets() as targets:
            targets.targets[path] = _target(data, path)
    assert repo.targets().signed.version == 2
    written = repo.publish()
    assert written == ["2.targets.json", "2.snapshot.json", "timestamp.json"]
    client = pytuf_client(storage, storage.files["1.root.json"], files)
    info = client.get_targetinfo("b.txt")
    assert info is not None
    assert client._trusted_set.targets.version == 2
    assert client._trusted_set.timestamp.version == 2


def test_an_edit_gives_a_new_version_even_without_changes(
    repo: Repository, storage: MemoryStorage
) -> None:
    with repo.edit_targets():
        pass
    assert repo.pending == ["targets"]
    assert repo.publish() == ["2.targets.json", "2.snapshot.json", "timestamp.json"]


def test_nothing_pending_publishes_nothing(repo: Repository, storage: MemoryStorage) -> None:
    before = dict(storage.files)
    assert repo.publish() == []
    assert storage.files == before


def test_an_edit_left_by_an_exception_changes_nothing(repo: Repository) -> None:
    class BoomError(Exception):
        pass

    def edit() -> None:
        with repo.edit_targets() as targets:
            targets.targets["x"] = _target(b"x", "x")
            raise BoomError

    with pytest.raises(BoomError):
        edit()
    assert repo.pending == []
    assert "x" not in repo.targets().signed.targets


def test_online_bump_makes_new_timestamp_only(repo: Repository, storage: MemoryStorage) -> None:
    repo.bump("timestamp")
    assert repo.publish() == ["timestamp.json"]
    ts = Metadata.from_bytes(storage.files["timestamp.json"])
    assert ts.signed.version == 2
    assert ts.signed.snapshot_meta.version == 1


def test_snapshot_bump_makes_snapshot_and_timestamp(
    repo: Repository, storage: MemoryStorage
) -> None:
    repo.bump("snapshot")
    assert repo.publish() == ["2.snapshot.json", "timestamp.json"]
    ts = Metadata.from_bytes(storage.files["timestamp.json"])
    snapshot_bytes = storage.files["2.snapshot.json"]
    assert ts.signed.snapshot_meta.version == 2
    assert ts.signed.snapshot_meta.length == len(snapshot_bytes)
    assert ts.signed.snapshot_meta.hashes == {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}


def test_publish_refuses_a_role_below_its_threshold_and_writes_nothing(keys: Keys) -> None:
    storage = MemoryStorage()
    root = make_root(keys)
    root.add_key(keys.spare[0].public_key, "targets")
    root.roles["targets"].threshold = 2
    repo = Repository.create(storage, root, signers=[*keys.all(), keys.spare[0]], clock=lambda: NOW)
    reopened = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    before = dict(storage.files)
    with reopened.edit_targets() as targets:
        targets.targets["x"] = _target(b"x", "x")
    with pytest.raises(ConfigError, match=r"targets v2 has 1 valid signatures, threshold 2"):
        reopened.publish()
    assert storage.files == before
    assert storage.read_journal() is None
    assert repo.targets().signed.version == 1


def test_create_refuses_without_a_threshold_of_root_keys(keys: Keys) -> None:
    storage = MemoryStorage()
    with pytest.raises(ConfigError, match=r"root v1 has 1 valid signatures, threshold 2"):
        Repository.create(storage, make_root(keys), signers=keys.all()[1:], clock=lambda: NOW)
    assert storage.files == {}


def test_create_refuses_a_storage_that_holds_a_repository(
    repo: Repository, storage: MemoryStorage, keys: Keys
) -> None:
    with pytest.raises(ConfigError, match="already holds a repository"):
        Repository.create(storage, make_root(keys), signers=keys.all())


def test_root_rotation_needs_old_and_new_thresholds_and_clients_follow_it(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    bootstrap = storage.files["1.root.json"]
    old_root_keys = list(keys.root)
    new_root_keys = keys.spare[:2]
    # a new root signed only by the new keys: the old threshold is not met
    only_new = Repository.open(
        storage, signers=[*new_root_keys, *keys.all()[2:]], clock=lambda: NOW
    )
    with only_new.edit_root() as root:
        for signer in old_root_keys:
            root.revoke_key(signer.public_key.keyid, "root")
        for signer in new_root_keys:
            root.add_key(signer.public_key, "root")
    with pytest.raises(ConfigError, match=r"root v2 .* \(as root v1 requires\)"):
        only_new.publish()
    # with both sets of keys it publishes, and a client walks from v1 to v2
    repo.add_signer(new_root_keys[0])
    repo.add_signer(new_root_keys[1])
    with repo.edit_root() as root:
        for signer in old_root_keys:
            root.revoke_key(signer.public_key.keyid, "root")
        for signer in new_root_keys:
            root.add_key(signer.public_key, "root")
    assert repo.publish() == ["2.root.json", "root.json"]
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 2


def test_rotating_the_timestamp_key_re_signs_timestamp_in_the_same_publish(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    bootstrap = storage.files["1.root.json"]
    new_key = keys.spare[0]
    repo.add_signer(new_key)
    with repo.edit_root() as root:
        root.revoke_key(keys.timestamp[0].public_key.keyid, "timestamp")
        root.add_key(new_key.public_key, "timestamp")
    written = repo.publish()
    assert written == ["2.snapshot.json", "2.root.json", "root.json", "timestamp.json"]
    ts = Metadata.from_bytes(storage.files["timestamp.json"])
    assert list(ts.signatures) == [new_key.public_key.keyid]
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.timestamp.version == 2


def test_a_repository_without_the_new_timestamp_key_cannot_publish_the_rotation(
    repo: Repository, storage: MemoryStorage, keys: Keys
) -> None:
    before = dict(storage.files)
    with repo.edit_root() as root:
        root.revoke_key(keys.timestamp[0].public_key.keyid, "timestamp")
        root.add_key(keys.spare[0].public_key, "timestamp")
    with pytest.raises(ConfigError, match=r"timestamp v2 has 0 valid signatures, threshold 1"):
        repo.publish()
    assert storage.files == before


def test_delegation_creates_the_delegated_role_and_clients_find_its_targets(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    owner = keys.spare[0]
    repo.add_signer(owner)
    with repo.edit_targets() as targets:
        role = DelegatedRole("projects", [owner.public_key.keyid], 1, True, paths=["proj/*"])
        targets.delegations = Delegations(
            {owner.public_key.keyid: owner.public_key}, {"projects": role}
        )
    data = b"project file"
    with repo.edit_targets("projects") as projects:
        projects.targets["proj/f.tgz"] = _target(data, "proj/f.tgz")
    written = repo.publish()
    assert written == ["1.projects.json", "2.targets.json", "2.snapshot.json", "timestamp.json"]
    client = pytuf_client(
        storage, storage.files["1.root.json"], {_hashed_name("proj/f.tgz", data): data}
    )
    info = client.get_targetinfo("proj/f.tgz")
    assert info is not None
    assert info.length == len(data)


def test_succinct_bins_are_all_created_in_one_publish(
    repo: Repository, storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    binkey = keys.spare[1]
    repo.add_signer(binkey)
    bins = SuccinctRoles([binkey.public_key.keyid], 1, bit_length=3, name_prefix="bin")
    with repo.edit_targets() as targets:
        targets.delegations = Delegations(
            {binkey.public_key.keyid: binkey.public_key}, succinct_roles=bins
        )
    data = b"binned"
    with repo.edit_targets(bins.get_role_for_target("pkg/a.whl")) as bin_role:
        bin_role.targets["pkg/a.whl"] = _target(data, "pkg/a.whl")
    repo.publish()
    snapshot = Metadata.from_bytes(storage.files["2.snapshot.json"])
    assert sorted(snapshot.signed.meta) == sorted(
        [f"{name}.json" for name in bins.get_roles()] + ["targets.json"]
    )
    client = pytuf_client(
        storage, storage.files["1.root.json"], {_hashed_name("pkg/a.whl", data): data}
    )
    assert client.get_targetinfo("pkg/a.whl") is not None


def test_editing_a_role_nobody_delegates_to_is_refused(repo: Repository) -> None:
    with (
        pytest.raises(ConfigError, match="no targets role delegates to 'orphan'"),
        repo.edit_targets("orphan"),
    ):
        pass


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "a\0b", "a\x1bb", "", " pad", "a\\b"])
def test_role_names_that_could_touch_the_file_system_are_refused(
    repo: Repository, name: str
) -> None:
    with pytest.raises(ConfigError, match="role name"), repo.edit_targets(name):
        pass


def test_a_wrongly_signed_publish_is_caught_by_the_reference_client_too(
    storage: MemoryStorage, keys: Keys, pytuf_client: PyTufClient
) -> None:
    """The threshold check is not ours alone: bypass it and python-tuf refuses the result."""
    Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    bootstrap = storage.files["1.root.json"]
    without_targets_key = [*keys.root, *keys.snapshot, *keys.timestamp]
    repo = Repository.open(storage, signers=without_targets_key, clock=lambda: NOW)
    with repo.edit_targets() as targets:
        targets.targets["x"] = _target(b"x", "x")
    with pytest.raises(ConfigError, match="targets v2 has 0 valid signatures"):
        repo.publish()
    monkey = pytest.MonkeyPatch()
    monkey.setattr("tufkit.repository._repository._require_threshold", lambda *a: None)
    try:
        repo.publish()
    finally:
        monkey.undo()
    with pytest.raises(PyTufUnsigned):
        pytuf_client(storage, bootstrap)


def test_open_refuses_tampered_published_metadata(
    repo: Repository, storage: MemoryStorage, keys: Keys
) -> None:
    data = storage.files["timestamp.json"].replace(b'"version":1', b'"version":7')
    storage.files["timestamp.json"] = data
    with pytest.raises(StorageError, match=r"timestamp\.json has 0 valid signatures"):
        Repository.open(storage, signers=keys.all())


def test_open_on_empty_storage_says_there_is_no_repository() -> None:
    with pytest.raises(ConfigError, match="no repository here"):
        Repository.open(MemoryStorage())
