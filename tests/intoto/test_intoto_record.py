"""Recording: hashes, exclude patterns, lstrip, base path, line endings and symlinks, compared
with the reference's ``record_artifacts_as_dict``; paths escaping the base are refused."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tufkit.errors import ConfigError
from tufkit.intoto import PrefixError, RecordOptions, record_artifacts
from tufkit.intoto._exclude import ExcludeFilter

# pathspec (used by the reference) warns about its 'gitwildmatch' factory name
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _tree(root: Path) -> Path:
    files = {
        "a.txt": b"a\r\nb\rc\n",
        "sub/b.py": b"print()\n",
        "sub/b.pyc": b"\0",
        "sub/deep/c.link": b"{}",
        "sub/deep/d~": b"x",
        "build/out.bin": b"\1\2",
        ".git/HEAD": b"ref",
        "docs/readme.md": b"# r\r\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _reference(paths: list[str], cwd: Path, **kwargs: Any) -> dict[str, Any]:
    from in_toto.runlib import record_artifacts_as_dict

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return dict(record_artifacts_as_dict(paths, follow_symlink_dirs=True, **kwargs))
    finally:
        os.chdir(old)


def _ours(paths: list[str], cwd: Path, **kwargs: Any) -> dict[str, Any]:
    base = kwargs.pop("base_path", None)
    options = RecordOptions(
        base_path=cwd / base if base else cwd,
        exclude_patterns=kwargs.get("exclude_patterns"),
        normalize_line_endings=kwargs.get("normalize_line_endings", False),
        lstrip_paths=tuple(kwargs.get("lstrip_paths") or ()),
    )
    return record_artifacts(paths, options)


CASES: list[tuple[list[str], dict[str, Any]]] = [
    (["."], {}),
    (["a.txt", "sub", "nonexistent"], {}),
    (["./sub/../a.txt", "sub//deep"], {}),
    (["."], {"exclude_patterns": ["build/", "*.md"]}),
    (["."], {"exclude_patterns": ["sub/*", "!sub/b.py"]}),
    (["."], {"exclude_patterns": ["**/deep"]}),
    (["."], {"normalize_line_endings": True}),
    (["sub", "docs"], {"lstrip_paths": ["sub/", "docs"]}),
    (["."], {"base_path": "sub"}),
    (["file:a.txt", "file:sub"], {}),
]


@pytest.mark.parametrize(("paths", "kwargs"), CASES)
def test_recording_matches_reference(
    paths: list[str], kwargs: dict[str, Any], tmp_path: Path
) -> None:
    root = _tree(tmp_path)
    ref_kwargs = dict(kwargs)
    if "base_path" in ref_kwargs:
        ref_kwargs["base_path"] = str(root / ref_kwargs["base_path"])
    assert _ours(paths, root, **kwargs) == _reference(paths, root, **ref_kwargs)


def test_line_endings_normalised_across_chunk_boundary(tmp_path: Path) -> None:
    from tufkit.intoto._hashing import CHUNK as _CHUNK
    from tufkit.intoto._hashing import hash_file

    path = tmp_path / "f"
    path.write_bytes(b"x" * (_CHUNK - 1) + b"\r\n" + b"y\r")
    other = tmp_path / "g"
    other.write_bytes(b"x" * (_CHUNK - 1) + b"\n" + b"y\n")
    assert hash_file(path, normalize_line_endings=True) == hash_file(other)
    assert hash_file(path) != hash_file(other)


def test_lstrip_collision_and_overlap_raise(tmp_path: Path) -> None:
    root = tmp_path
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "a" / "f").write_text("1")
    (root / "b" / "f").write_text("2")
    with pytest.raises(PrefixError, match="share the name"):
        record_artifacts(["a", "b"], RecordOptions(base_path=root, lstrip_paths=("a/", "b/")))
    with pytest.raises(PrefixError, match="prefixes of each other"):
        record_artifacts(["a"], RecordOptions(base_path=root, lstrip_paths=("a", "a/")))


def test_symlinks_inside_base_are_followed_and_loops_walked_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_text("x")
    (root / "link-to-d").symlink_to("d")
    (root / "d" / "loop").symlink_to("..")
    (root / "file-link").symlink_to("d/f")
    (root / "broken").symlink_to("nowhere")
    hashes = record_artifacts(["."], RecordOptions(base_path=root))
    assert hashes["file-link"] == hashes["d/f"]
    assert "broken" not in hashes
    assert hashes["link-to-d/f"] == hashes["d/f"]
    # d/loop points back at the root, an ancestor: not entered again
    assert set(hashes) == {"file-link", "d/f", "link-to-d/f"}


def test_paths_and_symlinks_escaping_base_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_text("s")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "g").write_text("g")
    with pytest.raises(ConfigError, match="outside the base"):
        record_artifacts(["../secret"], RecordOptions(base_path=root))
    with pytest.raises(ConfigError, match="outside the base"):
        record_artifacts([str(tmp_path / "secret")], RecordOptions(base_path=root))
    (root / "evil").symlink_to(tmp_path / "secret")
    with pytest.raises(ConfigError, match="symlink 'evil'"):
        record_artifacts(["."], RecordOptions(base_path=root))
    (root / "evil").unlink()
    (root / "evil-dir").symlink_to(tmp_path / "outside")
    with pytest.raises(ConfigError, match="evil-dir"):
        record_artifacts(["."], RecordOptions(base_path=root))
    allowed = record_artifacts(
        [".", "../secret"], RecordOptions(base_path=root, unsafe_allow_outside_base=True)
    )
    assert set(allowed) == {"evil-dir/g", "../secret"}


def test_unsupported_schemes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not supported"):
        record_artifacts(["dir:."], RecordOptions(base_path=tmp_path))


SEGMENTS = ["a", "b", "c.py", "x.link", ".git", "d~", "*", "?", "[ab]", "**", "[!a]*"]
patterns = st.builds(
    lambda neg, lead, parts, trail: (
        ("!" if neg else "") + ("/" if lead else "") + "/".join(parts) + ("/" if trail else "")
    ),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3),
    st.booleans(),
)
paths = st.lists(
    st.sampled_from(["a", "b", "c.py", "x.link", ".git", "d~", "ab", "q"]), min_size=1, max_size=4
).map("/".join)

# The corners a differential run found: newlines in names, an unclosed "[", trailing tabs and
# spaces, escaped backslashes, leading "//", one-component absolute paths, rejected patterns.
ODD = ["a", "b", "*", "?", "**", "[", "]", "[a", "!", "#", "\\", "\\\\", "/", "//", " ", "\t"]
odd_text = st.lists(st.sampled_from([*ODD, "\n", "\\n"]), min_size=1, max_size=6).map("".join)
odd_paths = st.one_of(
    odd_text,
    odd_text.map(lambda text: "/" + text),
    st.lists(odd_text, min_size=1, max_size=3).map("/".join),
)


def _reference_excludes(lines: list[str]) -> Callable[[str], bool] | None:
    """in-toto 3.1.0's own matcher (its file resolver's), or None if it rejects *lines*."""
    from in_toto.resolver import FileResolver

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # re on "[[]", as in ours
            resolver = FileResolver(exclude_patterns=lines)
    except ValueError:
        return None
    return resolver._exclude  # type: ignore[no-any-return]


def _same_as_reference(lines: list[str], path: str) -> None:
    reference = _reference_excludes(lines)
    if reference is None:
        with pytest.raises(ConfigError, match="exclude pattern"):
            ExcludeFilter(lines)
        return
    assert ExcludeFilter(lines)(path) == bool(reference(path)), (lines, path)


@settings(max_examples=1000)
@given(lines=st.lists(patterns, min_size=1, max_size=4), path=paths)
def test_exclude_patterns_match_reference(lines: list[str], path: str) -> None:
    _same_as_reference(lines, path)


@settings(max_examples=2000)
@given(lines=st.lists(odd_text, min_size=1, max_size=3), path=odd_paths)
def test_exclude_pattern_corners_match_reference(lines: list[str], path: str) -> None:
    _same_as_reference(lines, path)


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        (["a\nb"], "a\nb"),  # a newline in a name
        (["[a"], "[a"),  # an unclosed bracket
        (["a\t"], "a"),  # a trailing tab
        (["a\\\\"], "a\\"),  # an escaped backslash
        (["//a"], "a"),  # a leading "//"
        (["a"], "/a"),  # a one-component absolute path
        (["*", "!a"], "a"),  # re-inclusion (pathspec's slow path)
        (["x/"], "x/y"),  # below a directory
    ],
)
def test_exclude_pattern_corner_cases(lines: list[str], path: str) -> None:
    _same_as_reference(lines, path)


@pytest.mark.parametrize("line", ["!", "\\"])
def test_rejected_exclude_pattern_is_named(line: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(repr(line))):
        record_artifacts(["."], RecordOptions(base_path=tmp_path, exclude_patterns=[line]))


def test_tree_with_symlinked_directories_matches_reference(tmp_path: Path) -> None:
    """Each directory reached by at most one symlink: the reference's names and hashes."""
    root = _tree(tmp_path / "root")
    (root / "v1.2" / "docs").mkdir(parents=True)
    (root / "v1.2" / "docs" / "guide.txt").write_bytes(b"guide")
    (root / "v1.2" / "tool").write_bytes(b"tool")
    (root / "latest").symlink_to("v1.2")
    (root / "sub" / "shared").symlink_to("../build")
    (root / "tool-link").symlink_to("v1.2/tool")
    ours = _ours(["."], root)
    assert {"latest/docs/guide.txt", "sub/shared/out.bin", "tool-link"} <= set(ours)
    assert ours == _reference(["."], root)
