"""OpenPGP signatures in in-toto metadata, as securesystemslib exports them.

A gpg signature entry is ``{"keyid", "signature", "other_headers"}`` (hex); the key dict in the
layout carries the public numbers as hex (``type`` rsa/eddsa, ``method`` pgp+...). Verification is
done in Python with ``cryptography`` over the RFC 4880 v4 hashed data (content, the signature's
hashed subpackets, the ``0x04 0xff`` trailer and the subpacket length). A signing subkey of a
listed main key is accepted; an expired key verifies nothing. DSA keys are not supported and
verify nothing. This module does not run the gpg binary.
"""

from __future__ import annotations

import struct
import time
from typing import Any

__all__ = ["is_gpg_signature", "verify_gpg_signature"]


def is_gpg_signature(entry: dict[str, Any]) -> bool:
    """True if a signature entry is in the OpenPGP form."""
    return "signature" in entry and "other_headers" in entry


def _digest(headers: bytes, content: bytes) -> bytes:
    import hashlib

    hasher = hashlib.sha256()
    hasher.update(content)
    hasher.update(headers)
    hasher.update(b"\x04\xff")
    hasher.update(struct.pack(">I", len(headers)))
    return hasher.digest()


def _expired(key: dict[str, Any]) -> bool:
    created = key.get("creation_time")
    period = key.get("validity_period")
    if isinstance(created, int) and isinstance(period, int) and created and period:
        return created + period < time.time()
    return False


def verify_gpg_signature(entry: dict[str, Any], key: dict[str, Any], content: bytes) -> bool:
    """Return True if the OpenPGP signature *entry* by *key* (or its subkey) covers *content*.

    Never raises: malformed entries, unknown key types and expired keys give False.
    """
    subkeys = key.get("subkeys")
    chosen = key
    if isinstance(subkeys, dict) and isinstance(subkeys.get(entry.get("keyid")), dict):
        chosen = subkeys[entry["keyid"]]
    if _expired(chosen):
        return False
    try:
        headers = bytes.fromhex(entry["other_headers"])
        signature = bytes.fromhex(entry["signature"])
        public = chosen["keyval"]["public"]
        digest = _digest(headers, content)
        if chosen.get("type") == "rsa":
            return _verify_rsa(public, signature, digest)
        if chosen.get("type") == "eddsa":
            return _verify_eddsa(public, signature, digest)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return False


def _verify_rsa(public: dict[str, str], signature: bytes, digest: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    modulus = int(public["n"], 16)
    numbers = rsa.RSAPublicNumbers(int(public["e"], 16), modulus)
    key = numbers.public_key()
    size = (modulus.bit_length() + 7) // 8
    signature = signature.rjust(size, b"\0")
    try:
        key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _verify_eddsa(public: dict[str, str], signature: bytes, digest: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public["q"]))
    try:
        key.verify(signature, digest)
    except InvalidSignature:
        return False
    return True
