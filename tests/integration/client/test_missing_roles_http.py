"""Roles missing from snapshot, over HTTP, with python-tuf 7.0.1's ngclient as the oracle: both
clients fail, naming the role, and neither requests the unlisted role (issue 7, security 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytuf_repo import PyTufRepo, serve

from tufkit.client import Updater
from tufkit.errors import RepositoryError

pytestmark = pytest.mark.integration


def _unlist(repo: PyTufRepo, role: str) -> None:
    """Re-publish snapshot and timestamp (same versions) without *role* in snapshot."""
    from tuf.api.metadata import MetaFile

    del repo.snapshot.signed.meta[f"{role}.json"]
    repo._sign("snapshot", repo.snapshot)
    repo._write_versioned("snapshot", repo.snapshot)
    repo.timestamp.signed.snapshot_meta = MetaFile(repo.snapshot.signed.version)
    repo._sign("timestamp", repo.timestamp)
    repo._write("timestamp.json", repo.timestamp)


def _tufkit(repo: PyTufRepo, url: str, work: Path, path: str | None) -> str:
    updater = Updater(
        work / "tk-meta",
        f"{url}/metadata/",
        trusted_root=repo.root_bytes(),
        target_dir=work / "tk-targets",
        target_base_url=f"{url}/targets/",
    )
    if path is None:
        with pytest.raises(RepositoryError) as caught:
            updater.refresh()
    else:
        updater.refresh()
        with pytest.raises(RepositoryError) as caught:
            updater.get_targetinfo(path)
    return str(caught.value)


def _python_tuf(repo: PyTufRepo, url: str, work: Path, path: str | None) -> str:
    from tuf.api.exceptions import RepositoryError as ReferenceRepositoryError
    from tuf.ngclient import Updater as ReferenceUpdater

    (work / "ref-meta").mkdir(exist_ok=True)
    updater = ReferenceUpdater(
        str(work / "ref-meta"), f"{url}/metadata/", bootstrap=repo.root_bytes()
    )
    if path is None:
        with pytest.raises(ReferenceRepositoryError) as caught:
            updater.refresh()
    else:
        updater.refresh()
        with pytest.raises(ReferenceRepositoryError) as caught:
            updater.get_targetinfo(path)
    return str(caught.value)


@pytest.mark.parametrize("consistent", [True, False], ids=["consistent", "plain"])
def test_snapshot_without_targets(tmp_path: Path, consistent: bool) -> None:
    repo = PyTufRepo(tmp_path / "repo", consistent=consistent)
    repo.add_target("file.txt", b"hello")
    repo.publish()
    _unlist(repo, "targets")
    with serve(tmp_path / "repo") as (url, paths):
        reference = _python_tuf(repo, url, tmp_path, None)
        assert not any("targets.json" in p for p in paths)
        paths.clear()
        mine = _tufkit(repo, url, tmp_path, None)
        assert not any("targets.json" in p for p in paths)
    assert "Role targets " in reference  # python-tuf names the role too
    assert "'targets'" in mine
    assert (tmp_path / "tk-meta" / "snapshot.json").exists()
    assert not (tmp_path / "tk-meta" / "targets.json").exists()


def test_delegated_role_missing_from_snapshot(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.delegate("targets", "team", ["team/*"])
    repo.delegate("targets", "fallback", ["*/*"])
    repo.add_target("team/app.tgz", b"fallback app", "fallback")
    repo.publish()
    _unlist(repo, "team")
    with serve(tmp_path / "repo") as (url, paths):
        reference = _python_tuf(repo, url, tmp_path, "team/app.tgz")
        mine = _tufkit(repo, url, tmp_path, "team/app.tgz")
    assert "Role team " in reference
    assert "'team'" in mine
    assert not any("team.json" in p or "fallback.json" in p for p in paths)
