"""Replica of tuf-conformance ``test_file_download.py``: artifacts end to end."""

from __future__ import annotations

import pytest
from conformance_runner import Setup
from conformance_sim import Artifact
from tuf.api.metadata import TargetFile

TOP = ["targets", "snapshot", "timestamp"]


def test_client_downloads_expected_file(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.add_artifact("targets", b"target file contents", "target_file.txt")
    setup.repo.publish(TOP)
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.downloaded() == []
    assert setup.client.download(setup.endpoints, "target_file.txt") == 0
    assert setup.client.downloaded() == [b"target file contents"]
    info = setup.repo.artifacts["target_file.txt"].info
    assert setup.repo.artifact_requests == [("target_file.txt", info.hashes["sha256"])]


def test_client_downloads_expected_file_in_sub_dir(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    path = "path/to/a/target_file.txt"
    setup.repo.add_artifact("targets", b"target file contents", path)
    setup.repo.publish(TOP)
    assert setup.client.download(setup.endpoints, path) == 0
    assert setup.client.downloaded() == [b"target file contents"]
    digest = setup.repo.artifacts[path].info.hashes["sha256"]
    assert setup.repo.paths[-1] == f"targets/path/to/a/{digest}.target_file.txt"


def test_repository_substitutes_target_file(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.add_artifact("targets", b"target file contents", "target_file.txt")
    setup.repo.add_artifact("targets", b"content", "another_target_file.txt")
    setup.repo.publish(TOP)
    assert setup.client.download(setup.endpoints, "target_file.txt") == 0
    assert setup.client.downloaded() == [b"target file contents"]

    malicious = b"malicious data - should not download"
    setup.repo.artifacts["target_file.txt"].data = malicious
    setup.repo.artifacts["another_target_file.txt"].data = malicious
    setup.client.download(setup.endpoints, "target_file.txt")  # cached or refused
    assert setup.client.downloaded() == [b"target file contents"]
    assert setup.client.download(setup.endpoints, "another_target_file.txt") == 1
    assert setup.client.downloaded() == [b"target file contents"]


def test_multiple_changes_to_target(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    path = "target_file.txt"
    setup.repo.add_artifact("targets", b"target file contents", path)
    setup.repo.publish(TOP)
    assert setup.client.download(setup.endpoints, path) == 0
    expected = [b"target file contents"]
    previous = b"target file contents"
    assert setup.client.downloaded() == expected

    for i in range(11):
        modified = f"modified file contents {i}".encode()
        setup.repo.add_artifact("targets", modified, path)
        new_contents = f"new file contents {i}".encode()
        new_path = f"new-target-{i}"
        setup.repo.add_artifact("targets", new_contents, new_path)
        setup.repo.publish(TOP)
        if i % 5 != 0:
            continue
        assert setup.client.download(setup.endpoints, path) == 0
        expected.remove(previous)
        expected.append(modified)
        previous = modified
        assert setup.client.downloaded() == expected
        assert setup.client.download(setup.endpoints, new_path) == 0
        expected.append(new_contents)
        assert setup.client.downloaded() == expected

        setup.repo.artifacts[path].data = f"malicious contents {i}".encode()
        setup.repo.publish(TOP)
        setup.client.download(setup.endpoints, path)  # cached or refused
        assert setup.client.downloaded() == expected


@pytest.mark.parametrize(
    "algos", [["sha256"], ["sha512"], ["sha256", "sha512"]], ids=["hashes0", "hashes1", "hashes2"]
)
def test_download_with_hash_algorithms(setup: Setup, algos: list[str]) -> None:
    path, content = "target_file.txt", b"target file contents"
    info = TargetFile.from_data(path, content, algos)
    setup.repo.targets.targets[path] = info
    setup.repo.artifacts[path] = Artifact(content, info)
    setup.repo.publish(TOP)
    setup.repo.publish(["root"])
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.download(setup.endpoints, path) == 0
    assert len(setup.repo.artifact_requests) == 1
    assert setup.repo.artifact_requests[0] in [(path, h) for h in info.hashes.values()]
    assert setup.client.downloaded() == [content]


def test_download_with_unknown_hash_algorithm(setup: Setup) -> None:
    path, content = "target_file.txt", b"target file contents"
    info = TargetFile.from_data(path, content, ["sha512"])
    info.hashes["unknown-hash"] = info.hashes.pop("sha512")
    setup.repo.targets.targets[path] = info
    setup.repo.artifacts[path] = Artifact(content, info)
    setup.repo.publish(TOP)
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.download(setup.endpoints, path) == 1
    assert setup.client.downloaded() == []


def test_artifact_cache(setup: Setup) -> None:
    """CLIENT-CLI.md: an artifact already present with matching hashes is not re-downloaded."""
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.add_artifact("targets", b"target file contents", "target_file.txt")
    setup.repo.publish(TOP)
    assert setup.client.download(setup.endpoints, "target_file.txt") == 0
    assert setup.client.download(setup.endpoints, "target_file.txt") == 0
    assert len(setup.repo.artifact_requests) == 1
    assert setup.client.downloaded() == [b"target file contents"]


def test_several_target_names_one_updater(setup: Setup) -> None:
    """Several --target-name in one run: in order, one refresh, stop at the first failure."""
    assert setup.client.init(setup.endpoints) == 0
    setup.repo.add_artifact("targets", b"one", "one")
    setup.repo.add_artifact("targets", b"two", "two")
    setup.repo.add_artifact("targets", b"three", "three")
    setup.repo.publish(TOP)
    assert setup.client.download(setup.endpoints, "one", "missing", "two") == 1
    assert setup.client.downloaded() == [b"one"]
    assert [p for p, _ in setup.repo.artifact_requests] == ["one"]
    before = len(setup.repo.requests)
    assert setup.client.download(setup.endpoints, "two", "three") == 0
    assert setup.client.downloaded() == [b"one", b"two", b"three"]
    assert setup.repo.requests[before:] == [("root", 2), ("timestamp", None)]
