"""Delegation search: order, termination, cycles, diamonds, the bound, bins, path traversal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from client_sim import MakeUpdater, RepositorySimulator, future

from tufkit.client import UpdaterConfig
from tufkit.crypto import generate
from tufkit.errors import (
    FormatError,
    RepositoryError,
    UnsignedMetadataError,
    UnsupportedAlgorithmError,
)
from tufkit.metadata import Delegations, MetaFile, SuccinctRoles, TargetFile, Targets

# (delegator, role, paths, terminating)
Edge = tuple[str, str, list[str], bool]


@dataclass(frozen=True)
class Graph:
    name: str
    edges: list[Edge]
    target_path: str
    holder: str | None  # which role lists the target (None: nobody)
    visited: list[str]  # delegated roles requested, in order
    found: bool


GRAPHS = [
    Graph("basic", [("targets", "A", ["*"], False)], "t", None, ["A"], False),
    Graph(
        "single level", [("targets", "A", ["*"], False), ("targets", "B", ["*"], False)],
        "t", "B", ["A", "B"], True,
    ),
    Graph(
        "depth first",
        [("targets", "A", ["*"], False), ("targets", "B", ["*"], False),
         ("A", "C", ["*"], False)],
        "t", None, ["A", "C", "B"], False,
    ),
    Graph(
        "first match wins",
        [("targets", "A", ["*"], False), ("targets", "B", ["*"], False)],
        "t", "A", ["A"], True,
    ),
    Graph(
        "terminating at top",
        [("targets", "A", ["*"], True), ("targets", "B", ["*"], False),
         ("A", "C", ["*"], False)],
        "t", "B", ["A", "C"], False,
    ),
    Graph(
        "terminating at depth 2 drops pending roles",
        [("targets", "A", ["*"], False), ("targets", "E", ["*"], False),
         ("A", "B", ["*"], True), ("A", "C", ["*"], False), ("B", "D", ["*"], False)],
        "t", "E", ["A", "B", "D"], False,
    ),
    Graph(
        "non-matching terminating has no effect",
        [("targets", "A", ["x/*"], True), ("targets", "B", ["*"], False)],
        "t", "B", ["B"], True,
    ),
    Graph(
        "non-matching branches skipped",
        [("targets", "A", ["x/*"], False), ("targets", "B", ["*"], False),
         ("B", "C", ["y"], False)],
        "t", None, ["B"], False,
    ),
    Graph(
        "cycle visited once",
        [("targets", "A", ["*"], False), ("A", "B", ["*"], False),
         ("B", "A", ["*"], False), ("B", "C", ["*"], False)],
        "t", None, ["A", "B", "C"], False,
    ),
    Graph(
        "two delegators to one role",
        [("targets", "A", ["*"], False), ("targets", "B", ["*"], False),
         ("A", "C", ["*"], False), ("B", "C", ["*"], False)],
        "t", None, ["A", "C", "B"], False,
    ),
    Graph(
        "chain must cover the path",
        [("targets", "B", ["releases/*/*.zip"], False),
         ("B", "D", ["releases/y/*.zip"], False)],
        "releases/z/z_v1.zip", "D", ["B"], False,
    ),
    Graph("star does not cross /", [("targets", "A", ["*"], False)], "a/b", "A", [], False),
    Graph("question mark", [("targets", "A", ["foo-?.tgz"], False)], "foo-1.tgz", "A", ["A"], True),
    Graph("case sensitive", [("targets", "A", ["*.md"], False)], "README.MD", "A", [], False),
]  # fmt: skip


def _build(sim: RepositorySimulator, graph: Graph) -> None:
    for delegator, role, paths, terminating in graph.edges:
        signer = sim.signers[role][0] if role in sim.signers else None
        sim.delegate(delegator, role, paths, terminating=terminating, signer=signer)
    if graph.holder is not None:
        sim.add_target(graph.holder, graph.target_path, b"content")
    sim.bump_snapshot()


@pytest.mark.parametrize("graph", GRAPHS, ids=[g.name for g in GRAPHS])
def test_graph_traversal(sim: RepositorySimulator, make_updater: MakeUpdater, graph: Graph) -> None:
    _build(sim, graph)
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    info = updater.get_targetinfo(graph.target_path)
    assert (info is not None) == graph.found
    assert sim.requests == [(role, 1) for role in graph.visited]
    # a second lookup is served from memory
    sim.requests.clear()
    updater.get_targetinfo(graph.target_path)
    assert sim.requests == []


def test_delegation_bound(sim: RepositorySimulator, make_updater: MakeUpdater) -> None:
    names = [f"r{i}" for i in range(10)]
    parent = "targets"
    for name in names:
        sim.delegate(parent, name)
        parent = name
    sim.add_target("r9", "t", b"x")
    sim.bump_snapshot()
    updater = make_updater(UpdaterConfig(max_delegations=5))
    updater.refresh()
    sim.requests.clear()
    assert updater.get_targetinfo("t") is None
    assert sim.requests == [(n, 1) for n in names[:5]]


def test_role_not_in_snapshot_is_never_fetched(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.delegate("targets", "A")
    sim.add_target("A", "t", b"x")
    del sim.snapshot.meta["A.json"]
    sim.bump_snapshot()
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    with pytest.raises(RepositoryError, match="does not list role 'A'"):
        updater.get_targetinfo("t")
    assert sim.requests == []


def test_succinct_bins(sim: RepositorySimulator, make_updater: MakeUpdater) -> None:
    signer = generate("ed25519")
    succinct = SuccinctRoles([], 1, 4, "bin")
    sim.targets.delegations = Delegations({}, succinct_roles=succinct)
    sim.targets.add_key(signer.public_key, "bin-0")
    for name in succinct.get_roles():
        sim.signers[name] = [signer]
        sim.delegated[name] = Targets(expires=future())
        sim.snapshot.meta[f"{name}.json"] = MetaFile(1)
    role = succinct.get_role_for_target("pkg/a.tgz")
    sim.add_target(role, "pkg/a.tgz", b"a")
    sim.bump_snapshot()
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    assert updater.get_targetinfo("pkg/a.tgz") is not None
    assert sim.requests == [(role, 1)]


def test_diamond_role_is_verified_against_current_delegator(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    sim.delegate("targets", "parent-a", ["team-a/*"])
    sim.delegate("targets", "parent-b", ["team-b/*"])
    key_a = sim.delegate("parent-a", "release", ["team-a/*"])
    sim.delegate("parent-b", "release", ["team-b/*"], signer=generate("ed25519"))
    sim.signers["release"] = [key_a]  # release.json carries only KA's signature
    sim.add_target("release", "team-a/file", b"trusted A")
    sim.add_target("release", "team-b/file", b"malicious B")
    sim.bump_snapshot()
    updater = make_updater()
    updater.refresh()
    info = updater.get_targetinfo("team-a/file")
    assert info is not None
    updater.download_target(info)
    with pytest.raises(UnsignedMetadataError):
        updater.get_targetinfo("team-b/file")
    # and again from a fresh process whose cache holds release.json verified via parent-a
    with pytest.raises(UnsignedMetadataError):
        make_updater().get_targetinfo("team-b/file")
    files = [p.read_bytes() for p in (tmp_path / "targets").iterdir()]
    assert files == [b"trusted A"]


@pytest.mark.parametrize(
    ("role", "quoted"),
    [("?", "%3f"), ("#", "%23"), ("/delegatedrole", "%2fdelegatedrole"),
     ("../delegatedrole", "..%2fdelegatedrole"), ("..", "%2e.")],
)  # fmt: skip
def test_unusual_role_names(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, role: str, quoted: str
) -> None:
    sim.delegate("targets", role)
    sim.bump_snapshot()
    updater = make_updater()
    updater.refresh()
    sim.requests.clear()
    updater.get_targetinfo("t")
    assert sim.requests == [(role, 1)]
    files = sorted(p.name for p in (tmp_path / "metadata").iterdir() if p.suffix == ".json")
    assert len(files) == 5
    assert f"{quoted}.json" in files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata"]


@pytest.mark.parametrize("path", ["../x", "/x", "a/../b", "a//b", ".", "a/"])
def test_traversing_target_paths_are_refused(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, path: str
) -> None:
    info = sim.add_target("targets", path, b"evil")
    sim.bump("targets")
    updater = make_updater()
    with pytest.raises(FormatError):
        updater.get_targetinfo(path)  # the lookup refuses what download would refuse
    with pytest.raises(FormatError):
        updater.download_target(info)
    assert not (tmp_path / "targets").exists() or not any((tmp_path / "targets").iterdir())
    assert [r for r in sim.requests if r[0] == "target"] == []


@pytest.mark.parametrize("path", ["?x", "#x", "a b", "dir/file%20.txt"])
def test_odd_target_paths_are_quoted(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path, path: str
) -> None:
    sim.root.consistent_snapshot = False
    sim.publish_root()
    sim.add_target("targets", path, b"odd")
    sim.bump("targets")
    updater = make_updater()
    info = updater.get_targetinfo(path)
    assert info is not None
    sim.requests.clear()
    with pytest.raises(Exception, match="404"):  # the simulator knows only unquoted names
        updater.download_target(info)
    assert sim.requests[0][0] == "target"
    assert "?" not in str(sim.requests[0][1])
    assert "#" not in str(sim.requests[0][1])


def test_download_and_cache(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    sim.add_target("targets", "dir/file.txt", b"hello")
    sim.bump("targets")
    updater = make_updater()
    info = updater.get_targetinfo("dir/file.txt")
    assert info is not None
    assert updater.find_cached_target(info) is None
    sim.requests.clear()
    path = updater.download_target(info)
    assert sim.requests == [("target", info.get_prefixed_name())]
    assert Path(path).read_bytes() == b"hello"
    assert updater.find_cached_target(info) == path


def test_substituted_target_is_never_stored(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    info = sim.add_target("targets", "file", b"good")
    sim.bump("targets")
    sim.overrides[info.get_prefixed_name()] = b"evil"
    updater = make_updater()
    found = updater.get_targetinfo("file")
    assert found is not None
    with pytest.raises(Exception, match="hash"):
        updater.download_target(found)
    assert not (tmp_path / "targets").exists() or not any((tmp_path / "targets").iterdir())


def test_unknown_hash_algorithm_fails(
    sim: RepositorySimulator, make_updater: MakeUpdater, tmp_path: Path
) -> None:
    sim.targets.targets["file"] = TargetFile(4, {"unknown-hash": "ab"}, "file")
    sim.target_files["file"] = b"good"
    sim.root.consistent_snapshot = False
    sim.publish_root()
    sim.bump("targets")
    updater = make_updater()
    found = updater.get_targetinfo("file")
    assert found is not None
    with pytest.raises(UnsupportedAlgorithmError):
        updater.download_target(found)
    assert not any((tmp_path / "targets").iterdir())
