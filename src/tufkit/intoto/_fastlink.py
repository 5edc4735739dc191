"""The fast path for large link files: a Metablock link parsed and type-checked in one C pass.

A 10,000-file link is a few MiB of artifact entries; the general path parses it with the standard
library and then walks every entry in Python. Here msgspec decodes the envelope straight into
typed structures, checking in C loops what :meth:`~tufkit.intoto.Link.from_dict` checks (names and
algorithms are strings, digests are hex), while the small opaque members (``signatures``,
``byproducts``, ``command``, ``environment``) are kept as raw JSON and parsed by the standard
library, exactly as the general path parses them.

The fast path accepts only documents the general path accepts with the same result: anything
it does not describe exactly (a layout, a DSSE envelope, a missing or unknown member, a wrong
type, a non-hex digest, a lone surrogate, NaN) makes :func:`load_fast_link` return None, and the
general path reads the document and gives the precise error. Duplicate object keys keep the last
value in both. This module does not verify signatures.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any, Literal

import msgspec

from tufkit.intoto._models import Link

__all__ = ["load_fast_link"]

_Artifacts = dict[str, dict[str, str]]
_HEX = re.compile(r"[0-9a-fA-F]*")


class _FastLink(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["link"] = msgspec.field(name="_type")
    name: str
    materials: _Artifacts
    products: _Artifacts
    byproducts: msgspec.Raw
    command: msgspec.Raw
    environment: msgspec.Raw


class _FastMetablock(msgspec.Struct, forbid_unknown_fields=True):
    signatures: msgspec.Raw
    signed: _FastLink


_DECODER = msgspec.json.Decoder(_FastMetablock)


def _all_hex(*sides: _Artifacts) -> bool:
    """True if every digest is a non-empty hex string (the general path's rule), in C loops."""
    hashes = itertools.chain.from_iterable(side.values() for side in sides)
    digests = list(itertools.chain.from_iterable(map(dict.values, hashes)))
    # A concatenation of non-empty strings is hex exactly when each of them is.
    return all(digests) and _HEX.fullmatch("".join(digests)) is not None


def load_fast_link(text: str) -> tuple[list[Any], Link] | None:
    """The signatures (unchecked, as parsed) and the link of a Metablock link, or None.

    Args:
        text: the whole file, already decoded from UTF-8.

    Returns:
        None when the document is anything but a link Metablock with exactly the seven link
        members, well-typed: the caller then takes the general path.
    """
    try:
        block = _DECODER.decode(text)
        signed = block.signed
        signatures = json.loads(bytes(block.signatures))
        byproducts = json.loads(bytes(signed.byproducts))
        command = json.loads(bytes(signed.command))
        environment = json.loads(bytes(signed.environment))
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    if not _all_hex(signed.materials, signed.products):
        return None
    if type(signatures) is not list or type(command) is not list:
        return None
    if type(byproducts) is not dict or type(environment) is not dict:
        return None
    link = Link(
        name=signed.name,
        materials=signed.materials,
        products=signed.products,
        byproducts=byproducts,
        command=command,
        environment=environment,
    )
    return signatures, link
