"""Keys tufkit cannot use (unknown types and schemes, a keyval without a public key, a
``sigstore-oidc`` key without an identity) keep the document readable and simply verify nothing;
so does a ``sigstore-oidc`` key whose signature is not a valid Sigstore bundle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tufkit.crypto import Key, Signature
from tufkit.errors import UnsignedMetadataError
from tufkit.metadata import Metadata, Role, Root

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)

# As tuf-on-ci repositories list a Sigstore signer (fields as securesystemslib's SigstoreKey).
SIGSTORE_OIDC = {
    "keytype": "sigstore-oidc",
    "scheme": "Fulcio",
    "keyval": {"identity": "someone@example.com", "issuer": "https://github.com/login/oauth"},
    "x-tuf-on-ci-keyowner": "@someone",
}

UNUSABLE: dict[str, dict[str, Any]] = {
    "sigstore-oidc-without-identity": {**SIGSTORE_OIDC, "keyval": {"issuer": "https://x"}},
    "sigstore-other-scheme": {**SIGSTORE_OIDC, "scheme": "fulcio"},
    "unknown-type": {"keytype": "x-quantum", "scheme": "x-q1", "keyval": {"public": "00"}},
    "known-scheme-no-public": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {}},
    "known-scheme-public-number": {
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": {"public": 7},
    },
    "nested-keyval": {"keytype": "kms", "scheme": "kms", "keyval": {"a": {"b": [1, None]}}},
}


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_key_is_read_kept_and_verifies_nothing(name: str) -> None:
    data = UNUSABLE[name]
    key = Key.from_dict("ab" * 32, json.loads(json.dumps(data)))
    assert key.to_dict() == data
    assert key.is_supported is False
    assert key.verify_signature("00" * 64, b"payload") is False
    assert key.verify_signature(Signature(key.keyid, ""), b"payload") is False
    assert key.identity() == ("unusable", key.keyid)


def _root_bytes(signers: list[Any], threshold: int) -> tuple[bytes, str]:
    """A root listing a sigstore-oidc key beside *signers*, signed by all *signers*; the sigstore
    key's signature entry holds garbage, as a bundle-carrying signature looks to tufkit."""
    sigstore = Key.from_dict("", dict(SIGSTORE_OIDC))
    sigstore.keyid = sigstore.compute_keyid()
    keys = {s.public_key.keyid: s.public_key for s in signers}
    keys[sigstore.keyid] = sigstore
    keyids = [*keys]
    roles = {name: Role(keyids, threshold) for name in ("root", "timestamp", "snapshot")}
    roles["targets"] = Role(keyids, threshold)
    md: Metadata[Any] = Metadata(Root(expires=EXPIRES, keys=keys, roles=roles))
    for signer in signers:
        md.sign(signer)
    md.signatures[sigstore.keyid] = Signature(
        sigstore.keyid, "30450221", {"bundle": {"mediaType": "x"}}
    )
    return md.to_bytes(), sigstore.keyid


def test_root_with_a_sigstore_key_reads_and_verifies_by_its_other_keys(
    key_pairs: dict[str, Any],
) -> None:
    signers = [key_pairs["ed25519"].tk, key_pairs["ecdsa-sha2-nistp256"].tk]
    data, sigstore_keyid = _root_bytes(signers, 2)
    md = Metadata.from_bytes(data)
    root = md.signed
    assert isinstance(root, Root)
    assert root.keys[sigstore_keyid].keytype == "sigstore-oidc"
    result = root.get_verification_result("root", md.verification_payload, md.signatures)
    assert result.verified
    assert set(result.signed) == {s.public_key.keyid for s in signers}
    assert sigstore_keyid in result.unsigned
    root.verify_delegate("root", md.verification_payload, md.signatures)
    # the document is written back as it was read
    assert json.loads(md.to_bytes()) == json.loads(data)


def test_a_sigstore_key_never_helps_meet_a_threshold(key_pairs: dict[str, Any]) -> None:
    signers = [key_pairs["ed25519"].tk]
    data, _ = _root_bytes(signers, 2)
    md = Metadata.from_bytes(data)
    with pytest.raises(UnsignedMetadataError):
        md.signed.verify_delegate("root", md.verification_payload, md.signatures)


def test_python_tuf_reads_the_same_root(
    key_pairs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The oracle agrees, with sigstore-oidc keys registered as tuf-on-ci registers them."""
    from securesystemslib.signer._key import KEY_FOR_TYPE_AND_SCHEME
    from securesystemslib.signer._sigstore_signer import SigstoreKey
    from tuf.api.metadata import Metadata as RefMetadata

    monkeypatch.setitem(KEY_FOR_TYPE_AND_SCHEME, ("sigstore-oidc", "Fulcio"), SigstoreKey)
    signers = [key_pairs["ed25519"].tk, key_pairs["ecdsa-sha2-nistp256"].tk]
    data, sigstore_keyid = _root_bytes(signers, 2)
    ref = RefMetadata.from_bytes(data)
    assert ref.signed.keys[sigstore_keyid].keytype == "sigstore-oidc"
    ref.signed.verify_delegate("root", ref.signed_bytes, ref.signatures)
