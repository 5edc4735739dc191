"""Replica of tuf-conformance ``test_static_repositories.py``.

Only ``tuf-on-ci-0.11`` is replicated: its files (``static_data/``) are real tuf-on-ci output,
signed by that project's keys, and verify with python-tuf. The suite's other static
repository, ``sigstore-root-signing``, could not be obtained here (its metadata files are not
in the source index we read the suite from), so it is not part of this replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conformance_runner import ClientRunner
from conformance_sim import RepositoryServer

STATIC = Path(__file__).parent / "static_data"


@dataclass(frozen=True)
class StaticCase:
    name: str
    requests: list[str]  # every request of init + refresh + download, in order


CASES = [
    StaticCase(
        "tuf-on-ci-0.11",
        [
            "metadata/2.root.json",
            "metadata/timestamp.json",
            "metadata/2.snapshot.json",
            "metadata/1.targets.json",
            "metadata/2.root.json",
            "metadata/timestamp.json",
            "metadata/2.delegatedrole.json",
            "targets/delegatedrole/"
            "45f337ee451b4c098d121d09cc224bacc7794503ac58a47a78cfe7ebefb7fab3.artifact",
        ],
    )
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_static_repository(
    server: RepositoryServer, client: ClientRunner, case: StaticCase
) -> None:
    directory = STATIC / case.name
    endpoints = server.add_static(case.name, directory)
    fake_time = datetime.fromisoformat((directory / "faketime").read_text().strip())
    target_path = (directory / "targetpath").read_text().strip()
    start = len(server.static_paths)

    assert client.init(endpoints) == 0
    assert client.refresh(endpoints, fake_time) == 0
    assert client.download(endpoints, target_path, fake_time=fake_time) == 0

    artifact = next((directory / "targets").rglob("*.artifact")).read_bytes()
    assert client.downloaded() == [artifact]
    assert [p.partition("/")[2] for p in server.static_paths[start:]] == case.requests
