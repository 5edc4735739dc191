"""Threshold signature verification of a delegated role by its delegator.

A threshold counts distinct keys: each key the role lists contributes at most one valid
signature, and two keyids that carry the same public key count once (TUF TAP 12). Keyids the
role does not list, keys the delegator does not define, and empty, non-hex or failing signatures
simply do not count. A repeated keyid in ``signatures`` is rejected earlier, when the document
is read.
"""

from __future__ import annotations

from collections.abc import Mapping

from tufkit.crypto import Key, Signature
from tufkit.errors import UnsignedMetadataError
from tufkit.metadata._roles import Role

__all__ = ["VerificationResult", "count_signatures"]


class VerificationResult:
    """The outcome of checking a role's signatures.

    Attributes:
        role_name: the role checked.
        threshold: how many distinct keys had to sign.
        signed: keyid -> key, for keys with a valid signature (distinct keys only).
        unsigned: keyid -> key, for the role's keys without one.
    """

    __slots__ = ("role_name", "signed", "threshold", "unsigned")

    def __init__(
        self,
        role_name: str,
        threshold: int,
        signed: dict[str, Key] | None = None,
        unsigned: dict[str, Key] | None = None,
    ) -> None:
        self.role_name = role_name
        self.threshold = threshold
        self.signed = signed if signed is not None else {}
        self.unsigned = unsigned if unsigned is not None else {}

    def __repr__(self) -> str:
        return f"VerificationResult({self.role_name!r}, {len(self.signed)}/{self.threshold} signed)"

    @property
    def verified(self) -> bool:
        """True if at least *threshold* distinct keys signed."""
        return len(self.signed) >= self.threshold

    def __bool__(self) -> bool:
        return self.verified

    def raise_unless_verified(self) -> None:
        """Raise unless verified.

        Raises:
            UnsignedMetadataError: fewer than *threshold* distinct keys signed.
        """
        if not self.verified:
            valid = len(self.signed)
            raise UnsignedMetadataError(
                f"role {self.role_name!r} has {valid} valid signature{'' if valid == 1 else 's'}, "
                f"threshold {self.threshold}"
            )


def count_signatures(
    role_name: str,
    role: Role,
    keys: Mapping[str, Key],
    payload: bytes,
    signatures: Mapping[str, Signature],
) -> VerificationResult:
    """Check *signatures* over *payload* against *role*'s keys and threshold."""
    signed: dict[str, Key] = {}
    unsigned: dict[str, Key] = {}
    identities: set[tuple[str, str]] = set()
    for keyid in role.keyids:
        key = keys.get(keyid)
        if key is None:
            continue
        signature = signatures.get(keyid)
        if signature is None:  # no signature: the key's material need not be derived at all
            unsigned[keyid] = key
            continue
        identity = key.identity()
        if identity not in identities and key.verify_signature(signature, payload):
            signed[keyid] = key
            identities.add(identity)
        else:
            unsigned[keyid] = key
    return VerificationResult(role_name, role.threshold, signed, unsigned)
