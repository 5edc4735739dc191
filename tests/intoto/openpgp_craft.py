"""A small OpenPGP packet writer for tests: the cases gpg will not make, made from gpg's own keys.

Secret keys come from ``gpg --export-secret-keys`` of keys made without a passphrase (their
secret MPIs are stored in the clear); this module reads them (RSA and Ed25519 only) and writes v4
signature packets with any signature type, header hash algorithm and subpackets, signed with any
hash: a data signature of the wrong type, a header naming SHA-1 over a SHA-256 digest, an unknown
critical subpacket, a signature by an encryption-only subkey, a subkey binding without its
cross-certification. It is deliberately independent of tufkit's parser (its own framing and MPI
code), so the tests do not check tufkit against itself.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

TAG_SIGNATURE = 2
TAG_SECRET_KEY = 5
TAG_PUBLIC_KEY = 6
TAG_SECRET_SUBKEY = 7
TAG_USER_ID = 13
TAG_PUBLIC_SUBKEY = 14

HASH_IDS = {"sha1": 2, "sha256": 8, "sha384": 9, "sha512": 10}
_HASHES: dict[str, Any] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class RawPacket:
    """A framed packet: tag, body and the bytes as they came."""

    tag: int
    body: bytes
    raw: bytes


def frame(data: bytes) -> list[RawPacket]:
    """Split gpg's output into packets (old and new headers with definite lengths)."""
    out, pos = [], 0
    while pos < len(data):
        first = data[pos]
        if first & 0x40:
            tag, octet = first & 0x3F, data[pos + 1]
            if octet < 192:
                length, start = octet, pos + 2
            elif octet < 224:
                length, start = ((octet - 192) << 8) + data[pos + 2] + 192, pos + 3
            else:
                length, start = int.from_bytes(data[pos + 2 : pos + 6]), pos + 6
        else:
            tag, size = (first >> 2) & 0x0F, (1, 2, 4)[first & 3]
            length, start = int.from_bytes(data[pos + 1 : pos + 1 + size]), pos + 1 + size
        out.append(RawPacket(tag, data[start : start + length], data[pos : start + length]))
        pos = start + length
    return out


def packet(tag: int, body: bytes) -> bytes:
    """An old-format packet with the smallest definite length, as gpg writes them."""
    if len(body) < 0x100:
        return bytes([0x80 | tag << 2]) + bytes([len(body)]) + body
    if len(body) < 0x10000:
        return bytes([0x81 | tag << 2]) + struct.pack(">H", len(body)) + body
    return bytes([0x82 | tag << 2]) + struct.pack(">I", len(body)) + body


def subpacket(kind: int, data: bytes, *, critical: bool = False) -> bytes:
    """One signature subpacket (one- or two-octet length)."""
    length = len(data) + 1
    if length < 192:
        head = bytes([length])
    else:
        assert length < 8384
        head = bytes([((length - 192) >> 8) + 192, (length - 192) & 0xFF])
    return head + bytes([kind | (0x80 if critical else 0)]) + data


def mpi(value: bytes) -> bytes:
    value = value.lstrip(b"\0")
    bits = (len(value) - 1) * 8 + value[0].bit_length() if value else 0
    return struct.pack(">H", bits) + value


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, count: int) -> bytes:
        self.pos += count
        return self.data[self.pos - count : self.pos]

    def mpi(self) -> int:
        bits = int.from_bytes(self.take(2))
        return int.from_bytes(self.take((bits + 7) // 8))


@dataclass(frozen=True)
class SecretKey:
    """A key read from a secret (sub)key packet: its public packet body and private key."""

    public_body: bytes
    algorithm: int
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

    @property
    def fingerprint(self) -> str:
        head = b"\x99" + struct.pack(">H", len(self.public_body))
        return hashlib.sha1(head + self.public_body, usedforsecurity=False).hexdigest()

    def preimage(self) -> bytes:
        """The key as hashed in self-signatures: 0x99, two-octet length, body."""
        return b"\x99" + struct.pack(">H", len(self.public_body)) + self.public_body


def _read_secret(body: bytes) -> SecretKey:
    cur = _Cursor(body)
    assert cur.take(1) == b"\x04"
    cur.take(4)
    algorithm = cur.take(1)[0]
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == 1:
        n, e = cur.mpi(), cur.mpi()
        public_end = cur.pos
        assert cur.take(1) == b"\0", "secret key is passphrase-protected"
        d, p, q = cur.mpi(), cur.mpi(), cur.mpi()
        numbers = rsa.RSAPrivateNumbers(
            p,
            q,
            d,
            rsa.rsa_crt_dmp1(d, p),
            rsa.rsa_crt_dmq1(d, q),
            rsa.rsa_crt_iqmp(p, q),
            rsa.RSAPublicNumbers(e, n),
        )
        private = numbers.private_key()
    elif algorithm == 22:
        cur.take(cur.take(1)[0])
        cur.mpi()
        public_end = cur.pos
        assert cur.take(1) == b"\0", "secret key is passphrase-protected"
        private = ed25519.Ed25519PrivateKey.from_private_bytes(cur.mpi().to_bytes(32))
    else:
        raise AssertionError(f"algorithm {algorithm} is not written by this test helper")
    return SecretKey(body[:public_end], algorithm, private)


def secret_keys(exported: bytes) -> list[SecretKey]:
    """The primary key and the subkeys (in order) of ``gpg --export-secret-keys`` output."""
    return [
        _read_secret(p.body)
        for p in frame(exported)
        if p.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY)
    ]


def issuer_subpackets(signer: SecretKey) -> bytes:
    """The hashed issuer fingerprint, as gpg writes it."""
    return subpacket(33, b"\x04" + bytes.fromhex(signer.fingerprint))


@dataclass(frozen=True)
class Crafted:
    """A signature packet body and the in-toto entry made from it."""

    body: bytes
    keyid: str
    header: bytes
    value: bytes

    @property
    def packet(self) -> bytes:
        return packet(TAG_SIGNATURE, self.body)

    def entry(self, keyid: str | None = None) -> dict[str, str]:
        """``{"keyid", "other_headers", "signature"}`` as in-toto stores a gpg signature."""
        return {
            "keyid": keyid or self.keyid,
            "other_headers": self.header.hex(),
            "signature": self.value.hex(),
        }


def read_signature(data: bytes, keyid: str) -> Crafted:
    """A (gpg-made) detached signature, split into the parts in-toto keeps."""
    (pkt,) = frame(data)
    body = pkt.body
    end = 6 + int.from_bytes(body[4:6])
    unhashed_end = end + 2 + int.from_bytes(body[end : end + 2])
    cur = _Cursor(body)
    cur.pos = unhashed_end + 2
    first = cur.mpi()
    value = first.to_bytes((first.bit_length() + 7) // 8)
    if body[2] == 22:  # EdDSA: R || S, 32 bytes each
        value = first.to_bytes(32) + cur.mpi().to_bytes(32)
    return Crafted(body, keyid, body[:end], value)


def signature(
    signer: SecretKey,
    content: bytes,
    *,
    sig_type: int = 0x00,
    created: int,
    hashed: bytes = b"",
    unhashed: bytes | None = None,
    header_hash: str = "sha256",
    used_hash: str | None = None,
) -> Crafted:
    """A v4 signature by *signer* over *content*.

    *hashed* is added after the issuer fingerprint and creation time; *unhashed* defaults to the
    64-bit issuer key ID. The header names *header_hash*; the digest is made with *used_hash*
    (default: the same).
    """
    hashed_area = issuer_subpackets(signer) + subpacket(2, struct.pack(">I", created)) + hashed
    header = (
        bytes([4, sig_type, signer.algorithm, HASH_IDS[header_hash]])
        + struct.pack(">H", len(hashed_area))
        + hashed_area
    )
    name = used_hash or header_hash
    digest = hashlib.new(name, content + header + b"\x04\xff" + struct.pack(">I", len(header)))
    value = digest.digest()
    if isinstance(signer.private, rsa.RSAPrivateKey):
        raw = signer.private.sign(value, padding.PKCS1v15(), utils.Prehashed(_HASHES[name]()))
        values = mpi(raw)
    else:
        raw = signer.private.sign(value)
        values = mpi(raw[:32]) + mpi(raw[32:])
    if unhashed is None:
        unhashed = subpacket(16, bytes.fromhex(signer.fingerprint[-16:]))
    body = header + struct.pack(">H", len(unhashed)) + unhashed + value[:2] + values
    return Crafted(body, signer.fingerprint, header, raw)


def binding(
    primary: SecretKey,
    subkey: SecretKey,
    *,
    created: int,
    flags: int = 0x02,
    cross_certify: str = "unhashed",
) -> bytes:
    """A subkey binding signature (0x18) with key flags.

    *cross_certify* is where the subkey's primary key binding signature (0x19) goes: "hashed",
    "unhashed" (where gpg puts it) or "none".
    """
    content = primary.preimage() + subkey.preimage()
    hashed = subpacket(27, bytes([flags]))
    unhashed = subpacket(16, bytes.fromhex(primary.fingerprint[-16:]))
    if cross_certify != "none":
        back = subpacket(32, signature(subkey, content, sig_type=0x19, created=created).body)
        if cross_certify == "hashed":
            hashed += back
        else:
            unhashed += back
    return signature(
        primary, content, sig_type=0x18, created=created, hashed=hashed, unhashed=unhashed
    ).body


def rebind(
    exported: bytes,
    keys: list[SecretKey],
    created: int,
    *,
    flags: int = 0x02,
    cross_certify: str = "unhashed",
) -> bytes:
    """*exported* (a public key export) with each subkey's signatures replaced by a new binding
    made by the primary key (``keys[0]``), as :func:`binding` makes it."""
    out = b""
    skipping = False
    for pkt in frame(exported):
        if pkt.tag == TAG_SIGNATURE and skipping:
            continue
        skipping = False
        out += pkt.raw
        if pkt.tag == TAG_PUBLIC_SUBKEY:
            subkey = next(k for k in keys[1:] if k.public_body == pkt.body)
            made = binding(
                keys[0], subkey, created=created, flags=flags, cross_certify=cross_certify
            )
            out += packet(TAG_SIGNATURE, made)
            skipping = True
    return out
