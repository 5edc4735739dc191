"""Replica of tuf-conformance ``test_keys.py``: thresholds, duplicates, key types."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from conformance_runner import Setup
from conformance_sim import new_signer
from tuf.api.metadata import Metadata


def test_snapshot_does_not_meet_threshold(setup: Setup) -> None:
    setup.repo.root.roles["snapshot"].threshold = 3
    for _ in range(2):
        setup.repo.add_key("snapshot")
    setup.repo.publish(["root", "targets", "snapshot", "timestamp"])
    assert setup.client.init(setup.endpoints) == 0
    assert setup.client.refresh(setup.endpoints) == 0
    setup.repo.signers["snapshot"].popitem()  # two signatures left, threshold 3
    setup.repo.publish(["targets", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") == 2


def test_deprecated_keyid_hash_algorithms_in_root_key(setup: Setup) -> None:
    """test_keys.py's test_deprecated_keyid_hash_algorithms: the field is not TUF, ignore it."""
    assert setup.client.init(setup.endpoints) == 0
    keyid = setup.repo.root.roles["snapshot"].keyids[0]
    setup.repo.root.keys[keyid].unrecognized_fields = {"keyid_hash_algorithms": "md5"}
    setup.repo.publish(["root"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("root") == 2
    assert setup.client.version("snapshot") == 1


def test_snapshot_has_too_few_keys(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    for _ in range(4):
        setup.repo.add_key("snapshot")
    assert len(setup.repo.root.roles["snapshot"].keyids) == 5
    setup.repo.root.roles["snapshot"].threshold = 6
    setup.repo.publish(["root", "snapshot", "timestamp"])
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("root") == 2
    assert setup.client.version("snapshot") is None


def test_duplicate_keys(setup: Setup) -> None:
    """One key listed 9 more times, its signature repeated: the threshold of 6 is not met."""
    assert setup.client.init(setup.endpoints) == 0
    signer = new_signer()
    for _ in range(9):
        setup.repo.append_keyid("snapshot", signer.public_key)
    setup.repo.add_signer("snapshot", signer)
    setup.repo.root.roles["snapshot"].threshold = 6
    setup.repo.publish(["root", "snapshot", "timestamp"])
    doc = json.loads(setup.repo.published["snapshot"].pop())
    sig = next(s for s in doc["signatures"] if s["keyid"] == signer.public_key.keyid)
    doc["signatures"].extend([sig] * 8)
    setup.repo.published["snapshot"].append(json.dumps(doc).encode())
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") is None


def test_duplicate_sig_keyids(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    doc = json.loads(setup.repo.published["snapshot"].pop())
    doc["signatures"].append(doc["signatures"][0])
    setup.repo.published["snapshot"].append(json.dumps(doc).encode())
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("snapshot") is None


@dataclass(frozen=True)
class KeyType:
    keytype: str
    scheme: str
    bad_sig: str  # plausible for the key type, but not a signature over this root


KEYTYPES = [
    KeyType("rsa", "rsassa-pss-sha256", "b123346abdead7069ab07eb3cae8ba63" * 24),  # 3072 bits
    KeyType(
        "ecdsa",
        "ecdsa-sha2-nistp256",
        "3046022100fa1f62d38e0f5c565fa23e5d230086258427d87f024c146071966deefde55468"
        "022100b3347b4bd9ba6701ca6cef949d04b5742394b9f8c4417933e5d4fa76c3ca3a98",
    ),
    KeyType(
        "ed25519",
        "ed25519",
        "b61589620c287e23a00abf0e653421010a0ad33869e5a096d604e08d7b4f8eb9"
        "c58ebb8a02124576be776f86ab5a3b05dbb6f27cc47f4b144f32ba4012d4b302",
    ),
]


@pytest.mark.parametrize("case", KEYTYPES, ids=[f"{k.keytype}/{k.scheme}" for k in KEYTYPES])
def test_keytype_and_scheme(setup: Setup, case: KeyType) -> None:
    assert setup.client.init(setup.endpoints) == 0
    signer = new_signer(case.keytype, case.scheme)
    setup.repo.add_key("root", signer=signer)
    setup.repo.root.roles["root"].threshold += 1
    setup.repo.publish(["root"])
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("root") == 2

    setup.repo.publish(["root"])
    md = Metadata.from_bytes(setup.repo.published["root"].pop())
    md.signatures[signer.public_key.keyid].signature = case.bad_sig
    setup.repo.published["root"].append(md.to_bytes())
    assert setup.client.refresh(setup.endpoints) == 1
    assert setup.client.version("root") == 2


def test_invalid_sig_in_valid_metadata(setup: Setup) -> None:
    assert setup.client.init(setup.endpoints) == 0
    old_sig = next(iter(setup.repo.mds["timestamp"].signatures.values()))
    setup.repo.add_key("timestamp")
    setup.repo.publish(["root", "timestamp"])
    md = Metadata.from_bytes(setup.repo.published["timestamp"].pop())
    md.signatures[old_sig.keyid] = old_sig  # a real signature, over timestamp v1
    setup.repo.published["timestamp"].append(md.to_bytes())
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("timestamp") == 2

    setup.repo.publish(["timestamp"])
    old_sig.signature = ""
    md = Metadata.from_bytes(setup.repo.published["timestamp"].pop())
    md.signatures[old_sig.keyid] = old_sig
    setup.repo.published["timestamp"].append(md.to_bytes())
    assert setup.client.refresh(setup.endpoints) == 0
    assert setup.client.version("timestamp") == 3
