"""Role names never share a cache file, even on a case-insensitive, normalisation-insensitive
file system (issue 7, security 3).

No such file system can be mounted on the test machines (no vfat, no ext4 casefold, no
privileges for FUSE in CI), so :class:`CaseFoldingCache` behaves like one: it folds the case
and normalises the Unicode of every file name, as macOS (APFS, HFS+) and Windows (NTFS, FAT)
do, before the name reaches the real file system. The attack: a delegated key holder names a
role ``Timestamp``, ``ROOT`` or ``Snapshot``; before the fix its metadata replaced the trusted
timestamp (so the next refresh had no rollback baseline), the trusted root (so the client could
not start again) or the snapshot.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from client_sim import METADATA_URL, MakeUpdater, RepositorySimulator
from hypothesis import given
from hypothesis import strategies as st

import tufkit.client.updater
from tufkit.client.cache import MetadataCache, encode_role_name
from tufkit.errors import BadVersionNumberError
from tufkit.metadata import TOP_LEVEL_ROLE_NAMES


def _fold(file_name: str) -> str:
    return unicodedata.normalize("NFD", unicodedata.normalize("NFKC", file_name).casefold())


class CaseFoldingCache(MetadataCache):
    """A metadata cache whose file names behave as on a case-insensitive file system."""

    def path_of(self, role_name: str) -> str:
        directory, name = os.path.split(super().path_of(role_name))
        return os.path.join(directory, _fold(name))


@pytest.fixture(autouse=True)
def _case_insensitive_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tufkit.client.updater, "MetadataCache", CaseFoldingCache)


def _stored_type(metadata_dir: Path, role: str) -> str:
    data = Path(CaseFoldingCache(metadata_dir).path_of(role)).read_bytes()
    kind: str = json.loads(data)["signed"]["_type"]
    return kind


@pytest.mark.parametrize("name", ["Timestamp", "TIMESTAMP", "Snapshot", "ROOT", "Targets"])
def test_a_delegated_role_cannot_replace_a_top_level_file(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, name: str
) -> None:
    sim.delegate("targets", name, ["evil/*"])
    sim.add_target(name, "evil/x", b"x")
    sim.bump_snapshot()
    updater = make_updater()
    assert updater.get_targetinfo("evil/x") is not None  # the role was fetched and stored
    metadata = tmp_path / "metadata"
    for role in TOP_LEVEL_ROLE_NAMES:
        assert _stored_type(metadata, role) == role
    assert _stored_type(metadata, name) == "targets"
    # the client still starts from its stored root and reuses the stored metadata
    sim.requests.clear()
    make_updater().refresh()
    assert sim.requests == [("root", 2), ("timestamp", None)]


def test_a_delegated_role_cannot_erase_the_rollback_baseline(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.delegate("targets", "Timestamp", ["evil/*"])
    sim.bump_snapshot()
    old_timestamp = sim.role_bytes("timestamp")
    sim.bump_timestamp()
    assert make_updater().get_targetinfo("evil/x") is None  # role Timestamp fetched, stored
    sim.overrides["timestamp.json"] = old_timestamp  # a mirror replays an older timestamp
    with pytest.raises(BadVersionNumberError):
        make_updater().refresh()


NAMES = ["team", "Team", "TEAM", "tEaM", "\u00e9", "e\u0301", "\u212b", "\u00c5", "\ufb01", "fi"]


def test_roles_differing_only_in_case_or_normalisation_keep_their_own_files(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    for name in NAMES:
        sim.delegate("targets", name, [f"{name}/*"])
        sim.add_target(name, f"{name}/file", name.encode())
    sim.bump_snapshot()
    updater = make_updater()
    for name in NAMES:
        info = updater.get_targetinfo(f"{name}/file")
        assert info is not None
        assert info.length == len(name.encode())
    cache = CaseFoldingCache(tmp_path / "metadata")
    assert len({cache.path_of(name) for name in NAMES}) == len(NAMES)
    for name in NAMES:
        listed = json.loads(Path(cache.path_of(name)).read_bytes())["signed"]["targets"]
        assert list(listed) == [f"{name}/file"]
    # every stored role verifies and is reused: nothing is fetched again
    sim.requests.clear()
    again = make_updater()
    for name in NAMES:
        assert again.get_targetinfo(f"{name}/file") is not None
    assert sim.requests == [("root", 2), ("timestamp", None)]


def _variants(name: str) -> set[str]:
    forms = ("NFC", "NFD", "NFKC", "NFKD")
    cased = {name, name.lower(), name.upper(), name.swapcase(), name.casefold(), name.title()}
    return cased | {unicodedata.normalize(form, n) for form in forms for n in cased}  # type: ignore[arg-type]


@given(st.text(min_size=1, max_size=40))
def test_names_differing_in_case_or_normalisation_never_share_a_file(name: str) -> None:
    names = {n for n in _variants(name) if n}
    files = {_fold(encode_role_name(n)) for n in names}
    assert len(files) == len(names)


@given(st.text(min_size=1), st.text(min_size=1))
def test_distinct_names_never_fold_to_one_file(first: str, second: str) -> None:
    if first != second:
        assert _fold(encode_role_name(first)) != _fold(encode_role_name(second))


@given(st.text(min_size=1))
def test_encoded_names_are_fold_stable_and_never_top_level(name: str) -> None:
    stem = encode_role_name(name)
    assert _fold(stem) == stem == stem.lower()
    assert stem.isascii()
    assert "/" not in stem
    assert stem.strip(".") != ""
    assert len(f"{stem}.json".encode()) <= 255
    if name not in TOP_LEVEL_ROLE_NAMES:
        assert stem not in TOP_LEVEL_ROLE_NAMES


@pytest.mark.parametrize("name", ["x" * 300, "X" * 300, "\u00e9" * 100])
def test_long_names_are_hashed_distinctly(name: str) -> None:
    stem = encode_role_name(name)
    assert len(stem) <= 200
    assert "~" in stem
    assert stem != encode_role_name(name[:-1] + "y")


class _RecordingRepository(RepositorySimulator):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def fetch(self, url: str, max_length: int) -> bytes:
        self.urls.append(url)
        return super().fetch(url, max_length)


def test_urls_keep_the_specification_quoting(make_updater: MakeUpdater, tmp_path: Path) -> None:
    """File names fold-proof, URLs as the specification has them: ``quote(name, safe="")``."""
    sim = _RecordingRepository()
    names = ["Timestamp", "a b/C?~"]
    for name in names:
        sim.delegate("targets", name, ["x/*"])
    sim.bump_snapshot()
    updater = tufkit.client.updater.Updater(
        tmp_path / "own",
        METADATA_URL,
        trusted_root=sim.signed_roots[0],
        fetcher=sim,
    )
    assert updater.get_targetinfo("x/y") is None
    assert sim.urls[-2:] == [
        f"{METADATA_URL}1.Timestamp.json",
        f"{METADATA_URL}1.a%20b%2FC%3F~.json",
    ]
    stored = sorted(p.name for p in (tmp_path / "own").glob("*.json"))
    assert "%54imestamp.json" in stored
    assert "a%20b%2f%43%3f%7e.json" in stored
