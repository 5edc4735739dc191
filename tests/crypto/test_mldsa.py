"""ML-DSA (FIPS 204) keys as securesystemslib 1.6 writes them (keytype ``ml-dsa``, schemes
``ml-dsa-{44,65,87}/1``, PEM public keys, TAP 21 pre-hash): metadata signed by python-tuf verifies
in tufkit and the other way round."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from securesystemslib.signer._crypto_signer import CryptoSigner as RefSigner
from securesystemslib.signer._key import SSlibKey
from tuf.api._payload import TOP_LEVEL_ROLE_NAMES
from tuf.api._payload import Role as RefRole
from tuf.api._payload import Root as RefRoot
from tuf.api.metadata import Metadata as RefMetadata

from tufkit.crypto import CryptoSigner, Key, generate
from tufkit.metadata import Metadata, Role, Root

LEVELS = ["ml-dsa-44/1", "ml-dsa-65/1", "ml-dsa-87/1"]
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def _ref_root(signer: Any) -> bytes:
    key = signer.public_key
    roles = {name: RefRole([key.keyid], 1) for name in TOP_LEVEL_ROLE_NAMES}
    md = RefMetadata(RefRoot(keys={key.keyid: key}, roles=roles, expires=EXPIRES))
    md.sign(signer)
    data: bytes = md.to_bytes()
    return data


@pytest.mark.parametrize("scheme", LEVELS)
def test_python_tuf_ml_dsa_root_verifies_in_tufkit(scheme: str) -> None:
    signer = RefSigner.generate_mldsa(scheme=scheme)
    md = Metadata.from_bytes(_ref_root(signer))
    root = md.signed
    assert isinstance(root, Root)
    key = root.keys[signer.public_key.keyid]
    assert (key.keytype, key.scheme) == ("ml-dsa", scheme)
    assert key.is_supported
    root.verify_delegate("root", md.verification_payload, md.signatures)
    # a flipped signature bit, or a signature over the payload without TAP 21's pre-hash, fails
    sig = md.signatures[key.keyid].signature
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not key.verify_signature(flipped, md.verification_payload)
    private: Any = signer._private_key
    raw = private.sign(md.verification_payload)
    assert not key.verify_signature(raw.hex(), md.verification_payload)


@pytest.mark.parametrize("scheme", LEVELS)
def test_tufkit_ml_dsa_root_verifies_in_python_tuf(scheme: str) -> None:
    signer = generate("ml-dsa", scheme=scheme)
    key = signer.public_key
    roles = {name: Role([key.keyid], 1) for name in ("root", "timestamp", "snapshot", "targets")}
    md: Metadata[Any] = Metadata(Root(expires=EXPIRES, keys={key.keyid: key}, roles=roles))
    md.sign(signer)
    theirs = RefMetadata[RefRoot].from_bytes(md.to_bytes())
    theirs.signed.verify_delegate("root", theirs.signed_bytes, theirs.signatures)
    assert theirs.signed.keys[key.keyid].to_dict() == key.to_dict()


def test_key_files_round_trip_between_libraries() -> None:
    ours = generate("ml-dsa", scheme="ml-dsa-44/1")
    pem = ours.private_pem(None)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    private: Any = load_pem_private_key(pem, None)
    ref_key = SSlibKey.from_crypto(private.public_key())
    assert ref_key.to_dict() == ours.public_key.to_dict()
    assert ref_key.keyid == ours.public_key.keyid
    theirs = RefSigner(private, ref_key)
    payload = b"payload"
    assert ours.public_key.verify_signature(theirs.sign(payload).signature, payload)
    assert CryptoSigner.from_private_pem(pem, None).public_key == ours.public_key


def test_wrong_parameter_set_verifies_nothing() -> None:
    signer = generate("ml-dsa", scheme="ml-dsa-44/1")
    sig = signer.sign(b"x")
    for scheme in ("ml-dsa-65/1", "ml-dsa-87/1"):
        wrong = Key.from_public("ml-dsa", scheme, signer.public_key.public)
        assert not wrong.is_supported
        assert not wrong.verify_signature(sig, b"x")
    assert not Key.from_public("rsa", "ml-dsa-44/1", signer.public_key.public).is_supported
