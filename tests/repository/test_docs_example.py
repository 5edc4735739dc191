"""The example in docs/repository.md runs as written, and a reference client follows the result."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from repo_support import PyTufClient

from tufkit.repository import FilesystemStorage, RepositoryReport

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


def test_the_documented_key_changes_and_check_run_and_a_reference_client_follows(
    tmp_path: Path, pytuf_client: PyTufClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    keys_block = next(b for b in blocks if "rotate_keys(" in b)
    check_block = next(b for b in blocks if "get_repository_result(" in b)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app-1.0.tar.gz").write_bytes(b"release bytes")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in (blocks[0], keys_block, check_block):
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    report = namespace["report"]
    assert isinstance(report, RepositoryReport)
    # timestamp lives one day: within the two-day horizon, and nothing else is wrong
    assert [(p.role, p.kind) for p in report.problems] == [("timestamp", "expiring")]
    storage = FilesystemStorage(tmp_path / "my-repo")
    bootstrap = (tmp_path / "my-repo" / "metadata" / "1.root.json").read_bytes()
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 2
    assert client._trusted_set.targets.version == 3
    assert len(client._trusted_set.root.roles["root"].keyids) == 3
