"""The example in docs/repository.md runs as written, and a reference client follows the result."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from repo_support import PyTufClient

from tufkit.repository import FilesystemStorage

DOC = Path(__file__).resolve().parents[2] / "docs" / "repository.md"


def test_the_documented_example_publishes_a_repository_clients_follow(
    tmp_path: Path, pytuf_client: PyTufClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    match = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert match is not None
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app-1.0.tar.gz").write_bytes(b"release bytes")
    monkeypatch.chdir(tmp_path)
    exec(compile(match.group(1), str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    storage = FilesystemStorage(tmp_path / "my-repo")
    bootstrap = (tmp_path / "my-repo" / "metadata" / "1.root.json").read_bytes()
    files = {
        str(p.relative_to(tmp_path / "my-repo" / "targets")): p.read_bytes()
        for p in (tmp_path / "my-repo" / "targets").rglob("*")
        if p.is_file()
    }
    client = pytuf_client(storage, bootstrap, files)
    info = client.get_targetinfo("app/app-1.0.tar.gz")
    assert info is not None
    assert info.length == len(b"release bytes")
    # the bins, root v1 twice (root.json), targets and snapshot v1 and v2, timestamp
    assert len(os.listdir(tmp_path / "my-repo" / "metadata")) == 2**10 + 7
