"""The typed fast path for reading targets metadata.

msgspec decodes the envelope with ``signed`` kept as raw bytes, then decodes ``signed`` into typed
structs: every target entry's length (an integer >= 0, never a boolean or float) and hashes (a
non-empty string map) are validated in C, and entries stay compact (no per-entry dicts). Anything
the structs do not describe (unrecognised fields, wrong types) makes :func:`decode_targets`
return None, and the general path reads the document and names the problem.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tufkit.errors import FormatError

__all__ = ["UNSET", "decode_targets"]

UNSET = msgspec.UNSET


class _FastEntry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    length: Annotated[int, msgspec.Meta(ge=0)]
    hashes: Annotated[dict[str, str], msgspec.Meta(min_length=1)]
    custom: Any = msgspec.UNSET


class _FastTargets(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    type: str = msgspec.field(name="_type")
    spec_version: str = ""
    version: int = 0
    expires: str = ""
    targets: dict[str, _FastEntry] = {}
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


def decode_targets(data: bytes) -> tuple[_FastTargets, list[dict[str, str]]] | None:
    """Decode a targets metadata document, or return None if the fast path does not fit it."""
    try:
        envelope = _ENVELOPE_DECODER.decode(data)
        doc = _TARGETS_DECODER.decode(envelope.signed)
    except (msgspec.DecodeError, FormatError, UnicodeError, RecursionError, ValueError):
        return None
    return doc, [{"keyid": s.keyid, "sig": s.sig} for s in envelope.signatures]
