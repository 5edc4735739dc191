"""The in-toto demo supply chain, recorded and verified with tufkit, and every tampering rejected.

Every verdict is also taken from the reference's ``in-toto-verify`` on an identical copy, and
the two must agree.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from demo_chain import build_demo, sign_layout_ref, sign_layout_tufkit
from tampering import TAMPERINGS

from conftest import KeyFiles, Runner

pytestmark = pytest.mark.integration


def verify_both(
    final: Path, tk: Runner, ref: Callable[..., Runner], *, key: str = "alice.pub"
) -> tuple[int, str, int, str]:
    """Verify copies of *final* with tufkit and with the reference; return codes and stderr."""
    ours = final.parent / "ours"
    theirs = final.parent / "theirs"
    shutil.copytree(final, ours)
    shutil.copytree(final, theirs)
    args = ["--layout", "root.layout", "--verification-keys", key, "--link-dir", "."]
    mine = tk("verify", *args, cwd=ours)
    reference = ref("verify")(*args, cwd=theirs)
    return mine.returncode, mine.stderr, reference.returncode, reference.stderr


@pytest.fixture(
    scope="module", params=["tufkit-metablock", "tufkit-dsse", "ref-metablock", "ref-dsse"]
)
def built_chain(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> Path:
    tool, envelope = request.param.split("-")
    root = tmp_path_factory.mktemp(request.param)

    def reference(command: str, *args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
        return ref(command)(*args, cwd=cwd)

    functionary = tk if tool == "tufkit" else reference
    # layouts: signed by the other implementation than the one that recorded the links
    sign = sign_layout_ref if tool == "tufkit" else sign_layout_tufkit
    return build_demo(
        root, keydir, functionary=functionary, dsse=envelope == "dsse", sign_layout=sign
    )


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_demo_tampering_verdict_and_reason(
    name: str,
    built_chain: Path,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> None:
    tamper, if_metablock, if_dsse = TAMPERINGS[name]
    expected = if_dsse if "dsse" in built_chain.parent.name else if_metablock
    final = tmp_path / "final"
    shutil.copytree(built_chain, final)
    tamper(final, keydir)
    mine, stderr, reference, ref_err = verify_both(final, tk, ref)
    assert mine == reference, f"tufkit {mine} ({stderr}) vs reference {reference} ({ref_err})"
    if expected:
        assert mine == 1
        assert expected in stderr
    else:
        assert mine == 0, stderr


def test_demo_verification_twice_in_place_fails_like_reference(
    built_chain: Path, tmp_path: Path, tk: Runner, ref: Callable[..., Runner]
) -> None:
    """P1: the untar inspection leaves files behind, so a second run in place fails."""

    def theirs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return ref("verify")(*args[1:], cwd=cwd)

    runners: tuple[tuple[Callable[..., subprocess.CompletedProcess[str]], str], ...] = (
        (tk, "ours"),
        (theirs, "theirs"),
    )
    for runner, name in runners:
        work = tmp_path / name
        shutil.copytree(built_chain, work)
        args = ("verify", "--layout", "root.layout", "--verification-keys", "alice.pub")
        assert runner(*args, cwd=work).returncode == 0
        assert runner(*args, cwd=work).returncode == 1


def test_demo_inspect_in_copy_leaves_directory_untouched(
    built_chain: Path, tmp_path: Path, tk: Runner
) -> None:
    work = tmp_path / "work"
    shutil.copytree(built_chain, work)
    before = sorted(p.name for p in work.iterdir())
    args = ("verify", "-l", "root.layout", "--verification-keys", "alice.pub", "--inspect-in-copy")
    assert tk(*args, cwd=work).returncode == 0
    assert sorted(p.name for p in work.iterdir()) == before
    assert tk(*args, cwd=work).returncode == 0
