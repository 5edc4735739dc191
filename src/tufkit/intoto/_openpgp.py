"""OpenPGP (RFC 4880 / RFC 9580) packets, read into the dicts in-toto keeps for gpg keys.

* :func:`split_packets` frames a binary packet stream (old and new headers; partial and
  indeterminate lengths are refused, as securesystemslib refuses them).
* :func:`parse_public_key` reads a v4 public-key packet body (RSA, DSA, EdDSA over Ed25519) into
  ``{"keyid", "type", "method", "hashes", "creation_time", "keyval"}``; the keyid is the v4
  fingerprint.
* :func:`parse_signature` reads a v4 signature packet body, :func:`parse_signature_header` only
  its hashed part (what in-toto stores as ``other_headers``); :func:`verify_signature` checks the
  mathematics of one. Whether a signature *should* count (type, hash algorithm, expiry, critical
  subpackets, key usage) is decided by ``_gpg`` and ``_gpgkeys``, not here.

Everything malformed raises :class:`~tufkit.errors.FormatError`. This module does not run gpg,
read armour, group packets into keys (``_gpgkeys`` does), or handle v3/v5/v6 packets,
encryption or ECDSA keys.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any

from tufkit.errors import FormatError

__all__ = [
    "Packet",
    "SignatureHeader",
    "SignaturePacket",
    "Subpacket",
    "parse_public_key",
    "parse_signature",
    "parse_signature_header",
    "split_packets",
    "verify_signature",
]

TAG_SIGNATURE = 2
TAG_PUBLIC_KEY = 6
TAG_USER_ID = 13
TAG_PUBLIC_SUBKEY = 14
TAG_USER_ATTRIBUTE = 17

SIG_BINARY = 0x00
SIG_CERTIFICATIONS = frozenset({0x10, 0x11, 0x12, 0x13})
SIG_SUBKEY_BINDING = 0x18
SIG_PRIMARY_KEY_BINDING = 0x19
SIG_KEY_REVOCATION = 0x20
SIG_SUBKEY_REVOCATION = 0x28

SUB_CREATION_TIME = 2
SUB_SIGNATURE_EXPIRATION = 3
SUB_KEY_EXPIRATION = 9
SUB_ISSUER = 16
SUB_PRIMARY_USER_ID = 25
SUB_KEY_FLAGS = 27
SUB_EMBEDDED_SIGNATURE = 32
SUB_ISSUER_FINGERPRINT = 33

KEY_FLAG_SIGN = 0x02

HASH_SHA256 = 8
# The hash algorithms securesystemslib accepts in self-signatures.
SELF_SIGNATURE_HASHES = {2: "sha1", 8: "sha256", 10: "sha512"}
# Names of hash algorithms (RFC 4880 9.4), for messages.
HASH_NAMES = {
    1: "MD5",
    2: "SHA-1",
    3: "RIPEMD-160",
    8: "SHA-256",
    9: "SHA-384",
    10: "SHA-512",
    11: "SHA-224",
}
_ALGORITHMS = {
    1: ("rsa", "pgp+rsa-pkcsv1.5"),
    17: ("dsa", "pgp+dsa-fips-180-2"),
    22: ("eddsa", "pgp+eddsa-ed25519"),
}
_ED25519_OID = bytes.fromhex("2b06010401da470f01")
_ED25519_POINT_PREFIX = 0x40


@dataclass(frozen=True)
class Packet:
    """One packet: its tag, its body and its bytes as framed (header included)."""

    tag: int
    body: bytes
    raw: bytes


class _Reader:
    """Bounds-checked reads over a byte string; running out is a FormatError."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if count < 0 or end > len(self.data):
            raise FormatError(f"{self.what} is truncated at byte {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def mpi(self) -> bytes:
        """A multiprecision integer's bytes, exactly as stored."""
        return self.take((self.u16() + 7) // 8)


def _packet_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, body offset, body length) of the packet at *pos*."""
    head = _Reader(data, "OpenPGP packet header")
    head.pos = pos
    first = head.u8()
    if not first & 0x80:
        raise FormatError(f"byte {pos} is not an OpenPGP packet header")
    if first & 0x40:  # new format
        tag, octet = first & 0x3F, head.u8()
        if octet < 192:
            length = octet
        elif octet < 224:
            length = ((octet - 192) << 8) + head.u8() + 192
        elif octet == 255:
            length = head.u32()
        else:
            raise FormatError(f"packet at byte {pos}: partial body lengths are not supported")
    else:
        tag, kind = (first >> 2) & 0x0F, first & 0x03
        if kind == 3:
            raise FormatError(f"packet at byte {pos}: indeterminate lengths are not supported")
        length = (head.u8, head.u16, head.u32)[kind]()
    return tag, head.pos, length


def split_packets(data: bytes) -> list[Packet]:
    """Split a binary OpenPGP packet stream into packets.

    Raises:
        FormatError: a header is malformed or uses a length form gpg does not export, or a
            packet runs past the end of the data.
    """
    packets = []
    pos = 0
    while pos < len(data):
        tag, start, length = _packet_header(data, pos)
        if start + length > len(data):
            raise FormatError(f"packet at byte {pos} claims {length} bytes, the data ends first")
        packets.append(Packet(tag, data[start : start + length], data[pos : start + length]))
        pos = start + length
    return packets


def _fingerprint(body: bytes) -> str:
    if len(body) > 0xFFFF:
        raise FormatError("public key packet is too long for a v4 fingerprint")
    digest = hashlib.sha1(b"\x99" + struct.pack(">H", len(body)) + body, usedforsecurity=False)
    return digest.hexdigest()


def parse_public_key(body: bytes) -> dict[str, Any]:
    """Read a v4 public-key (or subkey) packet body into securesystemslib's key dict.

    Raises:
        FormatError: not version 4, an algorithm other than RSA, DSA or EdDSA/Ed25519, or
            truncated key material.
    """
    reader = _Reader(body, "public key packet")
    version = reader.u8()
    if version != 4:
        raise FormatError(f"public key packet version {version} is not supported (only 4)")
    created = reader.u32()
    algorithm = reader.u8()
    if algorithm not in _ALGORITHMS:
        raise FormatError(f"public key algorithm {algorithm} is not RSA, DSA or EdDSA")
    kind, method = _ALGORITHMS[algorithm]
    public: dict[str, str]
    if kind == "rsa":
        modulus, exponent = reader.mpi(), reader.mpi()
        public = {"e": exponent.hex(), "n": modulus.hex()}
    elif kind == "dsa":
        p, q, g, y = reader.mpi(), reader.mpi(), reader.mpi(), reader.mpi()
        public = {"y": y.hex(), "p": p.hex(), "g": g.hex(), "q": q.hex()}
    else:
        if reader.take(reader.u8()) != _ED25519_OID:
            raise FormatError("EdDSA key is not on curve Ed25519")
        point = reader.mpi()
        if len(point) != 33 or point[0] != _ED25519_POINT_PREFIX:
            raise FormatError("EdDSA public point is not a prefixed 32-byte Ed25519 key")
        public = {"q": point[1:].hex()}
    return {
        "method": method,
        "type": kind,
        "hashes": ["pgp+SHA2"],
        "creation_time": created,
        "keyid": _fingerprint(body),
        "keyval": {"private": "", "public": public},
    }


@dataclass(frozen=True)
class Subpacket:
    """One signature subpacket: its type (critical bit removed), the critical bit, its data."""

    kind: int
    critical: bool
    data: bytes


def _last(subpackets: list[Subpacket], kind: int) -> bytes | None:
    found = None
    for sub in subpackets:
        if sub.kind == kind:
            found = sub.data
    return found


@dataclass(frozen=True)
class SignatureHeader:
    """The hashed part of a v4 signature (in-toto's ``other_headers``), read strictly.

    Attributes:
        sig_type: the signature type (0x00 binary document, 0x18 subkey binding, ...).
        algorithm: the public-key algorithm number.
        hash_algorithm: the hash algorithm number the signer names (and a verifier must use).
        hashed: the hashed subpackets, in order.
    """

    sig_type: int
    algorithm: int
    hash_algorithm: int
    hashed: list[Subpacket]

    def hashed_value(self, kind: int) -> bytes | None:
        """The data of the last hashed subpacket of type *kind*, if any."""
        return _last(self.hashed, kind)

    def hashed_u32(self, kind: int) -> int | None:
        """A four-octet time or period from the last hashed subpacket of *kind*, if any.

        Raises:
            FormatError: the subpacket is not four octets long.
        """
        data = self.hashed_value(kind)
        if data is None:
            return None
        if len(data) != 4:
            raise FormatError(f"signature subpacket {kind} is not 4 bytes")
        return int(struct.unpack(">I", data)[0])


@dataclass
class SignaturePacket:
    """A parsed v4 signature packet.

    Attributes:
        sig_type: the signature type (0x00 binary document, 0x18 subkey binding, ...).
        algorithm: the public-key algorithm number.
        hash_algorithm: the hash algorithm number.
        other_headers: the hashed part (version up to the hashed subpackets) as signed.
        signature: the signature in securesystemslib's form (RSA: the MPI's bytes; EdDSA:
            R || S; DSA: DER).
        keyid: the issuer fingerprint, or "" if the packet has none.
        short_keyid: the 64-bit issuer key ID, or "".
        creation_time: the signature creation time.
        hashed: the hashed subpackets, in order.
        unhashed: the unhashed subpackets, in order (anyone can change these).
    """

    sig_type: int
    algorithm: int
    hash_algorithm: int
    other_headers: bytes
    signature: bytes
    keyid: str = ""
    short_keyid: str = ""
    creation_time: int = 0
    hashed: list[Subpacket] = field(default_factory=list)
    unhashed: list[Subpacket] = field(default_factory=list)

    def hashed_value(self, kind: int) -> bytes | None:
        """The data of the last hashed subpacket of type *kind*, if any."""
        return _last(self.hashed, kind)

    def embedded(self, kind: int) -> list[bytes]:
        """The data of every subpacket of *kind*, hashed or not, in order."""
        return [sub.data for sub in self.hashed + self.unhashed if sub.kind == kind]

    def to_entry(self) -> dict[str, str]:
        """The signature entry in-toto stores: ``{"keyid", "other_headers", "signature"}``."""
        return {
            "keyid": self.keyid,
            "other_headers": self.other_headers.hex(),
            "signature": self.signature.hex(),
        }


def _subpackets(data: bytes) -> list[Subpacket]:
    reader = _Reader(data, "signature subpacket area")
    found = []
    while reader.pos < len(data):
        first = reader.u8()
        if first < 192:
            length = first
        elif first < 255:
            length = ((first - 192) << 8) + reader.u8() + 192
        else:
            length = reader.u32()
        if length < 1:
            raise FormatError("empty signature subpacket")
        kind = reader.u8()
        found.append(Subpacket(kind & 0x7F, bool(kind & 0x80), reader.take(length - 1)))
    return found


def _signature_value(algorithm: int, reader: _Reader) -> bytes:
    kind = _ALGORITHMS[algorithm][0]
    if kind == "rsa":
        return reader.mpi()
    first, second = reader.mpi(), reader.mpi()
    if kind == "eddsa":
        if len(first) > 32 or len(second) > 32:
            raise FormatError("EdDSA signature values are longer than 32 bytes")
        return first.rjust(32, b"\0") + second.rjust(32, b"\0")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return bytes(encode_dss_signature(int.from_bytes(first), int.from_bytes(second)))


def _read_header(reader: _Reader) -> tuple[int, int, int, list[Subpacket]]:
    version = reader.u8()
    if version != 4:
        raise FormatError(f"signature packet version {version} is not supported (only 4)")
    sig_type, algorithm, hash_algorithm = reader.u8(), reader.u8(), reader.u8()
    if algorithm not in _ALGORITHMS:
        raise FormatError(f"signature algorithm {algorithm} is not RSA, DSA or EdDSA")
    return sig_type, algorithm, hash_algorithm, _subpackets(reader.take(reader.u16()))


def parse_signature_header(other_headers: bytes) -> SignatureHeader:
    """Read the hashed part of a v4 signature (version up to the hashed subpackets).

    Raises:
        FormatError: not version 4, an unsupported public-key algorithm, malformed or
            truncated subpackets, or bytes after the hashed subpacket area.
    """
    reader = _Reader(other_headers, "signature header")
    sig_type, algorithm, hash_algorithm, hashed = _read_header(reader)
    if reader.pos != len(other_headers):
        raise FormatError("signature header has bytes after its hashed subpackets")
    return SignatureHeader(sig_type, algorithm, hash_algorithm, hashed)


def parse_signature(body: bytes) -> SignaturePacket:
    """Read a v4 signature packet body.

    The issuer is taken from the last Issuer Fingerprint / Issuer subpacket, hashed ones
    overriding unhashed ones.

    Raises:
        FormatError: not version 4, an unsupported public-key algorithm, truncated data, no
            issuer, an issuer key ID that contradicts the fingerprint, or no creation time.
    """
    reader = _Reader(body, "signature packet")
    sig_type, algorithm, hash_algorithm, hashed = _read_header(reader)
    other_headers = body[: reader.pos]
    unhashed = _subpackets(reader.take(reader.u16()))
    reader.take(2)  # the left 16 bits of the hash
    packet = SignaturePacket(
        sig_type,
        algorithm,
        hash_algorithm,
        other_headers,
        _signature_value(algorithm, reader),
        hashed=hashed,
        unhashed=unhashed,
    )
    for sub in unhashed + hashed:
        if sub.kind == SUB_ISSUER_FINGERPRINT:
            packet.keyid = sub.data[1:].hex()
        elif sub.kind == SUB_ISSUER:
            packet.short_keyid = sub.data.hex()
        elif sub.kind == SUB_CREATION_TIME:
            if len(sub.data) != 4:
                raise FormatError("signature creation time subpacket is not 4 bytes")
            packet.creation_time = int(struct.unpack(">I", sub.data)[0])
    if not (packet.keyid or packet.short_keyid):
        raise FormatError("signature packet names no issuer")
    if packet.keyid and not packet.keyid.endswith(packet.short_keyid):
        raise FormatError("signature issuer key ID contradicts its issuer fingerprint")
    if not packet.creation_time:
        raise FormatError("signature packet has no creation time")
    return packet


def _digest(hash_name: str, content: bytes, other_headers: bytes) -> bytes:
    hasher = hashlib.new(hash_name)
    hasher.update(content)
    hasher.update(other_headers)
    hasher.update(b"\x04\xff" + struct.pack(">I", len(other_headers)))
    return hasher.digest()


def verify_signature(
    key: dict[str, Any],
    signature: bytes,
    other_headers: bytes,
    content: bytes,
    hash_name: str = "sha256",
) -> bool:
    """Return True if *signature* by *key* (a gpg key dict) covers *content*.

    The digest is ``H(content || other_headers || 0x04 0xff || len(other_headers))``. Never
    raises: malformed keys or signatures give False.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, padding, rsa, utils

    algorithms: dict[str, Any] = {
        "sha1": hashes.SHA1,
        "sha256": hashes.SHA256,
        "sha512": hashes.SHA512,
    }
    try:
        digest = _digest(hash_name, content, other_headers)
        prehashed = utils.Prehashed(algorithms[hash_name]())
        public = key["keyval"]["public"]
        kind = key.get("type")
        if kind == "rsa":
            modulus = int(public["n"], 16)
            rsa_key = rsa.RSAPublicNumbers(int(public["e"], 16), modulus).public_key()
            padded = signature.rjust((modulus.bit_length() + 7) // 8, b"\0")
            rsa_key.verify(padded, digest, padding.PKCS1v15(), prehashed)
        elif kind == "eddsa":
            ed_key = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public["q"]))
            ed_key.verify(signature, digest)
        elif kind == "dsa":
            numbers = dsa.DSAParameterNumbers(
                int(public["p"], 16), int(public["q"], 16), int(public["g"], 16)
            )
            dsa_key = dsa.DSAPublicNumbers(int(public["y"], 16), numbers).public_key()
            dsa_key.verify(signature, digest, prehashed)
        else:
            return False
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError):
        return False
    return True
