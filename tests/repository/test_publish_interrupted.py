"""A publish interrupted at any write: clients see the old state or the new one, and the next
``Repository.open`` completes the publish with the very bytes first planned."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from repo_support import NOW, Keys, PyTufClient, make_root

from tufkit.crypto import CryptoSigner
from tufkit.errors import StorageError
from tufkit.metadata import TargetFile
from tufkit.repository import FilesystemStorage, MemoryStorage, Repository

pytestmark = pytest.mark.integration


class CrashError(Exception):
    """Stands for the process dying at a write."""


class CrashingStorage(MemoryStorage):
    """Memory storage whose metadata writes fail from the *fail_at*-th on."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.writes = 0

    def write_metadata(self, filename: str, data: bytes) -> None:
        self.writes += 1
        if self.writes >= self.fail_at:
            raise CrashError(filename)
        super().write_metadata(filename, data)


def _edit_target(repo: Repository, path: str) -> None:
    data = path.encode()
    with repo.edit_targets() as targets:
        targets.targets[path] = TargetFile(
            len(data), {"sha256": hashlib.sha256(data).hexdigest()}, path
        )


def _published(keys: Keys) -> tuple[CrashingStorage, bytes]:
    storage = CrashingStorage(fail_at=10**9)
    Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    return storage, storage.files["1.root.json"]


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_targets_publish_stopped_at_each_write_is_completed_on_open(
    keys: Keys, pytuf_client: PyTufClient, fail_at: int
) -> None:
    storage, bootstrap = _published(keys)
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    _edit_target(repo, "new.txt")
    storage.writes, storage.fail_at = 0, fail_at
    with pytest.raises(CrashError):
        repo.publish()
    journal = storage.read_journal()
    assert journal is not None
    # meanwhile a client sees a consistent repository: the old state
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.targets.version == 1
    # the next process completes the publish from the journal
    storage.fail_at = 10**9
    reopened = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    assert storage.read_journal() is None
    assert reopened.targets().signed.version == 2
    assert "new.txt" in reopened.targets().signed.targets
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.targets.version == 2


def test_the_completed_publish_writes_the_bytes_first_planned(keys: Keys) -> None:
    storage, _ = _published(keys)
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    _edit_target(repo, "new.txt")
    storage.writes, storage.fail_at = 0, 2  # 2.targets.json is written, the rest is not
    with pytest.raises(CrashError):
        repo.publish()
    first = storage.files["2.targets.json"]
    storage.fail_at = 10**9
    later = NOW.replace(year=2031)
    Repository.open(storage, signers=keys.all(), clock=lambda: later)
    assert storage.files["2.targets.json"] == first  # not re-signed with a new expiry


def test_a_tampered_journal_is_refused_not_half_applied(keys: Keys) -> None:
    storage, _ = _published(keys)
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    _edit_target(repo, "new.txt")
    storage.writes, storage.fail_at = 0, 1
    with pytest.raises(CrashError):
        repo.publish()
    journal = storage.read_journal()
    assert journal is not None
    storage.write_journal(journal[:-10])
    before = dict(storage.files)
    storage.fail_at = 10**9
    with pytest.raises(StorageError, match="unreadable publish journal"):
        Repository.open(storage, signers=keys.all())
    assert storage.files == before


def _child_program(kill_at: int) -> str:
    return textwrap.dedent(
        f"""
        import hashlib, json, os, signal, sys
        from tufkit.crypto import signer_from_uri
        from tufkit.metadata import TargetFile
        from tufkit.repository import FilesystemStorage, Repository

        class Killing(FilesystemStorage):
            writes = 0
            def write_metadata(self, filename, data):
                Killing.writes += 1
                if Killing.writes == {kill_at}:
                    os.kill(os.getpid(), signal.SIGKILL)
                super().write_metadata(filename, data)

        uris = json.loads(os.environ["SIGNERS"])
        signers = [signer_from_uri(uri) for uri in uris]
        repo = Repository.open(Killing(sys.argv[1]), signers=signers)
        data = b"payload"
        with repo.edit_targets() as targets:
            targets.targets["p.bin"] = TargetFile(
                len(data), {{"sha256": hashlib.sha256(data).hexdigest()}}, "p.bin"
            )
        repo.bump("timestamp")
        print(repo.publish())
        """
    )


def _signer_uris(signers: list[CryptoSigner], directory: Path) -> list[str]:
    uris = []
    for index, signer in enumerate(signers):
        path = directory / f"k{index}.pem"
        path.write_bytes(signer.private_pem(None))
        uris.append(f"file:{path}")
    return uris


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_a_publish_killed_by_sigkill_at_each_write_is_completed_by_the_next_open(
    keys: Keys, tmp_path: Path, pytuf_client: PyTufClient, kill_at: int
) -> None:
    root_dir = tmp_path / "repo"
    storage = FilesystemStorage(root_dir)
    Repository.create(storage, make_root(keys), signers=keys.all())
    bootstrap = (root_dir / "metadata" / "1.root.json").read_bytes()
    env = {**os.environ, "SIGNERS": json.dumps(_signer_uris(keys.all(), tmp_path))}
    child = subprocess.run(
        [sys.executable, "-c", _child_program(kill_at), str(root_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (root_dir / ".tufkit" / "publish.journal").exists()
    assert pytuf_client(storage, bootstrap)._trusted_set.targets.version == 1
    Repository.open(storage, signers=keys.all())
    assert not (root_dir / ".tufkit" / "publish.journal").exists()
    assert not [p for p in (root_dir / "metadata").iterdir() if p.name.startswith(".")]
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.targets.version == 2
    assert client.get_targetinfo("p.bin") is not None
