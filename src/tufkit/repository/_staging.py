"""Staged roles: a role's next version waiting for signatures from several offline keyholders.

A staged file carries the role's new metadata (signed content plus the signatures collected so
far) and, for the keyholders' information, which keys may sign it and how many must: for a new
root both the old root's and its own keys and thresholds. A keyholder signs it with
:func:`sign_staged` on their own machine, from the file alone. The file's list of authorised keys
only guides the keyholder: the repository that takes signatures back
(:meth:`Repository.add_signatures <tufkit.repository.Repository.add_signatures>`) checks each
against its own delegators and ignores the list. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tufkit.crypto import Key, Signer
from tufkit.errors import ConfigError, Error
from tufkit.metadata import Metadata

__all__ = [
    "Authorisation",
    "StagedRole",
    "ThresholdStatus",
    "encode_staged",
    "read_staged",
    "sign_staged",
]

_FORMAT = "tufkit-staged/1"
_MAX_STAGED = 64 * 1024 * 1024  # bytes: far above any offline role's metadata


@dataclass(frozen=True)
class Authorisation:
    """One set of keys whose threshold a staged version must meet.

    Attributes:
        by: who requires it (``"root v3"``, ``"new root"``, ``"targets"``).
        threshold: how many distinct keys must sign.
        keys: keyid -> key.
    """

    by: str
    threshold: int
    keys: dict[str, Key]


@dataclass(frozen=True)
class ThresholdStatus:
    """How far a staged version is from one of its thresholds.

    Attributes:
        by: who requires it.
        threshold: how many distinct keys must sign.
        signed: keyids with a valid signature.
        missing: authorised keyids without one.
    """

    by: str
    threshold: int
    signed: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def met(self) -> bool:
        """True once enough distinct keys signed."""
        return len(self.signed) >= self.threshold


@dataclass(frozen=True)
class StagedRole:
    """A staged role read from its file.

    Attributes:
        role: the role's name.
        metadata: its next version with the signatures collected so far.
        authorisations: the keys and thresholds it must meet, as the file states them.
    """

    role: str
    metadata: Metadata[Any]
    authorisations: tuple[Authorisation, ...]

    def status(self) -> list[ThresholdStatus]:
        """Per authorisation: which keys signed (valid signatures only) and which are missing."""
        payload = self.metadata.verification_payload
        out = []
        for auth in self.authorisations:
            signed: list[str] = []
            identities = set()
            for keyid, key in auth.keys.items():
                signature = self.metadata.signatures.get(keyid)
                if signature is None or key.identity() in identities:
                    continue
                if key.verify_signature(signature, payload):
                    signed.append(keyid)
                    identities.add(key.identity())
            missing = tuple(k for k in auth.keys if k not in signed)
            out.append(ThresholdStatus(auth.by, auth.threshold, tuple(signed), missing))
        return out

    @property
    def complete(self) -> bool:
        """True once every threshold is met."""
        return all(status.met for status in self.status())


def encode_staged(role: str, metadata: Metadata[Any], authorisations: list[Authorisation]) -> bytes:
    """The staged file of *role*'s next version."""
    doc = {
        "format": _FORMAT,
        "role": role,
        "metadata": json.loads(metadata.to_bytes()),
        "authorised": [
            {
                "by": auth.by,
                "threshold": auth.threshold,
                "keys": {kid: key.to_dict() for kid, key in auth.keys.items()},
            }
            for auth in authorisations
        ],
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def read_staged(data: bytes) -> StagedRole:
    """Read a staged file.

    Raises:
        ConfigError: not a staged file, or malformed (the message names what is wrong).
    """
    if len(data) > _MAX_STAGED:
        raise ConfigError(f"a staged file is at most {_MAX_STAGED} bytes")
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError(f"not a staged role (expected format {_FORMAT!r})")
        role = doc.get("role")
        if not isinstance(role, str) or not role:
            raise ValueError("'role' must be a non-empty string")
        metadata = Metadata.from_bytes(json.dumps(doc.get("metadata")).encode())
        if metadata.signed.type not in ("root", "targets"):
            raise ValueError(f"a {metadata.signed.type} role is never staged")
        authorisations = tuple(_authorisation(a) for a in _list(doc.get("authorised")))
    except Error as exc:
        raise ConfigError(f"malformed staged file: {exc.diagnostics()}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"malformed staged file: {exc}") from exc
    return StagedRole(role, metadata, authorisations)


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("'authorised' must be a list")
    return value


def _authorisation(value: object) -> Authorisation:
    if not isinstance(value, dict):
        raise TypeError("each 'authorised' entry must be an object")
    by, threshold, keys = value.get("by"), value.get("threshold"), value.get("keys")
    if not isinstance(by, str) or type(threshold) is not int or not isinstance(keys, dict):
        raise TypeError("'authorised' entries need 'by' (text), 'threshold' (int), 'keys'")
    return Authorisation(by, threshold, {kid: Key.from_dict(kid, kd) for kid, kd in keys.items()})


def sign_staged(data: bytes, signer: Signer) -> bytes:
    """Add *signer*'s signature to a staged file, on the keyholder's own machine.

    Raises:
        ConfigError: a malformed staged file, or a signer whose key the file does not list as
            authorised for the role (signing it would not count).
    """
    staged = read_staged(data)
    public = signer.public_key
    listed = [
        kid
        for auth in staged.authorisations
        for kid, key in auth.keys.items()
        if kid == public.keyid and key.identity() == public.identity()
    ]
    if not listed:
        raise ConfigError(
            f"key {public.keyid[:16]} may not sign {staged.role} "
            f"v{staged.metadata.signed.version}: it is not among its authorised keys"
        )
    signature = signer.sign(staged.metadata.verification_payload)
    staged.metadata.signatures[signature.keyid] = signature
    return encode_staged(staged.role, staged.metadata, list(staged.authorisations))
