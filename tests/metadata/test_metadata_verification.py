"""Verification by threshold: distinct keys only, bad signatures do not count and do not raise,
unknown keys are ignored, and the result-returning and raising forms agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tufkit.crypto import Key, Signature, generate
from tufkit.errors import UnsignedMetadataError
from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    Role,
    Root,
    Snapshot,
    Targets,
    Timestamp,
)

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def signers() -> list[Any]:
    return [generate("ed25519"), generate("ed25519"), generate("ecdsa"), generate("ed25519")]


def _root(keys: list[Key], keyids: list[str], threshold: int) -> Root:
    roles = {name: Role([k.keyid for k in keys], 1) for name in ("timestamp", "snapshot")}
    roles["targets"] = Role([], 1)
    roles["root"] = Role(keyids, threshold)
    return Root(expires=EXPIRES, keys={k.keyid: k for k in keys}, roles=roles)


def _signed_snapshot(signers: list[Any]) -> Metadata[Any]:
    md: Metadata[Any] = Metadata(Snapshot(expires=EXPIRES))
    for signer in signers:
        md.sign(signer)
    return md


def _check(root: Root, role: str, md: Metadata[Any]) -> bool:
    """Both forms, which must agree; returns the verdict."""
    result = root.get_verification_result(role, md.verification_payload, md.signatures)
    try:
        root.verify_delegate(role, md.verification_payload, md.signatures)
    except UnsignedMetadataError:
        raised = True
    else:
        raised = False
    assert result.verified is (not raised) is bool(result)
    return result.verified


@dataclass(frozen=True)
class Case:
    """Who is in the role (indexes into signers), the threshold, and who signs."""

    name: str
    role_keys: tuple[int, ...]
    threshold: int
    signing: tuple[int, ...]
    verified: bool


CASES = [
    Case("one-of-one", (0,), 1, (0,), True),
    Case("two-of-three", (0, 1, 2), 2, (0, 2), True),
    Case("three-of-three", (0, 1, 2), 3, (0, 1, 2), True),
    Case("one-short", (0, 1, 2), 3, (0, 1), False),
    Case("nobody", (0, 1), 1, (), False),
    Case("outsider-only", (0, 1), 1, (3,), False),
    Case("outsider-does-not-help", (0, 1), 2, (0, 3), False),
    Case("threshold-above-key-count", (0, 1), 3, (0, 1), False),
    Case("threshold-above-key-count-all-sign", (0,), 2, (0, 1, 2, 3), False),
    Case("empty-role", (), 1, (0, 1, 2, 3), False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_threshold(signers: list[Any], case: Case) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[i].keyid for i in case.role_keys], case.threshold)
    md = _signed_snapshot([signers[i] for i in case.signing])
    assert _check(root, "root", md) is case.verified
    result = root.get_verification_result("root", md.verification_payload, md.signatures)
    assert set(result.signed) == {keys[i].keyid for i in case.signing if i in case.role_keys}
    assert set(result.signed) | set(result.unsigned) == {keys[i].keyid for i in case.role_keys}
    assert result.threshold == case.threshold


def _variants_of(signer: Any) -> list[Key]:
    """The same public key written differently, each with its own (correct) keyid."""
    key = signer.public_key
    out = [Key.from_public(key.keytype, key.scheme, key.public, extra={"x-copy": 1})]
    if key.scheme == "ed25519":
        out.append(Key.from_public(key.keytype, key.scheme, key.public.upper()))
    else:
        point = signer._private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        out.append(Key.from_public("ecdsa-sha2-nistp256", key.scheme, point.hex()))
        out.append(Key.from_public(key.keytype, key.scheme, key.public.replace("\n", "\r\n")))
        out.append(Key.from_public("ecdsa-sha2-nistp256", key.scheme, key.public))
    return out


@pytest.mark.parametrize("which", [0, 2], ids=["ed25519", "ecdsa"])
def test_one_key_under_two_keyids_counts_once(signers: list[Any], which: int) -> None:
    signer = signers[which]
    original = signer.public_key
    for copy in _variants_of(signer):
        assert copy.keyid != original.keyid
        root = _root([original, copy], [original.keyid, copy.keyid], 2)
        md = _signed_snapshot([signer])
        # the same signature bytes under the copy's keyid
        sig = md.signatures[original.keyid].signature
        md.signatures[copy.keyid] = Signature(copy.keyid, sig)
        assert copy.verify_signature(sig, md.verification_payload), copy.public[:20]
        assert not _check(root, "root", md), copy.public[:20]
        # one real second key makes it
        other = signers[1]
        root = _root(
            [original, copy, other.public_key],
            [original.keyid, copy.keyid, other.public_key.keyid],
            2,
        )
        md.signatures[other.public_key.keyid] = other.sign(md.verification_payload)
        assert _check(root, "root", md)


def test_one_rsa_key_under_two_schemes_counts_once() -> None:
    pss = generate("rsa")
    pkcs_key = Key.from_public("rsa", "rsa-pkcs1v15-sha256", pss.public_key.public)
    from tufkit.crypto import CryptoSigner

    pkcs = CryptoSigner.from_private_pem(
        pss.private_pem(None), None, scheme="rsa-pkcs1v15-sha256", public_key=pkcs_key
    )
    root = _root([pss.public_key, pkcs_key], [pss.public_key.keyid, pkcs_key.keyid], 2)
    md = _signed_snapshot([pss, pkcs])
    assert len(md.signatures) == 2
    assert not _check(root, "root", md)


BAD_SIGS = ["", "zz", "0", "ab" * 10, "00" * 64, "not hex", "\u00e9\u00e9"]


@pytest.mark.parametrize("bad", BAD_SIGS)
def test_bad_signatures_do_not_count_and_do_not_raise(signers: list[Any], bad: str) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[0].keyid, keys[1].keyid], 1)
    md = _signed_snapshot([])
    md.signatures[keys[0].keyid] = Signature(keys[0].keyid, bad)
    assert not _check(root, "root", md)
    good = _signed_snapshot([signers[1]])
    md.signatures[keys[1].keyid] = good.signatures[keys[1].keyid]
    assert _check(root, "root", md)
    # truncated and flipped versions of a real signature
    real = good.signatures[keys[1].keyid].signature
    for broken in (real[:-2], real[2:], real[:-1] + ("0" if real[-1] != "0" else "1")):
        md.signatures[keys[1].keyid] = Signature(keys[1].keyid, broken)
        assert not _check(root, "root", md)


def test_signature_over_other_content_does_not_count(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[0].keyid], 1)
    md = _signed_snapshot([signers[0]])
    other: Metadata[Any] = Metadata(Snapshot(version=2, expires=EXPIRES))
    other.signatures = dict(md.signatures)
    assert not _check(root, "root", other)


def test_keyid_in_role_but_not_in_keys_is_ignored(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    root = _root([keys[0]], [keys[0].keyid, keys[1].keyid], 1)
    md = _signed_snapshot([signers[1]])
    assert not _check(root, "root", md)
    md.sign(signers[0])
    assert _check(root, "root", md)


def test_signature_under_wrong_keyid_does_not_count(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[0].keyid], 1)
    md = _signed_snapshot([signers[1]])
    sig = md.signatures.pop(keys[1].keyid)
    md.signatures[keys[0].keyid] = Signature(keys[0].keyid, sig.signature)
    assert not _check(root, "root", md)


def test_unknown_role_is_value_error(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[0].keyid], 1)
    md = _signed_snapshot([signers[0]])
    with pytest.raises(ValueError, match="mirrors"):
        root.verify_delegate("mirrors", md.verification_payload, md.signatures)
    targets = Targets(expires=EXPIRES)
    with pytest.raises(ValueError, match="role-x"):
        targets.get_verification_result("role-x", md.verification_payload, md.signatures)


def test_sign_append_and_replace(signers: list[Any]) -> None:
    md: Metadata[Any] = Metadata(Timestamp(expires=EXPIRES))
    first = md.sign(signers[0])
    md.sign(signers[1])
    assert list(md.signatures) == [signers[0].public_key.keyid, signers[1].public_key.keyid]
    again = md.sign(signers[0])  # same key again: replaces its own signature, keeps the other
    assert len(md.signatures) == 2
    assert md.signatures[first.keyid] is again
    md.sign(signers[2], append=False)
    assert list(md.signatures) == [signers[2].public_key.keyid]


def test_parsed_document_verifies_received_bytes_until_resigned(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    root = _root(keys, [keys[0].keyid], 1)
    md = _signed_snapshot([signers[0]])
    parsed = Metadata.from_bytes(md.to_bytes())
    assert _check(root, "root", parsed)
    parsed.signed.version = 99  # changing content does not change what was received
    assert _check(root, "root", parsed)
    assert parsed.signed_bytes != parsed.verification_payload
    parsed.sign(signers[0], append=False)
    assert parsed.verification_payload == parsed.signed_bytes
    assert _check(root, "root", parsed)


def test_delegated_role_verification_uses_only_delegation_keys(signers: list[Any]) -> None:
    keys = [s.public_key for s in signers]
    role = DelegatedRole("team", [keys[0].keyid, keys[1].keyid], 2, False, paths=["team/*"])
    delegator = Targets(
        expires=EXPIRES, delegations=Delegations({keys[0].keyid: keys[0]}, {"team": role})
    )
    md: Metadata[Any] = Metadata(Targets(expires=EXPIRES))
    md.sign(signers[0])
    md.sign(signers[1])
    # key 1 is listed in the role but not defined in the delegations: it cannot count
    result = delegator.get_verification_result("team", md.verification_payload, md.signatures)
    assert not result
    assert set(result.signed) == {keys[0].keyid}
    delegator.add_key(keys[1], "team")
    delegator.verify_delegate("team", md.verification_payload, md.signatures)
    delegator.revoke_key(keys[0].keyid, "team")
    assert keys[0].keyid not in delegator.delegations.keys  # type: ignore[union-attr]
    with pytest.raises(UnsignedMetadataError, match="1 valid signature, threshold 2"):
        delegator.verify_delegate("team", md.verification_payload, md.signatures)
