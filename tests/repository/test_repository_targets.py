"""Target files and hashed bins: published on disk, served over HTTP on 127.0.0.1, and
downloaded by tufkit's client and by python-tuf's ngclient."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from repo_support import Keys, PyTufClient, make_root, serve_directory
from tuf.ngclient import Updater as PyTufUpdater

from tufkit.client import Updater
from tufkit.crypto import CryptoSigner
from tufkit.errors import ConfigError
from tufkit.metadata import DelegatedRole, Delegations, Metadata, TargetFile
from tufkit.repository import (
    FilesystemStorage,
    MemoryStorage,
    Repository,
    classic_bins,
    succinct_bins,
)


def _files(directory: Path, count: int, prefix: str) -> dict[str, Path]:
    out = {}
    for index in range(count):
        path = directory / f"{prefix}{index}.txt"
        path.write_bytes(f"content {prefix} {index}\n".encode() * (index + 1))
        out[f"{prefix}{index}.txt"] = path
    return out


@pytest.mark.integration
def test_targets_in_succinct_bins_download_with_both_clients_over_http(
    keys: Keys, tmp_path: Path
) -> None:
    storage = FilesystemStorage(tmp_path / "repo")
    binkey = keys.spare[0]
    repo = Repository.create(storage, make_root(keys), signers=[*keys.all(), binkey])
    with repo.edit_targets() as targets:
        targets.delegations = succinct_bins([binkey.public_key], bit_length=4, name_prefix="bin")
    (tmp_path / "pkg").mkdir()
    sources = _files(tmp_path / "pkg", 40, "a")
    described = repo.add_targets([(f"pkg/{name}", path) for name, path in sources.items()])
    written = repo.publish()
    assert written[-2:] == ["2.snapshot.json", "timestamp.json"]
    assert "2.targets.json" in written
    bootstrap = (tmp_path / "repo" / "metadata" / "1.root.json").read_bytes()
    with serve_directory(tmp_path / "repo") as url:
        ours = Updater(
            tmp_path / "ours",
            f"{url}/metadata/",
            trusted_root=bootstrap,
            target_dir=tmp_path / "ours-dl",
            target_base_url=f"{url}/targets/",
        )
        (tmp_path / "ours-dl").mkdir()
        ours.refresh()
        theirs = PyTufUpdater(
            metadata_dir=str(tmp_path / "theirs"),
            metadata_base_url=f"{url}/metadata/",
            target_base_url=f"{url}/targets/",
            target_dir=str(tmp_path / "theirs-dl"),
            bootstrap=bootstrap,
        )
        (tmp_path / "theirs-dl").mkdir()
        theirs.refresh()
        for target in described[::13]:
            name = target.path.rsplit("/", 1)[-1]
            info = ours.get_targetinfo(target.path)
            assert info is not None
            saved = ours.download_target(info, tmp_path / "ours-dl" / name)
            assert Path(saved).read_bytes() == sources[name].read_bytes()
            ref_info = theirs.get_targetinfo(target.path)
            assert ref_info is not None
            ref_saved = theirs.download_target(ref_info, str(tmp_path / "theirs-dl" / name))
            assert Path(ref_saved).read_bytes() == sources[name].read_bytes()


def test_adding_one_target_re_signs_only_its_bin(keys: Keys) -> None:
    storage = MemoryStorage()
    binkey = keys.spare[0]
    repo = Repository.create(storage, make_root(keys), signers=[*keys.all(), binkey])
    with repo.edit_targets() as targets:
        targets.delegations = succinct_bins([binkey.public_key], bit_length=8, name_prefix="b")
    repo.publish()
    repo.add_targets([("one.txt", b"one")])
    bin_name = repo.responsible_role("one.txt")
    assert repo.publish() == [f"2.{bin_name}.json", "3.snapshot.json", "timestamp.json"]


def test_bins_below_a_delegated_role_hold_that_projects_files(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient
) -> None:
    owner, binkey = keys.spare[0], keys.spare[1]
    repo = Repository.create(storage, make_root(keys), signers=[*keys.all(), owner, binkey])
    with repo.edit_targets() as targets:
        role = DelegatedRole("project", [owner.public_key.keyid], 1, True, paths=["proj/*"])
        targets.delegations = Delegations(
            {owner.public_key.keyid: owner.public_key}, {"project": role}
        )
    with repo.edit_targets("project") as project:
        project.delegations = succinct_bins([binkey.public_key], bit_length=2, name_prefix="proj")
    repo.add_targets([("proj/x.tgz", b"x" * 100), ("other.txt", b"top-level")])
    assert repo.responsible_role("proj/x.tgz").startswith("proj-")
    assert repo.responsible_role("other.txt") == "targets"
    repo.publish()
    client = pytuf_client(storage, storage.files["1.root.json"], storage.targets)
    info = client.get_targetinfo("proj/x.tgz")
    assert info is not None
    assert info.length == 100
    assert client.get_targetinfo("other.txt") is not None


def test_classic_bins_cover_every_prefix_once_and_clients_find_targets(
    keys: Keys, storage: MemoryStorage, pytuf_client: PyTufClient
) -> None:
    binkey = keys.spare[0]
    repo = Repository.create(storage, make_root(keys), signers=[*keys.all(), binkey])
    delegations = classic_bins([binkey.public_key], number_of_bins=16, name_prefix="bins")
    assert delegations.roles is not None
    prefixes = [p for r in delegations.roles.values() for p in r.path_hash_prefixes or []]
    assert sorted(prefixes) == [f"{i:x}" for i in range(16)]
    with repo.edit_targets() as targets:
        targets.delegations = delegations
    repo.add_targets([(f"f{i}", str(i).encode()) for i in range(20)])
    repo.publish()
    client = pytuf_client(storage, storage.files["1.root.json"], storage.targets)
    for i in range(20):
        assert client.get_targetinfo(f"f{i}") is not None


def test_manifest_listing_and_removal(repo: Repository, storage: MemoryStorage) -> None:
    entry = TargetFile(5, {"sha256": "ab" * 32}, "big/file.iso")
    repo.list_targets([entry])
    repo.publish()
    assert storage.targets == {}  # no content: listed from a manifest
    assert repo.targets().signed.targets["big/file.iso"] == entry
    repo.remove_targets(["big/file.iso"])
    repo.publish()
    assert "big/file.iso" not in repo.targets().signed.targets
    with pytest.raises(ConfigError, match=r"does not list target 'big/file\.iso'"):
        repo.remove_targets(["big/file.iso"])


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("../escape", b"x")], "must be relative"),
        ([("/abs", b"x")], "must be relative"),
        ([("a//b", b"x")], "must be relative"),
        ([("a\\b", b"x")], "must not contain"),
        ([("a\nb", b"x")], "must not contain"),
        ([("dup", b"x"), ("dup", b"y")], "given twice"),
        ([("missing", "/nonexistent/file")], "cannot read /nonexistent/file"),
    ],
)
def test_bad_targets_are_refused_and_change_nothing(
    repo: Repository, storage: MemoryStorage, items: list[tuple[str, Any]], message: str
) -> None:
    before = dict(storage.files)
    with pytest.raises(ConfigError, match=message):
        repo.add_targets(items)
    assert repo.pending == []
    assert repo.publish() == []
    assert storage.files == before


def test_unknown_hash_algorithm_is_a_config_error(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="unknown hash algorithm 'md5'"):
        repo.add_targets([("a", b"a")], algorithms=["md5"])


def test_more_algorithms_publish_one_copy_per_digest(
    repo: Repository, storage: MemoryStorage
) -> None:
    (target,) = repo.add_targets([("d/f.bin", b"data")], algorithms=["sha256", "sha512"])
    assert sorted(storage.targets) == sorted(
        f"d/{digest}.f.bin" for digest in target.hashes.values()
    )
    assert target.hashes["sha512"] == hashlib.sha512(b"data").hexdigest()


def test_bins_parameters_are_checked(keys: Keys) -> None:
    key = keys.spare[0].public_key
    with pytest.raises(ConfigError, match="between 1 and 32"):
        succinct_bins([key], bit_length=33, name_prefix="b")
    with pytest.raises(ConfigError, match="power of two"):
        classic_bins([key], number_of_bins=12, name_prefix="b")
    with pytest.raises(ConfigError, match="threshold"):
        succinct_bins([key], bit_length=2, name_prefix="b", threshold=2)
    with pytest.raises(ConfigError, match="role name"):
        succinct_bins([key], bit_length=2, name_prefix="../b")


def test_signed_bins_verify_against_their_delegator(keys: Keys, storage: MemoryStorage) -> None:
    binkey: CryptoSigner = keys.spare[0]
    repo = Repository.create(storage, make_root(keys), signers=[*keys.all(), binkey])
    with repo.edit_targets() as targets:
        targets.delegations = succinct_bins([binkey.public_key], bit_length=1, name_prefix="h")
    repo.publish()
    top = Metadata.from_bytes(storage.files["2.targets.json"])
    for name in ("h-0", "h-1"):
        md = Metadata.from_bytes(storage.files[f"1.{name}.json"])
        top.signed.verify_delegate(name, md.verification_payload, md.signatures)
