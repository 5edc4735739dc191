"""A publish interrupted at any write: clients see the old state or the new one; a publish
stopped before its journal is simply redone, one stopped after is completed by the next
``Repository.open`` with the very bytes first planned."""

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

# One publish: a root edit and a target; written as 2.targets.json, 2.snapshot.json (named by
# nothing yet), then the journal, then 2.root.json, root.json, timestamp.json.
WRITES = ["2.targets.json", "2.snapshot.json", "2.root.json", "root.json", "timestamp.json"]
JOURNALLED_FROM = 3  # the first write after the journal


class CrashError(Exception):
    """Stands for the process dying at a write."""


class CrashingStorage(MemoryStorage):
    """Memory storage whose metadata writes fail from the *fail_at*-th on."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_at = 10**9
        self.writes = 0

    def write_metadata(self, filename: str, data: bytes) -> None:
        self.writes += 1
        if self.writes >= self.fail_at:
            raise CrashError(filename)
        super().write_metadata(filename, data)


def _edit(repo: Repository, keys: Keys, path: str = "new.txt") -> None:
    data = path.encode()
    with repo.edit_targets() as targets:
        targets.targets[path] = TargetFile(
            len(data), {"sha256": hashlib.sha256(data).hexdigest()}, path
        )
    with repo.edit_root() as root:
        root.add_key(keys.spare[3].public_key, "root")  # threshold unchanged


def _published(keys: Keys) -> tuple[CrashingStorage, bytes]:
    storage = CrashingStorage()
    Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    return storage, storage.files["1.root.json"]


def _crash_publish(storage: CrashingStorage, keys: Keys, fail_at: int) -> Repository:
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    _edit(repo, keys)
    storage.writes, storage.fail_at = 0, fail_at
    with pytest.raises(CrashError, match=WRITES[fail_at - 1]):
        repo.publish()
    storage.fail_at = 10**9
    return repo


def test_the_publish_writes_what_these_tests_assume(keys: Keys) -> None:
    storage, _ = _published(keys)
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    _edit(repo, keys)
    assert repo.publish() == WRITES


@pytest.mark.parametrize("fail_at", range(1, JOURNALLED_FROM))
def test_a_publish_stopped_before_its_journal_leaves_the_old_state_and_can_be_redone(
    keys: Keys, pytuf_client: PyTufClient, fail_at: int
) -> None:
    storage, bootstrap = _published(keys)
    _crash_publish(storage, keys, fail_at)
    assert storage.read_journal() is None
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 1
    assert client._trusted_set.targets.version == 1
    repo = Repository.open(storage, signers=keys.all(), clock=lambda: NOW)
    assert repo.targets().signed.version == 1
    _edit(repo, keys)
    assert repo.publish() == WRITES
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 2
    assert client._trusted_set.targets.version == 2


@pytest.mark.parametrize("fail_at", range(JOURNALLED_FROM, len(WRITES) + 1))
def test_a_publish_stopped_after_its_journal_is_completed_with_the_same_bytes(
    keys: Keys, pytuf_client: PyTufClient, fail_at: int
) -> None:
    storage, bootstrap = _published(keys)
    crashed = _crash_publish(storage, keys, fail_at)
    assert storage.read_journal() is not None
    already_written = {name: storage.files[name] for name in WRITES[: fail_at - 1]}
    # meanwhile a client sees a consistent repository (old targets, perhaps already root v2)
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.targets.version == 1
    # a publish on top of an unfinished one is refused
    with pytest.raises(StorageError, match="interrupted publish is pending"):
        crashed.publish()
    later = NOW.replace(year=2031)
    reopened = Repository.open(storage, signers=keys.all(), clock=lambda: later)
    assert storage.read_journal() is None
    for name, data in already_written.items():  # not re-signed with the later clock
        assert storage.files[name] == data, name
    assert reopened.root.signed.version == 2
    assert reopened.targets().signed.version == 2
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 2
    assert client.get_targetinfo("new.txt") is not None


def test_a_tampered_journal_is_refused_not_half_applied(keys: Keys) -> None:
    storage, _ = _published(keys)
    _crash_publish(storage, keys, JOURNALLED_FROM)
    journal = storage.read_journal()
    assert journal is not None
    storage.write_journal(journal[:-10])
    before = dict(storage.files)
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

        signers = [signer_from_uri(uri) for uri in json.loads(os.environ["SIGNERS"])]
        repo = Repository.open(Killing(sys.argv[1]), signers=signers)
        data = b"new.txt"
        with repo.edit_targets() as targets:
            targets.targets["new.txt"] = TargetFile(
                len(data), {{"sha256": hashlib.sha256(data).hexdigest()}}, "new.txt"
            )
        with repo.edit_root() as root:
            root.add_key(signers[-1].public_key, "root")
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


@pytest.mark.integration
@pytest.mark.parametrize("kill_at", range(1, len(WRITES) + 1))
def test_a_publish_killed_by_sigkill_at_each_write_then_a_client_and_a_republish(
    keys: Keys, tmp_path: Path, pytuf_client: PyTufClient, kill_at: int
) -> None:
    root_dir = tmp_path / "repo"
    storage = FilesystemStorage(root_dir)
    Repository.create(storage, make_root(keys), signers=keys.all())
    bootstrap = (root_dir / "metadata" / "1.root.json").read_bytes()
    uris = _signer_uris([*keys.all(), keys.spare[3]], tmp_path)
    env = {**os.environ, "SIGNERS": json.dumps(uris)}
    child = subprocess.run(
        [sys.executable, "-c", _child_program(kill_at), str(root_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    journal = root_dir / ".tufkit" / "publish.journal"
    assert journal.exists() == (kill_at >= JOURNALLED_FROM)
    assert pytuf_client(storage, bootstrap)._trusted_set.targets.version == 1
    repo = Repository.open(storage, signers=keys.all())
    assert not journal.exists()
    assert not [p for p in (root_dir / "metadata").iterdir() if p.name.startswith(".")]
    if kill_at < JOURNALLED_FROM:  # nothing was published: publish again
        assert repo.targets().signed.version == 1
        repo.add_signer(keys.spare[3])
        _edit(repo, keys)
        repo.publish()
    client = pytuf_client(storage, bootstrap)
    assert client._trusted_set.root.version == 2
    assert client._trusted_set.targets.version == 2
    assert client.get_targetinfo("new.txt") is not None
