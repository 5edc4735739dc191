"""No target can be mistaken for a temporary file: the clean-up of abandoned downloads never
removes a downloaded target, whatever its name (issue 7, security 7)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from client_sim import TARGETS_URL, MakeUpdater, RepositorySimulator
from hypothesis import given
from hypothesis import strategies as st

from tufkit._atomic import is_temporary_name, remove_abandoned, replace_atomically
from tufkit.client.cache import encode_name, encode_role_name

LOOKALIKES = [
    ".tufkit-0123456789abcdef.part",  # the temporary name tufkit used before
    ".tufkit+0123456789abcdef.part",  # the one it uses now, spelt as a target path
    ".tufkit%2B0123456789abcdef.part",
    "dir/.tufkit-0123456789abcdef.part",
]


class _UnquotingRepository(RepositorySimulator):
    """Serves targets by their unquoted path, as an HTTP server would."""

    def fetch(self, url: str, max_length: int) -> bytes:
        if url.startswith(TARGETS_URL):
            url = TARGETS_URL + unquote(url[len(TARGETS_URL) :])
        return super().fetch(url, max_length)


@pytest.fixture
def sim() -> RepositorySimulator:
    return _UnquotingRepository()


def _age(path: Path) -> None:
    old = time.time() - 3600
    os.utime(path, (old, old))


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_target_named_like_a_temporary_file_survives_the_clean_up(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, name: str
) -> None:
    content = b"a real target, verified"
    sim.add_target("targets", name, content)
    sim.add_target("targets", "other", b"another target")
    sim.bump("targets")
    updater = make_updater()
    info = updater.get_targetinfo(name)
    assert info is not None
    local = Path(updater.download_target(info))
    _age(local)
    # a later download and a refresh both clean up abandoned temporary files
    other = updater.get_targetinfo("other")
    assert other is not None
    updater.download_target(other)
    make_updater().refresh()
    assert local.read_bytes() == content
    assert updater.find_cached_target(info) == str(local)


def test_abandoned_temporary_files_are_still_removed(tmp_path: Path) -> None:
    with replace_atomically(tmp_path / "file") as handle:
        (temporary,) = [p for p in tmp_path.iterdir() if is_temporary_name(p.name)]
        handle.write(b"x")
    assert not temporary.exists()
    abandoned = tmp_path / temporary.name
    abandoned.write_bytes(b"left by a killed writer")
    _age(abandoned)
    assert remove_abandoned(tmp_path) == 1
    assert not abandoned.exists()
    assert (tmp_path / "file").read_bytes() == b"x"


@given(st.text(min_size=1, max_size=64))
def test_no_encoded_name_is_a_temporary_name(name: str) -> None:
    assert not is_temporary_name(encode_name(name))
    assert not is_temporary_name(f"{encode_role_name(name)}.json")
    assert not is_temporary_name(encode_role_name(name))
