"""Threshold ceremonies: roles staged, signed by offline keyholders from the staged file alone
(in separate processes and directories), taken back and published."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from repo_support import NOW, Keys, PyTufClient, make_root

from tufkit.crypto import CryptoSigner, generate
from tufkit.errors import ConfigError
from tufkit.metadata import Role, Root
from tufkit.repository import (
    FilesystemStorage,
    MemoryStorage,
    Repository,
    read_staged,
    sign_staged,
)


def _two_of_three(keys: Keys) -> tuple[Root, list[CryptoSigner], list[CryptoSigner]]:
    """A root whose root and targets roles are 2-of-3, with the keyholders' signers."""
    root_holders = [generate(), generate(), generate()]
    targets_holders = [generate(), generate(), generate()]
    root = Root(
        roles={
            "root": Role([], 2),
            "targets": Role([], 2),
            "snapshot": Role([], 1),
            "timestamp": Role([], 1),
        }
    )
    for signer in root_holders:
        root.add_key(signer.public_key, "root")
    for signer in targets_holders:
        root.add_key(signer.public_key, "targets")
    root.add_key(keys.snapshot[0].public_key, "snapshot")
    root.add_key(keys.timestamp[0].public_key, "timestamp")
    return root, root_holders, targets_holders


def _keyholder_signs(staged: bytes, signer: CryptoSigner, workdir: Path) -> bytes:
    """A keyholder on their own machine: a fresh process with the staged file and one key."""
    workdir.mkdir()
    (workdir / "staged.json").write_bytes(staged)
    (workdir / "key.pem").write_bytes(signer.private_pem(None))
    program = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from tufkit.crypto import signer_from_uri
        from tufkit.repository import sign_staged
        signer = signer_from_uri("file:key.pem")
        staged = Path("staged.json")
        staged.write_bytes(sign_staged(staged.read_bytes(), signer))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUFKIT")}
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return (workdir / "staged.json").read_bytes()


@pytest.mark.integration
def test_two_of_three_root_and_targets_signed_in_one_ceremony_by_separate_keyholders(
    keys: Keys, tmp_path: Path, pytuf_client: PyTufClient
) -> None:
    root, root_holders, targets_holders = _two_of_three(keys)
    online = [*keys.snapshot, *keys.timestamp]
    storage = FilesystemStorage(tmp_path / "repo")
    Repository.create(storage, root, signers=[*online, *root_holders[:2], *targets_holders[:2]])
    bootstrap = (tmp_path / "repo" / "metadata" / "1.root.json").read_bytes()
    # the repository machine holds only the online keys; both roles change in one ceremony
    repo = Repository.open(storage, signers=online)
    with repo.edit_root() as new_root:
        new_root.add_key(keys.spare[0].public_key, "targets")
    repo.add_targets([("release.tgz", b"release")])
    staged = repo.stage("root", "targets")
    assert sorted(staged) == ["root", "targets"]
    with pytest.raises(ConfigError, match=r"root v2 has 0 valid signatures, threshold 2"):
        repo.publish()
    # a later process (the next day) takes the staged roles up from storage
    repo = Repository.open(storage, signers=online)
    assert sorted(repo.pending) == ["root", "targets"]
    signed_root = _keyholder_signs(staged["root"], root_holders[0], tmp_path / "alice")
    signed_root = _keyholder_signs(signed_root, root_holders[2], tmp_path / "carol")
    status = repo.add_signatures(signed_root).status()
    assert [(s.by, s.met, len(s.signed)) for s in status] == [
        ("root v1", True, 2),
        ("new root", True, 2),
    ]
    with pytest.raises(ConfigError, match=r"targets v2 has 0 valid signatures, threshold 2"):
        repo.publish()
    signed_targets = _keyholder_signs(staged["targets"], targets_holders[1], tmp_path / "bob")
    assert not repo.add_signatures(signed_targets).complete
    signed_targets = _keyholder_signs(signed_targets, targets_holders[2], tmp_path / "dave")
    assert repo.add_signatures(signed_targets).complete
    written = repo.publish()
    assert "2.root.json" in written
    assert "2.targets.json" in written
    assert repo.staged() == []
    client = pytuf_client(storage, bootstrap, {})
    assert client._trusted_set.root.version == 2
    assert client.get_targetinfo("release.tgz") is not None


def test_a_key_outside_the_role_cannot_sign_the_staged_file(keys: Keys) -> None:
    root, root_holders, targets_holders = _two_of_three(keys)
    storage = MemoryStorage()
    signers = [*keys.snapshot, *keys.timestamp, *root_holders[:2], *targets_holders[:2]]
    Repository.create(storage, root, signers=signers)
    repo = Repository.open(storage, signers=[*keys.snapshot, *keys.timestamp])
    repo.add_targets([("a", b"a")])
    staged = repo.stage("targets")["targets"]
    with pytest.raises(ConfigError, match="is not among its authorised keys"):
        sign_staged(staged, root_holders[0])


def test_signatures_the_repository_does_not_authorise_are_ignored(keys: Keys) -> None:
    """The staged file's list of authorised keys only guides keyholders: a file whose list was
    rewritten to name an outsider gets that outsider's signature ignored."""
    root, root_holders, targets_holders = _two_of_three(keys)
    storage = MemoryStorage()
    signers = [*keys.snapshot, *keys.timestamp, *root_holders[:2], *targets_holders[:2]]
    Repository.create(storage, root, signers=signers)
    repo = Repository.open(storage, signers=[*keys.snapshot, *keys.timestamp])
    repo.add_targets([("a", b"a")])
    staged = json.loads(repo.stage("targets")["targets"])
    outsider = keys.spare[1]
    staged["authorised"][0]["keys"][outsider.public_key.keyid] = outsider.public_key.to_dict()
    forged = sign_staged(json.dumps(staged).encode(), outsider)
    held = repo.add_signatures(forged)
    assert outsider.public_key.keyid not in held.metadata.signatures
    assert not held.complete


def test_a_staged_file_for_other_content_is_refused(keys: Keys) -> None:
    root, root_holders, targets_holders = _two_of_three(keys)
    storage = MemoryStorage()
    signers = [*keys.snapshot, *keys.timestamp, *root_holders[:2], *targets_holders[:2]]
    Repository.create(storage, root, signers=signers)
    repo = Repository.open(storage, signers=[*keys.snapshot, *keys.timestamp])
    repo.add_targets([("a", b"a")])
    staged = repo.stage("targets")["targets"]
    tampered = json.loads(staged)
    tampered["metadata"]["signed"]["targets"]["a"]["length"] = 99
    signed = sign_staged(json.dumps(tampered).encode(), targets_holders[0])
    with pytest.raises(ConfigError, match="staged file is for other content"):
        repo.add_signatures(signed)
    repo.add_targets([("b", b"b")])  # the edit changed after staging: old signatures are void
    with pytest.raises(ConfigError, match="staged file is for other content"):
        repo.add_signatures(sign_staged(staged, targets_holders[0]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "malformed staged file"),
        (b'{"format": "other"}', "not a staged role"),
        (b'{"format": "tufkit-staged/1", "role": "", "metadata": {}}', "non-empty string"),
        (b'{"format": "tufkit-staged/1", "role": "x", "metadata": 5}', "malformed staged"),
    ],
)
def test_malformed_staged_files_are_config_errors(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_staged(data)


def test_online_roles_and_unedited_roles_are_not_staged(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="never staged"):
        repo.stage("timestamp")
    with pytest.raises(ConfigError, match="no pending edit"):
        repo.stage("targets")


def test_staged_roles_made_stale_by_a_publish_are_dropped_on_open(
    keys: Keys, storage: MemoryStorage
) -> None:
    Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)
    first = Repository.open(storage, signers=keys.all())
    first.add_targets([("a", b"a")])
    stale = first.stage("targets")["targets"]
    first.publish()
    assert storage.staged == {}
    storage.write_staged("targets", stale)  # left behind by another machine
    reopened = Repository.open(storage, signers=keys.all())
    assert reopened.pending == []
    assert storage.staged == {}
