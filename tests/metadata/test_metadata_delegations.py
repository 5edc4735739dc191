"""Delegation helpers: per-segment case-sensitive globs, hash prefixes and TAP 15 succinct bins,
compared with python-tuf 7.0.1 (on POSIX, where its fnmatch is case-sensitive as the spec wants).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import tuf.api.metadata as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    SuccinctRoles,
    path_hash,
    succinct_bin,
)


def _role(paths: list[str]) -> DelegatedRole:
    return DelegatedRole("r", [], 1, False, paths=paths)


GLOBS: list[tuple[str, str, bool]] = [
    ("*", "a", True),
    ("*", "", True),
    ("*", "a/b", False),
    ("*/*", "a/b", True),
    ("*/*", "a/b/c", False),
    ("a/*", "a/b/c", False),
    ("a/*/c", "a/b/c", True),
    ("a/*/c", "a//c", True),
    ("a/*", "a/", True),
    ("*.tgz", "x.tgz", True),
    ("*.tgz", "dir/x.tgz", False),
    ("*.tgz", "x.TGZ", False),
    ("A/*", "a/x", False),
    ("a/x?", "a/xy", True),
    ("a/x?", "a/x", False),
    ("a/x?", "a/x/", False),
    ("a?b", "a/b", False),
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("file[!0-9].txt", "filex.txt", True),
    ("file[!0-9].txt", "file7.txt", False),
    ("a[!x]b", "a/b", False),
    ("a[/]b", "a/b", False),
    ("[]]", "]", True),
    ("[!]]", "]", False),
    ("[!]]", "a", True),
    ("[!]*|b]", "^]|", False),
    ("[!]|*]", "x/y/z]", False),
    ("[^a]", "^", True),
    ("[^a]", "b", False),
    ("[\\]", "\\", True),
    ("[", "[", True),
    ("a[b", "a[b", True),
    ("[a&&b]", "&", True),
    ("[a||b]", "|", True),
    ("[a~~b]", "~", True),
    ("[[]", "[", True),
    ("a.b", "axb", False),
    ("a+b", "a+b", True),
    ("(a|b)", "a", False),
    ("(a|b)", "(a|b)", True),
    ("$x^", "$x^", True),
    ("{a,b}", "a", False),
    ("\\*", "\\x", True),
    ("ünï/*", "ünï/ö", True),
    ("ünï/*", "ÜNÏ/ö", False),
    ("😀?", "😀😀", True),
    ("*", "line\nbreak", True),
    ("/abs/*", "/abs/x", True),
    ("/abs/*", "abs/x", False),
    ("", "", True),
    ("", "a", False),
    ("**", "a/b", False),
    ("**/x", "a/x", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), GLOBS)
def test_glob_table(pattern: str, path: str, expected: bool) -> None:
    assert _role([pattern]).is_delegated_path(path) is expected
    # python-tuf agrees on every row
    theirs = ref.DelegatedRole("r", [], 1, False, paths=[pattern])
    assert theirs.is_delegated_path(path) is expected


def test_any_pattern_suffices() -> None:
    role = _role(["a/*", "b/*"])
    assert role.is_delegated_path("b/x")
    assert not role.is_delegated_path("c/x")
    assert not _role([]).is_delegated_path("anything")


_PATTERN_CHARS = "ab*?[]!-^\\&~|./Zé"
_PATH_CHARS = "ab/-^\\!][&~|*?.Zé"


@settings(max_examples=500)
@given(
    st.text(alphabet=_PATTERN_CHARS, max_size=8),
    st.lists(st.text(alphabet=_PATH_CHARS, max_size=7), min_size=1, max_size=6),
)
def test_glob_matches_python_tuf(pattern: str, paths: list[str]) -> None:
    mine = _role([pattern])
    theirs = ref.DelegatedRole("r", [], 1, False, paths=[pattern])
    for path in [*paths, pattern]:
        assert mine.is_delegated_path(path) == theirs.is_delegated_path(path), (pattern, path)


@given(st.lists(st.sampled_from(["a", "b", "*", "?", "[ab]", "[!a]", "x*y"]), max_size=4))
def test_segment_counts_must_match(segments: list[str]) -> None:
    pattern = "/".join(segments)
    role = _role([pattern])
    path = "/".join("a" for _ in segments)
    longer, shorter = path + "/a", path.rpartition("/")[0]
    assert not role.is_delegated_path(longer)
    if len(segments) > 1:
        assert not role.is_delegated_path(shorter)


@pytest.mark.parametrize(
    ("pattern", "matching"),
    [
        ("[z-a]", []),
        ("x/[z-a]*", []),
        ("a[9-0]b", []),
        ("[!z-a]", ["a", "z"]),
        ("[!a-cz-x]", ["z"]),
    ],
)
def test_reversed_range_is_dropped_from_its_set(pattern: str, matching: list[str]) -> None:
    doc = {
        "keys": {},
        "roles": [
            {"name": "r", "keyids": [], "threshold": 1, "terminating": False, "paths": [pattern]}
        ],
    }
    role = Delegations.from_dict(doc).roles["r"]  # type: ignore[index]
    theirs = ref.DelegatedRole("r", [], 1, False, paths=[pattern])
    for path in ["a", "z", "x/a", "x/z", "a5b", "a0b", "a-b", pattern]:
        assert role.is_delegated_path(path) == (path in matching)
        assert role.is_delegated_path(path) == theirs.is_delegated_path(path)


# -- hash prefixes ---------------------------------------------------------------------------

paths_st = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@given(paths_st)
def test_path_hash_is_sha256_of_utf8(path: str) -> None:
    assert path_hash(path) == hashlib.sha256(path.encode("utf-8")).hexdigest()


@given(
    st.lists(st.text(alphabet="0123456789abcdef", max_size=3), min_size=1, max_size=4),
    st.lists(paths_st, min_size=1, max_size=8),
)
def test_hash_prefixes_match_python_tuf(prefixes: list[str], paths: list[str]) -> None:
    mine = DelegatedRole("r", [], 1, False, path_hash_prefixes=prefixes)
    theirs = ref.DelegatedRole("r", [], 1, False, path_hash_prefixes=prefixes)
    for path in paths:
        assert mine.is_delegated_path(path) == theirs.is_delegated_path(path)
        expected = any(hashlib.sha256(path.encode()).hexdigest().startswith(p) for p in prefixes)
        assert mine.is_delegated_path(path) is expected


def test_hash_prefix_of_known_path() -> None:
    digest = hashlib.sha256(b"files/pkg.tar.gz").hexdigest()
    assert DelegatedRole("r", [], 1, False, path_hash_prefixes=[digest[:2]]).is_delegated_path(
        "files/pkg.tar.gz"
    )
    other = "0" if digest[0] != "0" else "1"
    assert not DelegatedRole("r", [], 1, False, path_hash_prefixes=[other]).is_delegated_path(
        "files/pkg.tar.gz"
    )


# -- succinct roles --------------------------------------------------------------------------


@pytest.mark.parametrize("bits", range(1, 33))
def test_succinct_bins_match_python_tuf(bits: int) -> None:
    mine = SuccinctRoles([], 1, bits, "pre.fix")
    theirs = ref.SuccinctRoles([], 1, bits, "pre.fix")
    assert mine.number_of_bins == 2**bits
    for i in range(200):
        path = f"files/{i}/ünï-😀-{bits}"
        assert mine.get_role_for_target(path) == theirs.get_role_for_target(path)
        digest = hashlib.sha256(path.encode()).digest()
        assert succinct_bin(path, bits) == int.from_bytes(digest[:4], "big") >> (32 - bits)
    if bits <= 10:
        assert list(mine.get_roles()) == list(theirs.get_roles())
    for number in (0, 1, 2**bits - 1):
        name = mine.bin_name(number)
        assert mine.is_delegated_role(name)
        assert theirs.is_delegated_role(name)


@given(st.integers(1, 32), st.text(alphabet="0123456789abcdefABCDEFxg-", max_size=10))
def test_succinct_role_names_match_python_tuf(bits: int, suffix: str) -> None:
    mine = SuccinctRoles([], 1, bits, "bin")
    theirs = ref.SuccinctRoles([], 1, bits, "bin")
    for name in (f"bin-{suffix}", f"bin{suffix}", suffix, f"xbin-{suffix}"):
        if suffix.isascii() and any(c in "ABCDEF" for c in suffix):
            # python-tuf's int(x, 16) accepts upper case; bin names are written in lower case
            assert not mine.is_delegated_role(name) or name == f"bin-{suffix.lower()}"
            continue
        assert mine.is_delegated_role(name) == theirs.is_delegated_role(name), name


@pytest.mark.parametrize(
    ("bits", "name", "expected"),
    [
        (5, "bin-1f", True),
        (5, "bin-20", False),  # beyond 2**5 - 1
        (5, "bin-1", False),  # too short
        (5, "bin-01f", False),  # too long
        (5, "bin-1F", False),  # upper case
        (5, "bin-+1", False),
        (5, "bin- 1", False),
        (8, "bin-ff", True),
        (9, "bin-1ff", True),
        (9, "bin-200", False),
        (32, "bin-ffffffff", True),
        (1, "bin-1", True),
        (1, "bin-2", False),
        (4, "bin-\u0660", False),  # a non-ASCII digit
        (4, "bon-0", False),
        (4, "bin0", False),
    ],
)
def test_is_delegated_role(bits: int, name: str, expected: bool) -> None:
    assert SuccinctRoles([], 1, bits, "bin").is_delegated_role(name) is expected


def test_get_roles_for_target_order_and_terminating() -> None:
    roles = {
        "first": DelegatedRole("first", [], 1, False, paths=["a/*"]),
        "second": DelegatedRole("second", [], 1, True, paths=["*/x"]),
        "third": DelegatedRole("third", [], 1, False, path_hash_prefixes=[""]),
    }
    delegations = Delegations({}, roles)
    assert list(delegations.get_roles_for_target("a/x")) == [
        ("first", False),
        ("second", True),
        ("third", False),
    ]
    assert list(delegations.get_roles_for_target("b/y")) == [("third", False)]
    bins = Delegations({}, succinct_roles=SuccinctRoles([], 1, 4, "bin"))
    (only,) = bins.get_roles_for_target("a/x")
    assert only == (f"bin-{succinct_bin('a/x', 4):x}", True)
    assert bins.get_role("bin-3") is bins.succinct_roles
    assert bins.get_role("bin-10") is None
    assert delegations.get_role("second") is roles["second"]
    assert delegations.get_role("fourth") is None


def test_delegations_round_trip_through_metadata() -> None:
    doc = {
        "signed": {
            "_type": "targets",
            "spec_version": "1.0",
            "version": 1,
            "expires": "2030-01-01T00:00:00Z",
            "targets": {},
            "delegations": {
                "keys": {},
                "roles": [
                    {
                        "name": "r",
                        "keyids": [],
                        "threshold": 1,
                        "terminating": True,
                        "paths": ["[!]]/*", "a&&b/[a-c]"],
                    }
                ],
            },
        },
        "signatures": [],
    }
    md = Metadata.from_bytes(json.dumps(doc).encode())
    role = md.signed.delegations.roles["r"]
    assert role.is_delegated_path("x/anything")
    assert not role.is_delegated_path("]/anything")
    assert role.is_delegated_path("a&&b/b")
