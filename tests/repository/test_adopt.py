"""Adopting a repository made by python-tuf's Metadata API: tufkit opens it in its own layout
(consistent snapshots without ``root.json``, or unversioned names only), with a path delegation
and succinct bins below it, and keeps publishing; python-tuf's ngclient and tufkit's client,
which followed the repository before, keep updating over HTTP without noticing the change of
tool (the same cache directories, no new bootstrap)."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_pytuf import PyTufRepository, build_pytuf_repository
from repo_support import NOW, serve_directory
from tuf.ngclient import Updater as PyTufUpdater

from tufkit.client import Updater
from tufkit.crypto import generate
from tufkit.errors import ConfigError, StorageError
from tufkit.metadata import Metadata
from tufkit.repository import FilesystemStorage, Repository, get_repository_result


def _clients(made: PyTufRepository, url: str, tmp_path: Path) -> tuple[PyTufUpdater, Updater]:
    """Both clients, over the cache directories they keep between runs."""
    theirs_dir, ours_dir = tmp_path / "theirs", tmp_path / "ours"
    first = not theirs_dir.exists()
    for directory in (theirs_dir, ours_dir, tmp_path / "downloads"):
        directory.mkdir(exist_ok=True)
    theirs = PyTufUpdater(
        metadata_dir=str(theirs_dir),
        metadata_base_url=f"{url}/metadata/",
        target_base_url=f"{url}/targets/",
        target_dir=str(tmp_path / "downloads"),
        bootstrap=made.bootstrap if first else None,
    )
    theirs.refresh()
    targets_url, downloads = f"{url}/targets/", tmp_path / "downloads"
    if first:
        ours = Updater(
            ours_dir,
            f"{url}/metadata/",
            trusted_root=made.bootstrap,
            target_base_url=targets_url,
            target_dir=downloads,
        )
    else:
        ours = Updater.from_trusted_cache(
            ours_dir, f"{url}/metadata/", target_base_url=targets_url, target_dir=downloads
        )
    ours.refresh()
    return theirs, ours


def _download_both(theirs: PyTufUpdater, ours: Updater, path: str, tmp_path: Path) -> bytes:
    ref_info = theirs.get_targetinfo(path)
    assert ref_info is not None, path
    ref = Path(theirs.download_target(ref_info, str(tmp_path / "ref.bin"))).read_bytes()
    info = ours.get_targetinfo(path)
    assert info is not None, path
    mine = Path(ours.download_target(info, tmp_path / "ours.bin")).read_bytes()
    assert mine == ref
    return mine


@pytest.mark.integration
@pytest.mark.parametrize("consistent", [True, False], ids=["consistent", "unversioned"])
def test_a_python_tuf_repository_is_adopted_and_clients_keep_updating(
    tmp_path: Path, consistent: bool
) -> None:
    made = build_pytuf_repository(tmp_path / "site", consistent=consistent, now=NOW)
    signers = [key.tufkit for key in made.keys.values()]
    storage = FilesystemStorage(
        tmp_path / "state", metadata_dir=made.metadata_dir, targets_dir=made.targets_dir
    )
    assert get_repository_result(storage, reference_time=NOW).ok  # python-tuf's repo checks out
    with serve_directory(tmp_path / "site") as url:
        theirs, ours = _clients(made, url, tmp_path)
        assert _download_both(theirs, ours, "proj/a.txt", tmp_path) == made.contents["proj/a.txt"]

        repo = Repository.open(storage, signers=signers, clock=lambda: NOW)
        new_online = generate()
        repo.add_signer(new_online)
        old_online = made.keys["online"].keyid
        repo.rotate_keys("timestamp", add=[new_online.public_key], remove=[old_online])
        repo.add_targets([("proj/new.txt", b"new in a bin\n"), ("top2.txt", b"top 2\n")])
        repo.publish()
        assert repo.verify().ok

        again = Repository.open(storage, signers=[*signers, new_online], clock=lambda: NOW)
        again.add_targets([("proj/later.txt", b"later\n")])
        again.remove_targets(["proj/b.txt"])
        again.publish()

        theirs, ours = _clients(made, url, tmp_path)
        assert theirs._trusted_set.root.version == 2
        assert ours.trusted_set.root.signed.version == 2
        timestamp = Metadata.from_bytes((made.metadata_dir / "timestamp.json").read_bytes())
        assert list(timestamp.signatures) == [new_online.public_key.keyid]
        for path, data in [("proj/new.txt", b"new in a bin\n"), ("proj/later.txt", b"later\n")]:
            assert _download_both(theirs, ours, path, tmp_path) == data
        assert _download_both(theirs, ours, "top.txt", tmp_path) == made.contents["top.txt"]
        assert theirs.get_targetinfo("proj/b.txt") is None
        assert ours.get_targetinfo("proj/b.txt") is None
    assert get_repository_result(storage, reference_time=NOW).ok


def test_adopting_without_a_threshold_of_a_roles_keys_publishes_nothing(tmp_path: Path) -> None:
    made = build_pytuf_repository(tmp_path / "site", consistent=True, now=NOW)
    storage = FilesystemStorage(
        tmp_path / "state", metadata_dir=made.metadata_dir, targets_dir=made.targets_dir
    )
    before = sorted(p.name for p in made.metadata_dir.iterdir())
    held = [key.tufkit for role, key in made.keys.items() if role != "pb"]
    repo = Repository.open(storage, signers=held, clock=lambda: NOW)
    repo.add_targets([("proj/x.txt", b"x")])
    with pytest.raises(ConfigError, match=r"pb-\d v2 has 0 valid signatures, threshold 1"):
        repo.publish()
    assert sorted(p.name for p in made.metadata_dir.iterdir()) == before


def test_adopting_a_directory_without_a_repository_names_what_is_missing(tmp_path: Path) -> None:
    made = build_pytuf_repository(tmp_path / "site", consistent=True, now=NOW)
    (made.metadata_dir / "timestamp.json").unlink()
    storage = FilesystemStorage(tmp_path / "state", metadata_dir=made.metadata_dir)
    with pytest.raises(StorageError, match=r"timestamp\.json is missing"):
        Repository.open(storage)
