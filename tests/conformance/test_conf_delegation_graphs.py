"""Replica of tuf-conformance ``test_updater_delegation_graphs.py``: delegation search order."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from conformance_runner import Setup
from tuf.api.metadata import DelegatedRole, Targets


@dataclass(frozen=True)
class Delegation:
    delegator: str
    name: str
    terminating: bool = False
    paths: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Listed:
    role: str
    content: bytes
    path: str


@dataclass(frozen=True)
class Graph:
    delegations: list[Delegation]
    visited: list[str] = field(default_factory=list)
    files: list[Listed] = field(default_factory=list)


def build(setup: Setup, graph: Graph) -> None:
    """Create every delegation (reusing roles that exist) and publish the result."""
    changed: set[str] = set()
    for d in graph.delegations:
        role = DelegatedRole(d.name, [], 1, d.terminating, list(d.paths))
        existing = setup.repo.mds.get(d.name)
        targets = existing.signed if existing is not None else None
        assert targets is None or isinstance(targets, Targets)
        setup.repo.add_delegation(d.delegator, role, targets)
        changed |= {d.name, d.delegator}
    for f in graph.files:
        setup.repo.add_artifact(f.role, f.content, f.path)
    setup.repo.publish([*sorted(changed), "snapshot", "timestamp"])


D = Delegation
GRAPHS: dict[str, Graph] = {
    "basic-delegation": Graph([D("targets", "A")], ["A"]),
    "single-level-delegations": Graph([D("targets", "A"), D("targets", "B")], ["A", "B"]),
    "two-level-delegations": Graph(
        [D("targets", "A"), D("targets", "B"), D("B", "C")], ["A", "B", "C"]
    ),
    "two-level-test-DFS-order-of-traversal": Graph(
        [D("targets", "A"), D("targets", "B"), D("A", "C"), D("A", "D")], ["A", "C", "D", "B"]
    ),
    "three-level-delegation-test-DFS-order-of-traversal": Graph(
        [D("targets", "A"), D("targets", "B"), D("A", "C"), D("C", "D")], ["A", "C", "D", "B"]
    ),
    "two-level-terminating-ignores-all-but-roles-descendants": Graph(
        [D("targets", "A"), D("targets", "B"), D("A", "C", terminating=True), D("A", "D")],
        ["A", "C"],
    ),
    "three-level-terminating-ignores-all-but-roles-descendants": Graph(
        [D("targets", "A"), D("targets", "B"), D("A", "C", terminating=True), D("C", "D")],
        ["A", "C", "D"],
    ),
    "two-level-ignores-all-branches-not-matching-paths": Graph(
        [D("targets", "A", paths=("*.py",)), D("targets", "B"), D("A", "C")], ["B"]
    ),
    "three-level-ignores-all-branches-not-matching-paths": Graph(
        [D("targets", "A"), D("targets", "B"), D("A", "C", paths=("*.py",)), D("C", "D")],
        ["A", "B"],
    ),
    "cyclic-graph": Graph(
        [D("targets", "A"), D("targets", "B"), D("B", "C"), D("C", "D"), D("D", "B")],
        ["A", "B", "C", "D"],
    ),
    "two-roles-delegating-to-a-third": Graph(
        [D("targets", "A"), D("targets", "B"), D("B", "C"), D("A", "C")], ["A", "C", "B"]
    ),
    "two-roles-delegating-to-a-third-different-paths": Graph(
        [D("targets", "A"), D("targets", "B"), D("B", "C"), D("A", "C", paths=("*.py",))],
        ["A", "B", "C"],
    ),
}


@pytest.mark.parametrize("graph", GRAPHS.values(), ids=GRAPHS.keys())
def test_graph_traversal(setup: Setup, graph: Graph) -> None:
    """Pre-order depth-first, in listed order, each role at most once."""
    assert setup.client.init(setup.endpoints) == 0
    build(setup, graph)
    assert setup.client.download(setup.endpoints, "missingpath") == 1
    assert setup.repo.requests[4:] == [(role, 1) for role in graph.visited]


# targets: A (*.doc, *.md), B (releases/*/*), E (tools/v?.tar); B: C (releases/x/*),
# D (releases/y/*.zip). The last three rows are ours: '*' stops at '/', '?' is one
# character, matching is case-sensitive.
TREE = Graph(
    [
        D("targets", "A", paths=("*.doc", "*.md")),
        D("targets", "B", paths=("releases/*/*",)),
        D("B", "C", paths=("releases/x/*",)),
        D("B", "D", paths=("releases/y/*.zip",)),
        D("targets", "E", paths=("tools/v?.tar",)),
    ],
    files=[
        Listed("targets", b"targetfile content", "targetfile"),
        Listed("A", b"README by A", "README.md"),
        Listed("A", b"nested README by A", "docs/README.md"),
        Listed("A", b"upper-case README by A", "README.MD"),
        Listed("C", b"x release by C", "releases/x/x_v1"),
        Listed("D", b"y release by D", "releases/y/y_v1.zip"),
        Listed("D", b"z release by D", "releases/z/z_v1.zip"),
        Listed("E", b"tool by E", "tools/v1.tar"),
        Listed("E", b"other tool by E", "tools/v10.tar"),
    ],
)


@dataclass(frozen=True)
class Search:
    path: str
    found: bool
    visited: list[str]


SEARCHES: dict[str, Search] = {
    "no delegations": Search("targetfile", True, []),
    "targetpath matches wildcard": Search("README.md", True, ["A"]),
    "targetpath with separators x": Search("releases/x/x_v1", True, ["B", "C"]),
    "targetpath with separators y": Search("releases/y/y_v1.zip", True, ["B", "D"]),
    "targetpath is not delegated by all roles in the chain": Search(
        "releases/z/z_v1.zip", False, ["B"]
    ),
    "wildcard does not match separator": Search("docs/README.md", False, []),
    "question mark matches one character": Search("tools/v1.tar", True, ["E"]),
    "question mark does not match two characters": Search("tools/v10.tar", False, []),
    "pattern matching is case sensitive": Search("README.MD", False, []),
}


@pytest.mark.parametrize("search", SEARCHES.values(), ids=SEARCHES.keys())
def test_targetfile_search(setup: Setup, search: Search) -> None:
    assert setup.client.init(setup.endpoints) == 0
    build(setup, TREE)
    if search.found:
        assert setup.client.download(setup.endpoints, search.path) == 0
        assert setup.client.downloaded() == [setup.repo.artifacts[search.path].data]
    else:
        assert setup.client.download(setup.endpoints, search.path) == 1
        assert setup.client.downloaded() == []
        assert setup.repo.artifact_requests == []
    assert setup.repo.requests[4:] == [(role, 1) for role in search.visited]


def test_delegation_not_in_snapshot(setup: Setup) -> None:
    """A delegated role that snapshot does not list is never requested."""
    assert setup.client.init(setup.endpoints) == 0
    build(setup, Graph([D("targets", "A"), D("targets", "B")]))
    del setup.repo.snapshot.meta["A.json"]
    setup.repo.publish(["snapshot", "timestamp"])
    assert setup.client.download(setup.endpoints, "missingpath") == 1
    assert ("A", 1) not in setup.repo.requests
    assert setup.repo.requests[:4] == [
        ("root", 2),
        ("timestamp", None),
        ("snapshot", 3),
        ("targets", 2),
    ]


def _diamond(setup: Setup) -> None:
    """targets -> parent-a (team-a/*) -> release [key KA]; targets -> parent-b (team-b/*) ->
    release [key KB], both for any two-segment path (so paths alone protect nothing).
    release is signed by KA only and lists a file under each team."""
    setup.repo.add_delegation("targets", DelegatedRole("parent-a", [], 1, False, ["team-a/*"]))
    setup.repo.add_delegation("targets", DelegatedRole("parent-b", [], 1, False, ["team-b/*"]))
    setup.repo.add_delegation("parent-a", DelegatedRole("release", [], 1, False, ["*/*"]))
    kb = setup.repo.add_delegation("parent-b", DelegatedRole("release", [], 1, False, ["*/*"]))
    del setup.repo.signers["release"][kb.public_key.keyid]
    setup.repo.add_artifact("release", b"trusted A", "team-a/trusted_root.json")
    setup.repo.add_artifact("release", b"malicious B", "team-b/trusted_root.json")
    setup.repo.publish(["release", "parent-a", "parent-b", "targets", "snapshot", "timestamp"])


def test_cached_role_is_verified_against_current_delegator(setup: Setup) -> None:
    """One process, team-a then team-b: release must be re-verified against parent-b's KB."""
    assert setup.client.init(setup.endpoints) == 0
    _diamond(setup)
    paths = ["team-a/trusted_root.json", "team-b/trusted_root.json"]
    assert setup.client.download(setup.endpoints, *paths) == 1
    assert setup.client.downloaded() == [b"trusted A"]
    assert [p for p, _ in setup.repo.artifact_requests] == ["team-a/trusted_root.json"]


def test_cached_role_on_disk_is_verified_against_current_delegator(setup: Setup) -> None:
    """The same in two processes: the release.json stored via parent-a proves nothing for B."""
    assert setup.client.init(setup.endpoints) == 0
    _diamond(setup)
    assert setup.client.download(setup.endpoints, "team-a/trusted_root.json") == 0
    assert setup.client.download(setup.endpoints, "team-b/trusted_root.json") == 1
    assert setup.client.downloaded() == [b"trusted A"]


def test_diamond_other_branch_first(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    _diamond(setup)
    assert setup.client.download(setup.endpoints, "team-b/trusted_root.json") == 1
    assert setup.client.download(setup.endpoints, "team-a/trusted_root.json") == 0
    assert setup.client.downloaded() == [b"trusted A"]
