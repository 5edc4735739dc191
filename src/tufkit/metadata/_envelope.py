"""The signed envelope: :class:`Metadata` holds a role's signed content and its signatures.

Reading: the envelope must be an object with exactly the keys it needs (``signed``, ``signatures``
and any unrecognised extras); a keyid repeated in ``signatures`` rejects the document. The canonical
bytes of the *parsed* ``signed`` object are computed once, at read time, and are what signatures
are verified over. Targets metadata above 1 MiB takes a fast path: a typed decode validates every
target entry in C and keeps entries compact; a document the fast path does not fit (unrecognised
fields, errors) is read by the general path, which produces the precise error message.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from tufkit.canonical import (
    check_json,
    encode_canonical,
    encode_canonical_parsed,
    encode_compact,
    loads_object,
)
from tufkit.crypto import Signature, Signer
from tufkit.errors import FormatError
from tufkit.metadata._fields import check_spec_version, get_list, parse_expires, type_name
from tufkit.metadata._roles import Delegations
from tufkit.metadata._signed import Root, Signed, Snapshot, Timestamp
from tufkit.metadata._targets import TargetEntries, Targets

__all__ = ["Metadata", "RoleType"]

RoleType = TypeVar("RoleType", Root, Timestamp, Snapshot, Targets)
_BY_TYPE: dict[str, type[Signed]] = {cls.type: cls for cls in (Root, Timestamp, Snapshot, Targets)}
# Documents above 1 MiB are parsed with the cyclic GC paused and, for targets, by the typed fast
# path; smaller ones by the general path, which is quicker for them (no msgspec import).
_LARGE = 1 << 20


@contextmanager
def _gc_paused(size: int) -> Iterator[None]:
    """Pause the cyclic GC while a large document becomes many small acyclic objects."""
    if size < _LARGE or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _signatures_from_list(items: list[Any]) -> dict[str, Signature]:
    signatures: dict[str, Signature] = {}
    for item in items:
        signature = Signature.from_dict(item)
        if signature.keyid in signatures:
            raise FormatError(f"keyid {signature.keyid[:64]!r} appears twice in 'signatures'")
        signatures[signature.keyid] = signature
    return signatures


class Metadata(Generic[RoleType]):
    """A metadata document: signed content plus signatures.

    Attributes:
        signed: the role's content (:class:`Root`, :class:`Timestamp`, :class:`Snapshot` or
            :class:`Targets`).
        signatures: keyid -> signature, in document order.
        unrecognized_fields: other envelope fields, kept as read.
    """

    __slots__ = ("_received_payload", "signatures", "signed", "unrecognized_fields")

    def __init__(
        self,
        signed: RoleType,
        signatures: dict[str, Signature] | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        self.signed: RoleType = signed
        self.signatures = signatures if signatures is not None else {}
        self.unrecognized_fields = unrecognized_fields or {}
        self._received_payload: bytes | None = None

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes) -> Metadata[Any]:
        """Read a metadata document from untrusted bytes.

        Raises:
            FormatError: the bytes are not a well-formed metadata document.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"metadata must be bytes, not {type(data).__name__}")
        data = bytes(data)
        with _gc_paused(len(data)):
            fast = cls._from_bytes_fast(data) if len(data) > _LARGE else None
            if fast is not None:
                return fast
            return cls._from_parsed(loads_object(data, what="metadata"), checked=True)

    @classmethod
    def _from_bytes_fast(cls, data: bytes) -> Metadata[Any] | None:
        """The typed fast path for targets metadata; None when the general path must decide."""
        from tufkit.metadata import _fastpath

        parsed = _fastpath.decode_targets(data)
        if parsed is None:
            return None
        doc, raw_signatures = parsed
        if doc.type != "targets" or doc.version < 1:
            return None
        try:
            check_spec_version(doc.spec_version, "targets")
            expires = parse_expires(doc.expires, "targets")
            delegations = None
            if doc.delegations is not _fastpath.UNSET:
                delegations = Delegations.from_dict(doc.delegations)
            signed = Targets(doc.version, doc.spec_version, expires, None, delegations)
            signatures = _signatures_from_list(raw_signatures)
        except FormatError:
            return None
        payload = _fastpath.signed_payload(doc)
        if payload is None:
            return None
        signed.targets = TargetEntries(doc.targets)
        metadata = cls(signed, signatures)  # type: ignore[arg-type]
        metadata._received_payload = payload
        return metadata

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metadata[Any]:
        """Read a metadata document from a parsed JSON object (of JSON types only).

        Raises:
            FormatError: the document is malformed.
        """
        return cls._from_parsed(data, checked=False)

    @classmethod
    def _from_parsed(cls, data: dict[str, Any], *, checked: bool) -> Metadata[Any]:
        """Read a parsed document; *checked* says :func:`loads` made it (types already walked)."""
        if type(data) is not dict:
            raise FormatError(f"metadata must be a JSON object, not {type_name(data)}")
        signed_data = data.get("signed")
        if type(signed_data) is not dict:
            raise FormatError("metadata: 'signed' must be an object")
        signatures = _signatures_from_list(get_list(data, "signatures", "metadata"))
        kind = signed_data.get("_type")
        signed_cls = _BY_TYPE.get(kind) if type(kind) is str else None
        if signed_cls is None:
            shown = kind[:40] if type(kind) is str else type_name(kind)
            raise FormatError(f"metadata: unknown _type {shown!r}")
        signed = signed_cls.from_dict(signed_data)  # type: ignore[attr-defined]
        others = {k: v for k, v in data.items() if k not in ("signed", "signatures")}
        metadata = cls(signed, signatures, others)
        try:
            payload = encode_canonical_parsed if checked else encode_canonical
            metadata._received_payload = payload(signed_data)
        except (TypeError, ValueError) as exc:
            raise FormatError(f"metadata: 'signed' cannot be canonicalised: {exc}") from exc
        return metadata

    @classmethod
    def from_bytes_as(cls, data: bytes, expected: type[RoleType]) -> Metadata[RoleType]:
        """Read a document that must be of role type *expected* (e.g. ``Root``).

        Raises:
            FormatError: malformed, or of another role type.
        """
        metadata = cls.from_bytes(data)
        if type(metadata.signed) is not expected:
            raise FormatError(
                f"expected {expected.type} metadata, got {metadata.signed.type} metadata"
            )
        return metadata

    # -- writing -----------------------------------------------------------------------------

    def _encodable_signed(self) -> tuple[Any, bool]:
        """The signed content ready for the encoder, and whether it is already type-checked."""
        if isinstance(self.signed, Targets | Snapshot):
            return self.signed._to_encodable(), True
        return self.signed.to_dict(), False

    @property
    def signed_bytes(self) -> bytes:
        """The canonical bytes of the signed content as it is now (what :meth:`sign` signs)."""
        encodable, checked = self._encodable_signed()
        return encode_canonical(encodable, trusted=checked)

    @property
    def verification_payload(self) -> bytes:
        """What signatures are verified over.

        For a document read from bytes: the canonical bytes of ``signed`` as received, computed
        once. For one built in memory or re-signed: the current content. Changing a parsed
        document's content does not change what its received signatures are checked against:
        change and re-sign, never change and verify.
        """
        if self._received_payload is not None:
            return self._received_payload
        return self.signed_bytes

    def sign(self, signer: Signer, *, append: bool = True) -> Signature:
        """Sign the current content with *signer*.

        Args:
            signer: the signer.
            append: keep other signatures (replacing one by the same key); if False, the new
                signature becomes the only one.
        """
        payload = self.signed_bytes
        signature = signer.sign(payload)
        if not append:
            self.signatures.clear()
        self.signatures[signature.keyid] = signature
        self._received_payload = None
        return signature

    def to_dict(self) -> dict[str, Any]:
        """Return the document as plain dicts."""
        return {
            "signed": self.signed.to_dict(),
            "signatures": [sig.to_dict() for sig in self.signatures.values()],
            **self.unrecognized_fields,
        }

    def to_bytes(self, *, pretty: bool = False) -> bytes:
        """Serialise the document as valid JSON: compact with sorted keys (the default; equal
        to canonical JSON unless a string holds a control character), or indented for people.

        Raises:
            TypeError: a field holds a float or a type JSON cannot express.
        """
        if pretty:
            import json

            return json.dumps(self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False).encode()
        encodable, checked = self._encodable_signed()
        signatures = [sig.to_dict() for sig in self.signatures.values()]
        document = {"signatures": signatures, "signed": encodable, **self.unrecognized_fields}
        if not checked:
            check_json(document)
        return encode_compact(document, trusted=True)

    def __repr__(self) -> str:
        return f"Metadata({self.signed.type} v{self.signed.version})"
