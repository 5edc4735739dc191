"""Replica of tuf-conformance ``test_static_repositories.py``.

Only ``tuf-on-ci-0.11`` is replicated: its files (``static_data/``) are real tuf-on-ci output,
signed by that project's keys, and verify with python-tuf. The suite's other static
repository, ``sigstore-root-signing``, could not be obtained here (its metadata files are not
in the source index we read the suite from), so it is not part of this replica.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conformance_runner import ClientRunner, Setup
from conformance_sim import RepositoryServer, new_signer, recompute_keyid
from securesystemslib.signer import Signature
from tuf.api.metadata import DelegatedRole, Metadata, MetaFile, Targets

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


def test_sigstore_like_layout(setup: Setup) -> None:
    """Our stand-in for ``static_repository[sigstore-root-signing]`` (whose files we could not
    read): the same format features, built with the simulator. spec_version "1.0", keys with
    extra fields, an empty signature next to a valid one, a legacy ``root.json`` entry in
    snapshot, sha256+sha512 metafile hashes with lengths next to entries without, a
    terminating delegation named ``registry.npmjs.org``, and a target with sha256 and sha512
    served only under its sha256 name."""
    repo = setup.repo
    for md in repo.mds.values():
        md.signed.spec_version = "1.0"
    spare = new_signer()
    spare.public_key.unrecognized_fields["x-tuf-on-ci-keyowner"] = "@someone"
    recompute_keyid(spare.public_key)
    repo.append_keyid("root", spare.public_key)  # listed, never signs (threshold stays 1)
    npm = DelegatedRole("registry.npmjs.org", [], 1, True, ["registry.npmjs.org/*"])
    repo.add_delegation("targets", npm, Targets(expires=repo.safe_expiry))
    repo.mds["registry.npmjs.org"].signed.spec_version = "1.0"
    trusted_root = b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json"}\n'
    info = repo.add_artifact("targets", trusted_root, "trusted_root.json", ("sha256", "sha512"))
    info.unrecognized_fields["custom"] = {"sigstore": {"status": "Active", "usage": "Unknown"}}
    repo.publish(["registry.npmjs.org", "targets", "root"])

    targets_bytes = repo.latest("targets")
    repo.snapshot.meta["targets.json"] = MetaFile(
        repo.targets.version, len(targets_bytes), _digests(targets_bytes)
    )
    repo.snapshot.meta["root.json"] = MetaFile(repo.root.version)  # legacy entry
    repo.publish(["snapshot"])
    snapshot_bytes = repo.latest("snapshot")
    repo.timestamp.snapshot_meta = MetaFile(
        repo.snapshot.version, len(snapshot_bytes), _digests(snapshot_bytes)
    )
    repo.publish(["timestamp"])
    md = Metadata.from_bytes(repo.published["root"].pop())
    md.signatures[spare.public_key.keyid] = Signature(spare.public_key.keyid, "")
    repo.published["root"].append(md.to_bytes())

    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.download(setup.endpoints, "trusted_root.json") == 0
    assert setup.client.downloaded() == [trusted_root]
    assert repo.artifact_requests == [("trusted_root.json", info.hashes["sha256"])]
    assert setup.client.download(setup.endpoints, "registry.npmjs.org/missing") == 1
    assert repo.requests[-1] == ("registry.npmjs.org", 1)
    assert setup.client.version("root") == 2


def _digests(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}
