"""The typed fast path for reading targets metadata.

msgspec decodes the envelope with ``signed`` kept as raw bytes, then decodes ``signed`` into typed
structs: every target entry's length (an integer >= 0, never a boolean or float) and hashes are
validated in C, and entries stay compact (no per-entry dicts: the common sha256/sha512 hashes are
struct fields). Anything the structs do not describe (other hash algorithms, unrecognised fields,
wrong types, an empty ``hashes``) makes the fast path give up, and the general path reads the
document and names the problem.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tufkit.canonical import check_json, encode_canonical
from tufkit.errors import FormatError
from tufkit.metadata._files import TargetFile

__all__ = ["UNSET", "decode_targets", "entry_from_target", "signed_payload", "target_from_entry"]

UNSET = msgspec.UNSET
_HASH_NAMES = ("sha256", "sha512")


class _FastHashes(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    sha256: str | msgspec.UnsetType = msgspec.UNSET
    sha512: str | msgspec.UnsetType = msgspec.UNSET


class _FastEntry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    length: Annotated[int, msgspec.Meta(ge=0)]
    hashes: _FastHashes
    custom: Any = msgspec.UNSET


class _FastTargets(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # Required fields have no default: omit_defaults would otherwise drop an empty "targets"
    # from the signed payload, and a missing one would be accepted.
    type: str = msgspec.field(name="_type")
    spec_version: str
    version: int
    expires: str
    targets: dict[str, _FastEntry]
    delegations: Any = msgspec.UNSET


class _FastSignature(msgspec.Struct, forbid_unknown_fields=True):
    keyid: str
    sig: str


class _FastEnvelope(msgspec.Struct, forbid_unknown_fields=True):
    signed: msgspec.Raw
    signatures: list[_FastSignature]


def _reject_float(text: str) -> Any:
    raise FormatError(f"floating point number {text[:40]!r} is not allowed in TUF metadata")


_ENVELOPE_DECODER = msgspec.json.Decoder(_FastEnvelope)
_TARGETS_DECODER = msgspec.json.Decoder(_FastTargets, float_hook=_reject_float)


def entry_from_target(target: TargetFile) -> Any:
    """A compact entry for a validated target, or None if it has fields a compact entry lacks.

    The caller has checked ``custom`` with :func:`tufkit.canonical.check_json`.
    """
    extra = target.unrecognized_fields
    if not extra.keys() <= {"custom"} or not target.hashes.keys() <= set(_HASH_NAMES):
        return None
    hashes = _FastHashes(**target.hashes)
    return _FastEntry(target.length, hashes, extra.get("custom", UNSET))


def target_from_entry(path: str, entry: Any) -> TargetFile:
    """The :class:`TargetFile` a compact entry stands for."""
    hashes = {
        name: value for name in _HASH_NAMES if (value := getattr(entry.hashes, name)) is not UNSET
    }
    extra = {} if entry.custom is UNSET else {"custom": entry.custom}
    return TargetFile(entry.length, hashes, path, extra)


def signed_payload(doc: _FastTargets) -> bytes | None:
    """The canonical bytes of a decoded document, or None where the general path must decide
    (an entry with empty hashes; nesting too deep for canonical JSON)."""
    try:
        if doc.delegations is not UNSET:
            check_json({"delegations": doc.delegations})  # to_bytes checks at this level
        payload = encode_canonical(doc, trusted=True)
    except (TypeError, ValueError):
        return None
    if b'"hashes":{}' in payload:  # may also be inside 'custom': then the general path decides
        return None
    return payload


def decode_targets(data: bytes) -> tuple[_FastTargets, list[dict[str, str]]] | None:
    """Decode a targets metadata document, or return None if the fast path does not fit it."""
    try:
        envelope = _ENVELOPE_DECODER.decode(data)
        doc = _TARGETS_DECODER.decode(envelope.signed)
    except (msgspec.DecodeError, FormatError, UnicodeError, RecursionError, ValueError):
        return None
    return doc, [{"keyid": s.keyid, "sig": s.sig} for s in envelope.signatures]
