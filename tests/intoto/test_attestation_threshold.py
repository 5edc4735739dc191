"""Attestation thresholds count distinct keys whose signature verified, never keyids; an envelope
whose payloadType is not in-toto's is refused. securesystemslib's DSSE verifier is the oracle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from securesystemslib.dsse import Envelope as RefEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer._key import SSlibKey

from tufkit.crypto import CryptoSigner, Key, generate
from tufkit.intoto import InvalidMetadataError, SignatureVerificationError
from tufkit.intoto._attest import Statement, sign_statement, verify_attestation
from tufkit.intoto._envelope import DsseEnvelope

DIGEST = {"sha256": "ab" * 32}


def _statement() -> Statement:
    return Statement([{"name": "app", "digest": DIGEST}], "https://slsa.dev/provenance/v1")


@pytest.fixture(scope="module")
def alice() -> CryptoSigner:
    return generate("ed25519")


@pytest.fixture(scope="module")
def bob() -> CryptoSigner:
    return generate("ecdsa")


def _reference_verdict(envelope: dict[str, Any], keys: list[Key], threshold: int) -> int | None:
    """How many keys securesystemslib accepts, or None if it refuses the threshold."""
    ref = RefEnvelope.from_dict(json.loads(json.dumps(envelope)))
    ref_keys: list[Any] = [SSlibKey.from_dict(k.keyid, k.to_dict()) for k in keys]
    try:
        return len(ref.verify(ref_keys, threshold))
    except VerificationError:
        return None


def test_two_keys_sharing_one_keyid_and_one_signature_do_not_meet_two(
    alice: CryptoSigner, bob: CryptoSigner
) -> None:
    envelope = sign_statement(_statement(), [alice])
    impostor = Key.from_dict(alice.public_key.keyid, bob.public_key.to_dict())
    keys = [alice.public_key, impostor]
    data = envelope.to_bytes()
    with pytest.raises(SignatureVerificationError, match="found 1"):
        verify_attestation(data, keys, DIGEST, threshold=2)
    assert _reference_verdict(envelope.to_dict(), keys, 2) is None
    # either order of the keys
    with pytest.raises(SignatureVerificationError, match="found 1"):
        verify_attestation(data, keys[::-1], DIGEST, threshold=2)
    # the one real signature still meets a threshold of one, as in the reference
    assert verify_attestation(data, keys, DIGEST, threshold=1).predicate_type
    assert _reference_verdict(envelope.to_dict(), keys, 1) == 1


def test_two_distinct_keys_meet_two(alice: CryptoSigner, bob: CryptoSigner) -> None:
    envelope = sign_statement(_statement(), [alice, bob])
    keys = [alice.public_key, bob.public_key]
    verify_attestation(envelope.to_bytes(), keys, DIGEST, threshold=2)
    assert _reference_verdict(envelope.to_dict(), keys, 2) == 2


@pytest.mark.parametrize("spelling", ["same", "text-before-pem"])
def test_one_key_under_two_keyids_counts_once(bob: CryptoSigner, spelling: str) -> None:
    """Stricter than securesystemslib, which counts keyids (it accepts this with two)."""
    original = bob.public_key
    public = original.public if spelling == "same" else "\n" + original.public
    copy = Key.from_public(original.keytype, original.scheme, public, extra={"x-copy": 1})
    assert copy.keyid != original.keyid
    envelope = sign_statement(_statement(), [bob])
    envelope.signatures[copy.keyid] = envelope.signatures[original.keyid]
    with pytest.raises(SignatureVerificationError, match="found 1"):
        verify_attestation(envelope.to_bytes(), [original, copy], DIGEST, threshold=2)


@pytest.mark.parametrize(
    "payload_type",
    ["application/json", "application/vnd.in-toto+json ", "text/plain\x1b[2J", ""],
)
def test_a_payload_type_other_than_in_totos_is_refused(
    alice: CryptoSigner, payload_type: str
) -> None:
    statement = json.dumps(_statement().to_dict()).encode()
    envelope = DsseEnvelope(statement, payload_type)
    envelope.sign(alice)  # validly signed over its own payloadType
    with pytest.raises(InvalidMetadataError, match="payloadType") as caught:
        verify_attestation(envelope.to_bytes(), [alice.public_key], DIGEST)
    assert "\x1b" not in str(caught.value)
    assert "application/vnd.in-toto+json" in str(caught.value)


def test_a_missing_or_non_string_payload_type_is_refused(alice: CryptoSigner) -> None:
    envelope = sign_statement(_statement(), [alice]).to_dict()
    for value in (None, 7, ["application/vnd.in-toto+json"]):
        broken = {**envelope, "payloadType": value}
        with pytest.raises(InvalidMetadataError, match="payloadType"):
            verify_attestation(json.dumps(broken).encode(), [alice.public_key], DIGEST)
    del envelope["payloadType"]
    with pytest.raises(InvalidMetadataError, match="payloadType"):
        verify_attestation(json.dumps(envelope).encode(), [alice.public_key], DIGEST)
