"""in-toto attestations: Statement v1 in a DSSE envelope, verified against a subject digest.

A Statement is ``{"_type": "https://in-toto.io/Statement/v1", "subject": [...], "predicateType",
"predicate"}``; each subject is a ResourceDescriptor with a ``digest`` (algorithm -> lowercase
hex). Subjects are matched by digest only; unknown fields are ignored. The envelope's
``payloadType`` must be in-toto's (``application/vnd.in-toto+json``); within it, ``predicateType``
says what the predicate is. A threshold counts distinct keys (by key material) whose signature
verified, never keyids. This module does not evaluate predicates (SLSA provenance, links); it
hands them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tufkit.crypto import Key, Signer
from tufkit.errors import FormatError
from tufkit.intoto._envelope import PAYLOAD_TYPE, DsseEnvelope
from tufkit.intoto._errors import InvalidMetadataError, SignatureVerificationError
from tufkit.intoto._keys import key_to_layout_dict

__all__ = ["STATEMENT_TYPE", "Statement", "sign_statement", "verify_attestation"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


@dataclass
class Statement:
    """An in-toto Statement v1.

    Attributes:
        subject: ResourceDescriptors, each with a ``digest`` object.
        predicate_type: a TypeURI naming the predicate's schema.
        predicate: the predicate object (may be empty).
    """

    subject: list[dict[str, Any]]
    predicate_type: str
    predicate: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object) -> Statement:
        """Read a Statement, checking the fields the framework requires.

        Raises:
            FormatError: wrong ``_type``, an empty subject list, a subject without a digest,
                or a missing ``predicateType``.
        """
        if type(data) is not dict or data.get("_type") != STATEMENT_TYPE:
            raise FormatError(f"not an in-toto Statement v1 (_type must be {STATEMENT_TYPE})")
        subjects = data.get("subject")
        if type(subjects) is not list or not subjects:
            raise FormatError("Statement 'subject' must be a non-empty list")
        for subject in subjects:
            digest = subject.get("digest") if type(subject) is dict else None
            if type(digest) is not dict or not digest:
                raise FormatError("every Statement subject needs a non-empty 'digest' object")
            if not all(type(k) is str and type(v) is str for k, v in digest.items()):
                raise FormatError("Statement subject digests map strings to strings")
        predicate_type = data.get("predicateType")
        if type(predicate_type) is not str or not predicate_type:
            raise FormatError("Statement 'predicateType' must be a non-empty string")
        predicate = data.get("predicate", {})
        if type(predicate) is not dict:
            raise FormatError("Statement 'predicate' must be an object")
        return cls(subjects, predicate_type, predicate)

    def to_dict(self) -> dict[str, Any]:
        """The Statement as a JSON object."""
        return {
            "_type": STATEMENT_TYPE,
            "subject": self.subject,
            "predicateType": self.predicate_type,
            "predicate": self.predicate,
        }

    def matches(self, digest: Mapping[str, str]) -> bool:
        """True if some subject shares an algorithm with *digest* and all shared ones agree."""
        wanted = {k: v.lower() for k, v in digest.items()}
        for subject in self.subject:
            have = {k: v.lower() for k, v in subject["digest"].items()}
            common = set(have) & set(wanted)
            if common and all(have[k] == wanted[k] for k in common):
                return True
        return False


def sign_statement(statement: Statement, signers: Sequence[Signer]) -> DsseEnvelope:
    """Wrap *statement* in a DSSE envelope signed by each of *signers*."""
    payload = json.dumps(statement.to_dict(), sort_keys=True).encode("utf-8")
    envelope = DsseEnvelope(payload, PAYLOAD_TYPE)
    for signer in signers:
        envelope.sign(signer)
    return envelope


def verify_attestation(
    data: bytes,
    keys: Sequence[Key],
    digest: Mapping[str, str],
    *,
    threshold: int = 1,
    predicate_type: str | None = None,
) -> Statement:
    """Verify a DSSE-enveloped Statement and that it is about the artifact with *digest*.

    Args:
        data: the envelope file's bytes.
        keys: trusted keys; signatures are matched to them by keyid, and each key counts
            only if the signature under its keyid verifies with it.
        digest: the subject's digest, e.g. ``{"sha256": "..."}``.
        threshold: distinct keys (by key material: one key listed twice counts once) whose
            signature must verify.
        predicate_type: if given, the Statement's ``predicateType`` must equal it.

    Raises:
        ValueError: *threshold* is below 1.
        InvalidMetadataError: not a DSSE envelope holding a Statement, or a ``payloadType``
            other than in-toto's.
        SignatureVerificationError: fewer than *threshold* keys signed validly.
        FormatError: the Statement is malformed.
        SupplyChainError: wrong predicate type, or no subject has the digest.
    """
    from tufkit.errors import SupplyChainError

    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidMetadataError(f"attestation is not JSON: {exc}") from exc
    if type(obj) is not dict or "payload" not in obj:
        raise InvalidMetadataError("attestation is not a DSSE envelope")
    payload_type = obj.get("payloadType")
    if payload_type != PAYLOAD_TYPE:
        raise InvalidMetadataError(
            f"attestation payloadType is {payload_type!r:.80}, not in-toto's {PAYLOAD_TYPE!r}"
        )
    envelope = DsseEnvelope.from_dict(obj)
    verified = _verified_identities(envelope, keys)
    if len(verified) < threshold:
        raise SignatureVerificationError(
            f"attestation needs valid signatures by {threshold} distinct key(s), "
            f"found {len(verified)}"
        )
    try:
        statement = Statement.from_dict(json.loads(envelope.raw_payload.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidMetadataError(f"attestation payload is not JSON: {exc}") from exc
    if predicate_type is not None and statement.predicate_type != predicate_type:
        raise SupplyChainError(
            f"attestation predicate is {statement.predicate_type!r}, not {predicate_type!r}"
        )
    if not statement.matches(digest):
        raise SupplyChainError("no subject of the attestation has the given digest")
    return statement


def _verified_identities(envelope: DsseEnvelope, keys: Sequence[Key]) -> set[tuple[str, str]]:
    """The key material of every key in *keys* whose own signature verified."""
    verified: set[tuple[str, str]] = set()
    for key in keys:
        if key.keyid not in envelope.signatures:
            continue
        try:
            envelope.verify_signature(key.keyid, key_to_layout_dict(key))
        except SignatureVerificationError:
            continue
        verified.add(key.identity())
    return verified
