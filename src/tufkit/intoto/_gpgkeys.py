"""A ``gpg --export`` of one key, read into the key dict securesystemslib 1.6 builds.

The packet stream must start with one primary key; each signature belongs to the latest
subkey, else user attribute, else user ID, else the primary key. A subkey is kept if it is a
supported signing algorithm with exactly one binding signature, valid under the primary key, and,
beyond securesystemslib and as gpg requires before it counts a subkey's data signatures: the
binding's key flags (if any) allow signing, a valid primary key binding signature (0x19, the
subkey's cross-certification) is embedded in the binding, and no valid subkey revocation exists.
Subkeys refused for these reasons are listed with the reason in :attr:`KeyBundle.refused`.
The primary key's ``validity_period`` comes from the newest valid user ID self-certification
carrying a key expiration time (primary-user certifications take precedence once seen); a
subkey's from its binding signature. Expiry is read from hashed subpackets only.

Compatibility: securesystemslib hashes self-signatures over the packets *as framed*
(``packet + 0xb4 00 00 00 + uid[1:]`` and ``packet + 0x99 + subkey[1:]``), which equals the
RFC 4880 preimage only when gpg wrote 2-byte length headers for keys and 1-byte ones for user
IDs. Short (Ed25519) key packets therefore lose their subkeys and expiry in the reference.
This module reproduces the lost subkeys (failing closed: they cannot sign for the key) and
reports each in :attr:`KeyBundle.notes`, but not the lost expiry, which would let an expired key
sign forever: the expiry is then read over the RFC preimage, and the difference noted. A
revoked primary key is reported in :attr:`KeyBundle.revoked` (the key dict has no field for it;
the exporter refuses such keys). This module does not run gpg.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from tufkit.errors import FormatError
from tufkit.intoto._openpgp import (
    KEY_FLAG_SIGN,
    SELF_SIGNATURE_HASHES,
    SIG_CERTIFICATIONS,
    SIG_KEY_REVOCATION,
    SIG_PRIMARY_KEY_BINDING,
    SIG_SUBKEY_BINDING,
    SIG_SUBKEY_REVOCATION,
    SUB_EMBEDDED_SIGNATURE,
    SUB_KEY_EXPIRATION,
    SUB_KEY_FLAGS,
    SUB_PRIMARY_USER_ID,
    TAG_PUBLIC_KEY,
    TAG_PUBLIC_SUBKEY,
    TAG_SIGNATURE,
    TAG_USER_ATTRIBUTE,
    TAG_USER_ID,
    Packet,
    SignaturePacket,
    parse_public_key,
    parse_signature,
    split_packets,
    verify_signature,
)

__all__ = ["KeyBundle", "parse_key_bundle"]


@dataclass
class KeyBundle:
    """A parsed key export.

    Attributes:
        key: the primary key dict, with ``validity_period`` and ``subkeys`` when present.
        revoked: fingerprints (primary or subkey) with a valid revocation signature.
        refused: subkeys left out although the reference keeps them, by fingerprint, with the
            reason (cannot sign, not cross-certified, revoked).
        notes: what the reference's preimage quirk dropped (a subkey, an expiry).
    """

    key: dict[str, Any]
    revoked: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Slot:
    packet: Packet
    signatures: list[Packet] = field(default_factory=list)


def _self_signatures(packets: list[Packet], wanted: frozenset[int]) -> list[SignaturePacket]:
    found = []
    for packet in packets:
        try:
            parsed = parse_signature(packet.body)
        except FormatError:
            continue
        if parsed.sig_type in wanted and parsed.hash_algorithm in SELF_SIGNATURE_HASHES:
            found.append(parsed)
    return found


def _verifies(key: dict[str, Any], sig: SignaturePacket, content: bytes) -> bool:
    if not key["keyid"].endswith(sig.keyid or sig.short_keyid):
        return False
    hash_name = SELF_SIGNATURE_HASHES[sig.hash_algorithm]
    return verify_signature(key, sig.signature, sig.other_headers, content, hash_name)


def _u32(data: bytes) -> int:
    if len(data) != 4:
        raise FormatError("key expiration subpacket is not 4 bytes")
    return int(struct.unpack(">I", data)[0])


def _rfc(packet: Packet, tag: int = TAG_PUBLIC_KEY) -> bytes:
    """The RFC 4880 5.2.4 preimage of a key (0x99, 2-byte length) or user ID (0xb4, 4 bytes)."""
    if tag == TAG_USER_ID:
        return b"\xb4" + struct.pack(">I", len(packet.body)) + packet.body
    return b"\x99" + struct.pack(">H", len(packet.body)) + packet.body


def _group(packets: list[Packet]) -> tuple[Packet, list[Packet], dict[int, list[_Slot]]]:
    if not packets or packets[0].tag != TAG_PUBLIC_KEY:
        raise FormatError("an exported key must start with a public key packet")
    primary, direct = packets[0], []
    slots: dict[int, list[_Slot]] = {TAG_PUBLIC_SUBKEY: [], TAG_USER_ATTRIBUTE: [], TAG_USER_ID: []}
    for packet in packets[1:]:
        if packet.tag == TAG_PUBLIC_KEY:
            raise FormatError("the exported data holds more than one primary key")
        if packet.tag in slots:
            slots[packet.tag].append(_Slot(packet))
        elif packet.tag == TAG_SIGNATURE:
            for tag in (TAG_PUBLIC_SUBKEY, TAG_USER_ATTRIBUTE, TAG_USER_ID):
                if slots[tag]:
                    slots[tag][-1].signatures.append(packet)
                    break
            else:
                direct.append(packet)
    return primary, direct, slots


def _validity_period(
    primary: dict[str, Any], primary_packet: Packet, uids: list[_Slot], *, as_reference: bool
) -> int | None:
    chosen: tuple[bool, int, int] | None = None  # (primary user, created, period)
    for uid in uids:
        if as_reference:
            content = primary_packet.raw + b"\xb4\x00\x00\x00" + uid.packet.raw[1:]
        else:
            content = _rfc(primary_packet) + _rfc(uid.packet, TAG_USER_ID)
        for sig in _self_signatures(uid.signatures, SIG_CERTIFICATIONS):
            raw = sig.hashed_value(SUB_KEY_EXPIRATION)
            if raw is None or not _verifies(primary, sig, content):
                continue
            flag = sig.hashed_value(SUB_PRIMARY_USER_ID)
            is_primary = bool(flag and flag[0])
            if chosen is not None and chosen[0] and not is_primary:
                continue
            if chosen is None or chosen[1] < sig.creation_time:
                chosen = (is_primary, sig.creation_time, _u32(raw))
    return None if chosen is None else chosen[2]


def _cross_certified(subkey: dict[str, Any], binding: SignaturePacket, content: bytes) -> bool:
    """True if *binding* embeds a valid primary key binding signature made by *subkey*."""
    for data in binding.embedded(SUB_EMBEDDED_SIGNATURE):
        try:
            back = parse_signature(data)
        except FormatError:
            continue
        if back.sig_type != SIG_PRIMARY_KEY_BINDING:
            continue
        if back.hash_algorithm in SELF_SIGNATURE_HASHES and _verifies(subkey, back, content):
            return True
    return False


def _revoked(primary: dict[str, Any], slot: _Slot, content: bytes) -> bool:
    revocations = _self_signatures(slot.signatures, frozenset({SIG_SUBKEY_REVOCATION}))
    return any(_verifies(primary, sig, content) for sig in revocations)


def _refusal(subkey: dict[str, Any], binding: SignaturePacket, content: bytes) -> str | None:
    """Why gpg would not count data signatures by this (validly bound) subkey, or None."""
    flags = binding.hashed_value(SUB_KEY_FLAGS)
    if flags is not None and not (flags[:1] and flags[0] & KEY_FLAG_SIGN):
        return f"its key flags (0x{flags[:1].hex() or '00'}) do not allow signing"
    if not _cross_certified(subkey, binding, content):
        return "it has no valid cross-certification (primary key binding signature)"
    return None


def _subkeys(bundle: KeyBundle, primary_packet: Packet, slots: list[_Slot]) -> None:
    primary = bundle.key
    subkeys: dict[str, dict[str, Any]] = {}
    for slot in slots:
        try:
            subkey = parse_public_key(slot.packet.body)
        except FormatError:
            continue  # e.g. an encryption-only algorithm
        content = _rfc(primary_packet) + _rfc(slot.packet)
        bindings = _self_signatures(slot.signatures, frozenset({SIG_SUBKEY_BINDING}))
        if len(bindings) != 1:
            found = len(bindings)
            bundle.refused[subkey["keyid"]] = (
                f"it has {found} subkey binding signatures (type 0x18) by its primary key, not 1"
            )
            continue
        as_reference = primary_packet.raw + b"\x99" + slot.packet.raw[1:]
        if not _verifies(primary, bindings[0], as_reference):
            if _verifies(primary, bindings[0], content):
                bundle.notes.append(
                    f"subkey {subkey['keyid']} left out, as in-toto 3.1 leaves it out (its "
                    "binding signature is valid, but the reference hashes the packet headers)"
                )
            else:
                bundle.refused[subkey["keyid"]] = "its subkey binding signature does not verify"
            continue
        reason = _refusal(subkey, bindings[0], content)
        if _revoked(primary, slot, content):
            bundle.revoked.add(subkey["keyid"])
            reason = "it is revoked"
        if reason is not None:
            bundle.refused[subkey["keyid"]] = reason
            continue
        expiry = bindings[0].hashed_value(SUB_KEY_EXPIRATION)
        if expiry is not None:
            subkey["validity_period"] = _u32(expiry)
        subkeys[subkey["keyid"]] = subkey
    if subkeys:
        primary["subkeys"] = subkeys


def parse_key_bundle(data: bytes) -> KeyBundle:
    """Read the binary output of ``gpg --export KEYID`` into a key dict with its subkeys.

    Raises:
        FormatError: the packet stream is malformed, does not start with exactly one primary
            key, the primary key is not a v4 RSA, DSA or EdDSA key, or a valid self-signature
            holds a malformed expiration time.
    """
    primary_packet, direct, slots = _group(split_packets(data))
    bundle = KeyBundle(parse_public_key(primary_packet.body))
    primary = bundle.key
    period = _validity_period(primary, primary_packet, slots[TAG_USER_ID], as_reference=True)
    if period is None:
        period = _validity_period(primary, primary_packet, slots[TAG_USER_ID], as_reference=False)
        if period is not None:
            bundle.notes.append(
                f"key {primary['keyid']}: its expiry is kept, which in-toto 3.1 ignores (the "
                "reference hashes the packet headers into the self-signature)"
            )
    if period is not None:
        primary["validity_period"] = period
    for sig in _self_signatures(direct, frozenset({SIG_KEY_REVOCATION})):
        if _verifies(primary, sig, _rfc(primary_packet)):
            bundle.revoked.add(primary["keyid"])
    _subkeys(bundle, primary_packet, slots[TAG_PUBLIC_SUBKEY])
    return bundle
