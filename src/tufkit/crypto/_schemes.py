"""Signature schemes: loading public keys and verifying raw signatures.

Each supported (keytype, scheme) pair maps to one verifier. A pair that is not listed never
verifies (TUF TAP 9: a client must not guess a scheme). This module does not know TUF metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["SCHEMES", "SchemeInfo", "load_public_key", "public_key_material", "scheme_info"]


class SchemeInfo(NamedTuple):
    """What tufkit knows of one signature scheme.

    Attributes:
        scheme: the TUF scheme name.
        keytypes: keytypes this scheme is valid with (first one is written by tufkit).
        family: ``"ed25519"``, ``"ecdsa"`` or ``"rsa"``.
        curve: the ECDSA curve name, for ecdsa schemes.
        hash_name: the digest the scheme signs with.
    """

    scheme: str
    keytypes: tuple[str, ...]
    family: str
    curve: str | None = None
    hash_name: str = "sha256"


SCHEMES: dict[str, SchemeInfo] = {
    "ed25519": SchemeInfo("ed25519", ("ed25519",), "ed25519", hash_name="sha512"),
    "ecdsa-sha2-nistp256": SchemeInfo(
        "ecdsa-sha2-nistp256", ("ecdsa", "ecdsa-sha2-nistp256"), "ecdsa", "secp256r1"
    ),
    "ecdsa-sha2-nistp384": SchemeInfo(
        "ecdsa-sha2-nistp384", ("ecdsa", "ecdsa-sha2-nistp384"), "ecdsa", "secp384r1", "sha384"
    ),
    "rsassa-pss-sha256": SchemeInfo("rsassa-pss-sha256", ("rsa",), "rsa"),
    "rsa-pkcs1v15-sha256": SchemeInfo("rsa-pkcs1v15-sha256", ("rsa",), "rsa"),
}


def scheme_info(keytype: str, scheme: str) -> SchemeInfo | None:
    """Return the scheme if *keytype* and *scheme* form a supported pair, else None."""
    info = SCHEMES.get(scheme)
    if info is None or keytype not in info.keytypes:
        return None
    return info


Verifier = Callable[[bytes, bytes], bool]


def load_public_key(info: SchemeInfo, public: str) -> Verifier | None:
    """Build a verifier ``(signature, data) -> bool`` for a public key value.

    Returns None when *public* is not a valid key of the scheme's kind (such a key never
    verifies); never raises for bad key material.
    """
    try:
        if info.family == "ed25519":
            return _ed25519_verifier(public)
        if info.family == "ecdsa":
            return _ecdsa_verifier(info, public)
        return _rsa_verifier(info, public)
    except (ValueError, TypeError, UnicodeError):
        return None


def public_key_material(info: SchemeInfo, public: str) -> bytes | None:
    """The key itself, whatever its spelling: raw ed25519 bytes, or DER SubjectPublicKeyInfo.

    Upper- and lowercase hex, PEM line endings and the legacy hex point all give the same bytes,
    so one key written two ways is recognised as one key. None for unusable key material.
    """
    try:
        if info.family == "ed25519":
            raw = bytes.fromhex(public)
            return raw if len(raw) == 32 and len(public) == 64 else None
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key: Any
        if public.startswith("-----BEGIN"):
            key = load_pem_public_key(public.encode("ascii"))
        elif info.family == "ecdsa":
            curve = ec.SECP256R1() if info.curve == "secp256r1" else ec.SECP384R1()
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve, bytes.fromhex(public))
        else:
            return None
        der: bytes = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return der
    except (ValueError, TypeError, UnicodeError):
        return None


_LARGE_MESSAGE = 16 << 20  # bytes; above this, verify without PyNaCl's message copies


def _ed25519_verifier(public: str) -> Verifier | None:
    """libsodium (PyNaCl) for ordinary documents: twice OpenSSL's rate on small messages.

    PyNaCl copies the message twice per verification, so messages above 16 MiB (million-entry
    targets files) go through OpenSSL (cryptography), which reads the buffer in place. Both
    implement RFC 8032; libsodium additionally refuses small-order or non-canonical public keys
    and small-order R, so the OpenSSL path first requires both to be valid prime-order points
    (libsodium's own check), which every honest key and signature is.
    """
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    raw = bytes.fromhex(public)
    if len(raw) != 32 or len(public) != 64:
        return None
    key = VerifyKey(raw)

    def verify(signature: bytes, data: bytes) -> bool:
        if len(signature) != 64:
            return False
        if len(data) > _LARGE_MESSAGE:
            return _verify_large_ed25519(raw, signature, data)
        try:
            key.verify(data, signature)
        except (BadSignatureError, ValueError):
            return False
        return True

    return verify


def _verify_large_ed25519(public: bytes, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from nacl.bindings import crypto_core_ed25519_is_valid_point

    if not (
        crypto_core_ed25519_is_valid_point(public)
        and crypto_core_ed25519_is_valid_point(signature[:32])
    ):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _hash(name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"sha256": hashes.SHA256, "sha384": hashes.SHA384}[name]()


def _ecdsa_verifier(info: SchemeInfo, public: str) -> Verifier | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    curve = ec.SECP256R1() if info.curve == "secp256r1" else ec.SECP384R1()
    if public.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key: Any = load_pem_public_key(public.encode("ascii"))
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != curve.name:
            return None
    else:  # legacy encoding: hex of the uncompressed SEC1 point
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve, bytes.fromhex(public))
    algorithm = ec.ECDSA(_hash(info.hash_name))

    def verify(signature: bytes, data: bytes) -> bool:
        try:
            key.verify(signature, data, algorithm)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify


def _rsa_verifier(info: SchemeInfo, public: str) -> Verifier | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(public.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        return None
    digest = _hash(info.hash_name)
    pad: Any
    if info.scheme.startswith("rsassa-pss"):
        pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
    else:
        pad = padding.PKCS1v15()

    def verify(signature: bytes, data: bytes) -> bool:
        try:
            key.verify(signature, data, pad, digest)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify
