"""One key, however it is spelt, is one key: the identity thresholds count comes from the loader
that verifies signatures, so no spelling that verifies can count as a second key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tufkit.crypto import SCHEMES, Key, Signature
from tufkit.metadata import Metadata, Role, Root, Snapshot

PAYLOAD = b'{"_type":"snapshot","version":3}'
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Spelling:
    """Another way of writing a key's public value (and possibly its legacy keytype)."""

    name: str
    public: str
    keytype: str


def _crypto_public(signer: Any) -> Any:
    return signer._private.public_key()


def _spellings(signer: Any) -> list[Spelling]:
    key: Key = signer.public_key
    public, keytype = key.public, key.keytype
    if key.scheme == "ed25519":
        mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(public))
        return [Spelling("upper", public.upper(), keytype), Spelling("mixed", mixed, keytype)]
    out = [
        Spelling("newline-before", "\n" + public, keytype),
        Spelling("text-before", "issued by ops\n" + public, keytype),
        Spelling("text-after", public + "trailing words\n", keytype),
        Spelling("spaces-before", "  " + public, keytype),
        Spelling("crlf", public.replace("\n", "\r\n"), keytype),
        Spelling("no-final-newline", public.rstrip("\n"), keytype),
    ]
    crypto_key = _crypto_public(signer)
    if key.keytype == "rsa":
        pkcs1 = crypto_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ).decode()
        out.append(Spelling("pkcs1-pem", pkcs1, keytype))
        out.append(Spelling("pkcs1-pem-text-before", "\n" + pkcs1, keytype))
    if key.keytype == "ecdsa":
        point = crypto_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ).hex()
        short = crypto_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        ).hex()
        out += [
            Spelling("hex-point", point, keytype),
            Spelling("hex-point-upper", point.upper(), keytype),
            Spelling("compressed-point", short, keytype),
            Spelling("compressed-point-upper", short.upper(), keytype),
            Spelling("legacy-keytype-pem", public, key.scheme),
            Spelling("legacy-keytype-hex", point, key.scheme),
            Spelling("legacy-keytype-text-before", "\n" + public, key.scheme),
        ]
    return out


# Spellings that must verify (they do in securesystemslib, or are tufkit's documented legacy forms).
MUST_VERIFY = {
    "upper",
    "mixed",
    "newline-before",
    "text-before",
    "crlf",
    "no-final-newline",
    "pkcs1-pem",
    "hex-point",
    "compressed-point",
    "legacy-keytype-pem",
    "legacy-keytype-hex",
}


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_spelling_that_verifies_is_the_same_identity(
    key_pairs: dict[str, Any], scheme: str
) -> None:
    signer = key_pairs[scheme].tk
    original: Key = signer.public_key
    signature = signer.sign(PAYLOAD)
    for spelling in _spellings(signer):
        copy = Key.from_public(spelling.keytype, scheme, spelling.public)
        verifies = copy.verify_signature(signature.signature, PAYLOAD)
        if spelling.name in MUST_VERIFY:
            assert verifies, spelling.name
        if verifies:
            assert copy.identity() == original.identity(), spelling.name
        else:
            assert copy.identity() != original.identity(), spelling.name


def _root_listing(original: Key, copy: Key) -> Root:
    roles = {name: Role([original.keyid], 1) for name in ("timestamp", "snapshot", "targets")}
    roles["root"] = Role([original.keyid, copy.keyid], 2)
    return Root(expires=EXPIRES, keys={original.keyid: original, copy.keyid: copy}, roles=roles)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_threshold_two_is_not_met_by_one_key_in_two_spellings(
    key_pairs: dict[str, Any], scheme: str
) -> None:
    signer = key_pairs[scheme].tk
    original: Key = signer.public_key
    md: Metadata[Any] = Metadata(Snapshot(expires=EXPIRES))
    md.sign(signer)
    sig = md.signatures[original.keyid].signature
    for spelling in _spellings(signer):
        copy = Key.from_public(spelling.keytype, scheme, spelling.public)
        assert copy.keyid != original.keyid
        md.signatures[copy.keyid] = Signature(copy.keyid, sig)
        root = _root_listing(original, copy)
        result = root.get_verification_result("root", md.verification_payload, md.signatures)
        assert not result.verified, spelling.name
        assert len(result.signed) == 1, spelling.name
        del md.signatures[copy.keyid]


def test_rsa_pem_with_text_before_is_one_key_in_a_serialised_root(
    key_pairs: dict[str, Any],
) -> None:
    """The reported case end to end: a root read from JSON, threshold 2, one signature."""
    signer = key_pairs["rsassa-pss-sha256"].tk
    original: Key = signer.public_key
    copy = Key.from_public("rsa", "rsassa-pss-sha256", "\n" + original.public)
    root_md: Metadata[Any] = Metadata(_root_listing(original, copy))
    root_md.sign(signer)
    sig = root_md.signatures[original.keyid].signature
    root_md.signatures[copy.keyid] = Signature(copy.keyid, sig)
    loaded = Metadata.from_bytes(root_md.to_bytes())
    result = loaded.signed.get_verification_result(
        "root", loaded.verification_payload, loaded.signatures
    )
    assert len(result.signed) == 1
    assert not result.verified
