"""Asking about a target and downloading it give the same answer: a path that download refuses
(``..``, ``.``, empty segments, NUL) is refused by the lookup too, with an error naming it,
before any request (issue 7, "info says listed while download refuses")."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator

from tufkit.errors import FormatError

UNSAFE = ["a/../b", "../b", "a/./b", "a//b", "/abs", "a/", "..", ".", "a\0b"]


@pytest.mark.parametrize("path", UNSAFE)
def test_lookup_and_download_refuse_the_same_paths(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, path: str
) -> None:
    info = sim.add_target("targets", path, b"listed by the repository")
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    with pytest.raises(FormatError, match="is not a safe relative path") as looked_up:
        updater.lookup(path, exhaustive=True)
    with pytest.raises(FormatError, match="is not a safe relative path") as got_info:
        updater.get_targetinfo(path)
    with pytest.raises(FormatError, match="is not a safe relative path") as downloaded:
        updater.download_target(info)
    assert str(looked_up.value) == str(got_info.value) == str(downloaded.value)
    assert repr(path) in str(looked_up.value)
    assert sim.requests == []
    assert not (tmp_path / "targets").exists() or list((tmp_path / "targets").iterdir()) == []


def test_unsafe_path_is_refused_before_the_implicit_refresh(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    with pytest.raises(FormatError, match=r"'a/\.\./b'"):
        make_updater().get_targetinfo("a/../b")
    assert sim.requests == []


def test_safe_paths_still_resolve(sim: RepositorySimulator, make_updater: MakeUpdater) -> None:
    sim.add_target("targets", "a/..b/c..", b"dots inside names are fine")
    info = make_updater().get_targetinfo("a/..b/c..")
    assert info is not None
    assert info.length == len(b"dots inside names are fine")
