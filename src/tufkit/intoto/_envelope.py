"""Signed envelopes around in-toto payloads: the legacy "Metablock" and DSSE.

* Metablock ``{"signatures": [{"keyid", "sig"}], "signed": {...}}``: signatures (hex) cover the
  canonical JSON of the *parsed* payload, as the reference computes them, so unknown fields in
  ``signed`` break signatures exactly as they do there.
* DSSE ``{"payload", "payloadType", "signatures"}``: signatures (base64) cover the pre-auth
  encoding of the raw payload bytes; the payload is parsed only when asked for, after the
  signature check, as the reference does.

Loading bounds the input size and refuses anything else with
:class:`~tufkit.intoto.InvalidMetadataError`. This module does not know layouts' semantics.
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
from typing import Any

from tufkit.canonical import encode_canonical
from tufkit.crypto import Signer
from tufkit.errors import ConfigError, FormatError
from tufkit.intoto._errors import InvalidMetadataError, SignatureVerificationError
from tufkit.intoto._gpg import GpgSigner, is_gpg_signature, verify_gpg_signature
from tufkit.intoto._keys import key_from_dict, verify_hex_signature
from tufkit.intoto._models import Layout, Link

__all__ = [
    "DEFAULT_MAX_METADATA_BYTES",
    "PAYLOAD_TYPE",
    "DsseEnvelope",
    "Envelope",
    "Metablock",
    "Payload",
    "load_metadata",
    "pae",
    "parse_payload",
]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
DEFAULT_MAX_METADATA_BYTES = 256 * 1024 * 1024  # bytes; a 10,000-file link is about 1 MiB

Payload = Link | Layout
_LARGE_METADATA = 1 << 20  # bytes: larger link files take the typed fast path (msgspec)


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 pre-authentication encoding of *payload*."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def parse_payload(data: object) -> Payload:
    """Read a decoded payload object as a link or a layout by its ``_type``.

    Raises:
        InvalidMetadataError: not an object, ``_type`` is neither ``link`` nor ``layout``, or
            the link or layout is malformed.
    """
    if type(data) is not dict:
        raise InvalidMetadataError("payload must be a JSON object")
    kind = data.get("_type")
    try:
        if kind == "link":
            return Link.from_dict(data)
        if kind == "layout":
            return Layout.from_dict(data)
    except FormatError as exc:
        raise InvalidMetadataError(f"malformed {kind}: {exc}") from exc
    raise InvalidMetadataError(f"payload '_type' must be 'link' or 'layout', got {kind!r:.60}")


class Envelope:
    """A signed in-toto document in either envelope (the reference calls this ``Metadata``)."""

    def payload(self) -> Payload:
        """Return the link or layout inside.

        Raises:
            InvalidMetadataError: the payload is not a link or layout, or the payload is malformed.
        """
        raise NotImplementedError

    def verify_signature(self, keyid: str, key: dict[str, Any]) -> None:
        """Check the signature made by the layout key *key* (listed under the label *keyid*).

        The signature is looked up by the key's own ``keyid`` member, as the reference does;
        the label it is listed under only names it in errors (and stands in for a key dict
        without a ``keyid``).

        Raises:
            SignatureVerificationError: no signature by that key, or it does not verify.
        """
        raise NotImplementedError

    def sign(self, signer: Signer | GpgSigner) -> str:
        """Add a signature by *signer* (replacing one with the same keyid); return its keyid.

        Raises:
            ConfigError: a gpg signer cannot sign this envelope, or gpg failed.
            FormatError: gpg wrote a signature that cannot be read.
        """
        raise NotImplementedError

    def clear_signatures(self) -> None:
        """Remove all signatures."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """Serialise as the reference writes files of this envelope."""
        raise NotImplementedError

    @property
    def keyids(self) -> list[str]:
        """The keyids of the signatures, in order."""
        raise NotImplementedError


class Metablock(Envelope):
    """The legacy envelope (the reference's default)."""

    def __init__(self, payload: Payload, signatures: list[dict[str, Any]] | None = None) -> None:
        self._payload = payload
        self.signatures = signatures if signatures is not None else []

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metablock:
        """Read a Metablock object.

        Raises:
            InvalidMetadataError: signatures malformed, or ``signed`` not a valid link or
                layout.
        """
        signatures = _check_signatures(data.get("signatures", []))
        signed = data.get("signed", {})
        if type(signed) is not dict or signed.get("_type") not in ("link", "layout"):
            raise InvalidMetadataError("'signed' must be a link or layout object")
        return cls(parse_payload(signed), signatures)

    def payload(self) -> Payload:
        """Return the link or layout inside."""
        return self._payload

    def signed_bytes(self) -> bytes:
        """The canonical JSON bytes the signatures cover.

        Raises:
            InvalidMetadataError: the payload holds a value canonical JSON cannot express.
        """
        data = self._payload.to_dict()
        try:
            # The artifact dicts (the bulk) are checked by a tight loop; everything else by the
            # canonical encoder's own type walk.
            rest = {k: v for k, v in data.items() if k not in ("materials", "products")}
            encode_canonical(rest)
            if not all(_is_artifacts(data.get(side)) for side in ("materials", "products")):
                encode_canonical(data)  # raises the precise error
            return encode_canonical(data, trusted=True)
        except (TypeError, ValueError) as exc:
            raise InvalidMetadataError(f"payload cannot be canonicalised: {exc}") from exc

    def verify_signature(self, keyid: str, key: dict[str, Any]) -> None:
        """Verify the first signature by the key's own keyid (or one of its gpg subkeys).

        Raises:
            SignatureVerificationError: no such signature, or it does not verify.
            GpgKeyExpiredError: the gpg key (or its signing subkey) has expired.
            InvalidMetadataError: the payload cannot be canonicalised.
        """
        own = _own_keyid(keyid, key)
        subkeys = key.get("subkeys")
        wanted = {own, *subkeys} if isinstance(subkeys, dict) else {own}
        if isinstance(subkeys, dict) and keyid in subkeys:
            wanted = {keyid}  # one subkey authorised: not its siblings, nor its primary key
        for entry in self.signatures:
            found = entry["keyid"]  # never trusted to be a string: other types match nothing
            if isinstance(found, str) and found in wanted:
                break
        else:
            raise SignatureVerificationError(f"no signature found for key {_show(own)}")
        data = self.signed_bytes()
        if is_gpg_signature(entry):
            valid = verify_gpg_signature(entry, key, data)
        else:
            try:
                valid = verify_hex_signature(key_from_dict(own, key), entry.get("sig"), data)
            except FormatError:
                valid = False
        if not valid:
            raise SignatureVerificationError(f"invalid signature for key {_show(own)}")

    def sign(self, signer: Signer | GpgSigner) -> str:
        """Sign the canonical payload and append the signature (replacing one by that key).

        Raises:
            ConfigError: gpg is missing or failed.
            FormatError: gpg wrote a signature that cannot be read.
        """
        entry: dict[str, Any]
        if isinstance(signer, GpgSigner):
            entry = signer.sign_entry(self.signed_bytes())
        else:
            signature = signer.sign(self.signed_bytes())
            entry = {"keyid": signature.keyid, "sig": signature.signature}
        self.signatures = [s for s in self.signatures if s.get("keyid") != entry["keyid"]]
        self.signatures.append(entry)
        return str(entry["keyid"])

    def clear_signatures(self) -> None:
        """Remove all signatures."""
        self.signatures = []

    @property
    def keyids(self) -> list[str]:
        """The keyids of the signatures, in order."""
        return [str(entry.get("keyid")) for entry in self.signatures]

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a JSON object."""
        return {"signatures": self.signatures, "signed": self._payload.to_dict()}

    def to_bytes(self) -> bytes:
        """Indented, key-sorted, ASCII-escaped JSON without a final newline (as the reference)."""
        return _dump_indent1(self.to_dict())


def _check_signatures(signatures: object) -> list[dict[str, Any]]:
    if type(signatures) is not list:
        raise InvalidMetadataError("'signatures' must be a list")
    for entry in signatures:
        if type(entry) is not dict or "keyid" not in entry:
            raise InvalidMetadataError("each signature must be an object with a 'keyid'")
        if "sig" not in entry and not is_gpg_signature(entry):
            raise InvalidMetadataError("a signature has neither 'sig' nor gpg fields")
    return signatures


def _own_keyid(label: str, key: dict[str, Any]) -> str:
    """The keyid a signature by *key* carries: the key's own ``keyid`` member, else its label."""
    own = key.get("keyid", label)
    return own if type(own) is str else ""  # a non-string keyid matches no signature


def _show(keyid: str) -> str:
    return repr(keyid[:64]) if not keyid.isalnum() else keyid[:64]


def _is_artifacts(value: object) -> bool:
    if type(value) is not dict:
        return value is None
    for name, hashes in value.items():
        if type(name) is not str or type(hashes) is not dict:
            return False
        for algorithm, digest in hashes.items():
            if type(algorithm) is not str or type(digest) is not str:
                return False
    return True


def _dump_indent1(value: dict[str, Any]) -> bytes:
    """``json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)`` as bytes.

    orjson writes the same text with two-space indentation when the output is pure ASCII; the
    indentation is then halved (JSON strings cannot hold raw newlines or tabs, so every line
    break and every tab after the rewrite is structural). Anything else takes the standard
    library's path.
    """
    import orjson

    try:
        fast = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        fast = b"\x80"
    if fast.isascii() and b"\x7f" not in fast and b"\t" not in fast:
        depth = 0
        while b"\n" + b"  " * (depth + 1) in fast:
            depth += 1
        # Deepest level first, into tabs: a line already rewritten no longer starts with spaces,
        # so a shallower pattern matches only lines indented exactly that deep.
        for level in range(depth, 0, -1):
            fast = fast.replace(b"\n" + b"  " * level, b"\n" + b"\t" * level)
        return fast.replace(b"\t", b" ") if depth else fast
    text = json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)
    return text.encode("utf-8")


def _b64decode(value: object, what: str) -> bytes:
    if type(value) is not str:
        raise InvalidMetadataError(f"{what} must be a base64 string")
    data = value.encode("utf-8")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        try:
            return base64.b64decode(data, altchars=b"-_", validate=True)
        except binascii.Error as exc:
            raise InvalidMetadataError(f"{what} is not valid base64") from exc


class DsseEnvelope(Envelope):
    """A DSSE envelope carrying a JSON link, layout or in-toto Statement."""

    def __init__(
        self,
        payload: bytes,
        payload_type: str = PAYLOAD_TYPE,
        signatures: dict[str, bytes] | None = None,
    ) -> None:
        self.raw_payload = payload
        self.payload_type = payload_type
        self.signatures: dict[str, bytes] = signatures if signatures is not None else {}
        self._parsed: Payload | None = None

    @classmethod
    def from_payload(cls, payload: Payload) -> DsseEnvelope:
        """Wrap a link or layout, serialised as the reference does (sorted keys, ASCII)."""
        raw = json.dumps(payload.to_dict(), sort_keys=True).encode("utf-8")
        envelope = cls(raw)
        envelope._parsed = payload
        return envelope

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, any_type: bool = False) -> DsseEnvelope:
        """Read an envelope; signatures must carry distinct keyids, as the reference requires.

        Args:
            data: the envelope object.
            any_type: accept any ``payloadType`` (for attestations), not only in-toto's.

        Raises:
            InvalidMetadataError: missing fields, bad base64, a missing or repeated keyid.
        """
        payload_type = data.get("payloadType")
        if type(payload_type) is not str or (not any_type and payload_type != PAYLOAD_TYPE):
            raise InvalidMetadataError(f"DSSE payloadType must be {PAYLOAD_TYPE!r}")
        payload = _b64decode(data.get("payload"), "DSSE payload")
        entries = data.get("signatures")
        if type(entries) is not list:
            raise InvalidMetadataError("DSSE 'signatures' must be a list")
        signatures: dict[str, bytes] = {}
        for entry in entries:
            if type(entry) is not dict or type(entry.get("keyid")) is not str:
                raise InvalidMetadataError("each DSSE signature needs a string 'keyid'")
            keyid = entry["keyid"]
            if keyid in signatures:
                raise InvalidMetadataError(f"two DSSE signatures carry keyid {keyid[:16]}")
            signatures[keyid] = _b64decode(entry.get("sig"), "DSSE signature")
        return cls(payload, payload_type, signatures)

    def payload(self) -> Payload:
        """Parse the payload (as plain JSON) into a link or layout.

        Raises:
            InvalidMetadataError: not JSON, or not a link or layout, or the payload is malformed.
        """
        if self._parsed is None:
            try:
                data = json.loads(self.raw_payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise InvalidMetadataError(f"DSSE payload is not JSON: {exc}") from exc
            self._parsed = parse_payload(data)
        return self._parsed

    def verify_signature(self, keyid: str, key: dict[str, Any]) -> None:
        """Verify the signature carrying the key's own keyid over the PAE.

        Raises:
            SignatureVerificationError: no signature with that keyid, or it does not verify.
        """
        own = _own_keyid(keyid, key)
        sig = self.signatures.get(own)
        if sig is None:
            raise SignatureVerificationError(f"no DSSE signature found for key {_show(own)}")
        try:
            public = key_from_dict(own, key)
        except FormatError as exc:
            raise SignatureVerificationError(f"key {_show(own)} cannot verify: {exc}") from exc
        if not verify_hex_signature(public, sig.hex(), pae(self.payload_type, self.raw_payload)):
            raise SignatureVerificationError(f"invalid DSSE signature for key {_show(own)}")

    def sign(self, signer: Signer | GpgSigner) -> str:
        """Sign the PAE and add the signature (replacing one with the same keyid).

        Raises:
            ConfigError: *signer* is a gpg signer (DSSE has no gpg signatures, in-toto 3.1
                refuses them too).
        """
        if isinstance(signer, GpgSigner):
            raise ConfigError("gpg cannot sign DSSE envelopes (nor can in-toto 3.1); drop DSSE")
        signature = signer.sign(pae(self.payload_type, self.raw_payload))
        self.signatures[signature.keyid] = bytes.fromhex(signature.signature)
        return signature.keyid

    def clear_signatures(self) -> None:
        """Remove all signatures."""
        self.signatures = {}

    @property
    def keyids(self) -> list[str]:
        """The keyids of the signatures, in order."""
        return list(self.signatures)

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a JSON object."""
        return {
            "payload": base64.standard_b64encode(self.raw_payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": keyid, "sig": base64.standard_b64encode(sig).decode("ascii")}
                for keyid, sig in self.signatures.items()
            ],
        }

    def to_bytes(self) -> bytes:
        """One line of key-sorted JSON (as the reference writes it)."""
        return json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")


def load_metadata(data: bytes, *, max_bytes: int = DEFAULT_MAX_METADATA_BYTES) -> Envelope:
    """Parse the bytes of a link or layout file in either envelope.

    Raises:
        InvalidMetadataError: too large, not JSON, or neither envelope, or the payload is malformed.
    """
    if len(data) > max_bytes:
        raise InvalidMetadataError(f"metadata is {len(data)} bytes, more than {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMetadataError(f"metadata is not JSON: {exc}") from exc
    if len(data) <= _LARGE_METADATA or not gc.isenabled():
        return _load_text(text, large=len(data) > _LARGE_METADATA)
    gc.disable()  # a large link becomes tens of thousands of small acyclic objects
    try:
        return _load_text(text, large=True)
    finally:
        gc.enable()


def _load_text(text: str, *, large: bool) -> Envelope:
    if large:
        from tufkit.intoto._fastlink import load_fast_link

        fast = load_fast_link(text)
        if fast is not None:
            return Metablock(fast[1], _check_signatures(fast[0]))
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidMetadataError(f"metadata is not JSON: {exc}") from exc
    if type(obj) is not dict:
        raise InvalidMetadataError("metadata must be a JSON object")
    if "payload" in obj:
        return DsseEnvelope.from_dict(obj)
    if "signed" in obj:
        return Metablock.from_dict(obj)
    raise InvalidMetadataError("metadata is neither a Metablock ('signed') nor DSSE ('payload')")
