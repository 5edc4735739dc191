"""``tufkit client info`` and ``download`` agree about a listed target whose path has ``..``
segments: both refuse it with the same message naming the path (issue 7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytuf_repo import PyTufRepo, serve

pytestmark = pytest.mark.integration


def _tufkit(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("tufkit", path=str(Path(sys.executable).parent))
    assert exe is not None
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)


def test_info_and_download_agree_on_a_traversal_path(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("a/../escape.txt", b"listed, but with a .. segment")
    repo.add_target("fine.txt", b"fine")
    repo.publish()
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    base = ["client", "--metadata-dir", str(tmp_path / "m"), "--target-dir", str(tmp_path / "t")]
    assert _tufkit(*base, "init", "--bootstrap", str(tmp_path / "root.json")).returncode == 0
    with serve(tmp_path / "repo") as (url, _):
        online = [*base, "--metadata-url", f"{url}/metadata", "--target-base-url", f"{url}/targets"]
        info = _tufkit(*online, "info", "a/../escape.txt")
        download = _tufkit(*online, "download", "a/../escape.txt")
        assert _tufkit(*online, "info", "fine.txt").returncode == 0
    for result in (info, download):
        assert result.returncode == 2, result  # a usage error: the user typed it
        assert "'a/../escape.txt' is not a safe relative path" in result.stderr
        assert "Traceback" not in result.stderr
        assert "internal error" not in result.stderr
    assert info.stderr.splitlines()[-1] == download.stderr.splitlines()[-1]
    assert "lists it" not in info.stdout
    assert not (tmp_path / "t").exists() or list((tmp_path / "t").rglob("*")) == []
