"""Signature schemes: loading public keys and verifying raw signatures.

Each supported (keytype, scheme) pair maps to one loader. A pair that is not listed never
verifies (TUF TAP 9: a client must not guess a scheme). The loader that builds a key's verifier
also derives its *material* (the key itself, whatever its spelling), so what a threshold counts
as one key is exactly what verifies as that key. This module does not know TUF metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "SCHEMES",
    "LoadedKey",
    "SchemeInfo",
    "hash_algorithm",
    "load_public_key",
    "mldsa_message",
    "public_key_material",
    "scheme_info",
]


class SchemeInfo(NamedTuple):
    """What tufkit knows of one signature scheme.

    Attributes:
        scheme: the TUF scheme name.
        keytypes: keytypes this scheme is valid with (first one is written by tufkit).
        family: ``"ed25519"``, ``"ecdsa"``, ``"rsa"`` or ``"ml-dsa"``.
        curve: the ECDSA curve name, for ecdsa schemes.
        hash_name: the digest the scheme signs with (for ML-DSA: the pre-hash of TAP 21).
        parameter_set: the ML-DSA parameter set (44, 65 or 87), for ml-dsa schemes.
    """

    scheme: str
    keytypes: tuple[str, ...]
    family: str
    curve: str | None = None
    hash_name: str = "sha256"
    parameter_set: int | None = None


_RSA_HASHES = ("sha256", "sha384", "sha512")


def _ecdsa(bits: int, hash_name: str) -> SchemeInfo:
    name = f"ecdsa-sha2-nistp{bits}"
    return SchemeInfo(name, ("ecdsa", name), "ecdsa", f"secp{bits}r1", hash_name)


def _rsa(padding: str, hash_name: str) -> SchemeInfo:
    return SchemeInfo(f"{padding}-{hash_name}", ("rsa",), "rsa", hash_name=hash_name)


def _mldsa(level: int) -> SchemeInfo:
    return SchemeInfo(f"ml-dsa-{level}/1", ("ml-dsa",), "ml-dsa", None, "sha512", level)


#: Every (keytype, scheme) pair securesystemslib 1.6 registers for TUF and in-toto keys, under
#: the same names (its RSA SHA-224 schemes are not registered, so neither reads them).
SCHEMES: dict[str, SchemeInfo] = {
    info.scheme: info
    for info in (
        SchemeInfo("ed25519", ("ed25519",), "ed25519", hash_name="sha512"),
        _ecdsa(256, "sha256"),
        _ecdsa(384, "sha384"),
        _ecdsa(521, "sha512"),
        *(_rsa(p, h) for p in ("rsassa-pss", "rsa-pkcs1v15") for h in _RSA_HASHES),
        _mldsa(44),
        _mldsa(65),
        _mldsa(87),
    )
}


def scheme_info(keytype: str, scheme: str) -> SchemeInfo | None:
    """Return the scheme if *keytype* and *scheme* form a supported pair, else None."""
    info = SCHEMES.get(scheme)
    if info is None or keytype not in info.keytypes:
        return None
    return info


Verifier = Callable[[bytes, bytes], bool]


class LoadedKey(NamedTuple):
    """A usable public key.

    Attributes:
        verify: ``(signature, data) -> bool``; never raises.
        material: the key itself, independent of how metadata spelt it: the raw 32 bytes of an
            ed25519 key, the DER ``SubjectPublicKeyInfo`` of any other key.
    """

    verify: Verifier
    material: bytes


def load_public_key(info: SchemeInfo, public: str) -> LoadedKey | None:
    """Load a public key value for *info*'s scheme.

    Returns None when *public* is not a valid key of the scheme's kind (wrong type, curve or
    parameter set, an RSA key under 2048 bits, unreadable text): such a key never verifies.
    Never raises for bad key material.
    """
    try:
        if info.family == "ed25519":
            return _ed25519_key(public)
        key = _load_crypto_key(info, public)
        if key is None:
            return None
        return LoadedKey(_crypto_verifier(info, key), _spki_der(key))
    except (ValueError, TypeError, UnicodeError, ImportError):
        return None


def public_key_material(info: SchemeInfo, public: str) -> bytes | None:
    """The key material :func:`load_public_key` derives, or None for an unusable key."""
    loaded = load_public_key(info, public)
    return None if loaded is None else loaded.material


def mldsa_message(data: bytes) -> bytes:
    """What an ML-DSA key signs for *data* (TUF TAP 21, version 1): ``b"tuf\\x01" + SHA-512``."""
    import hashlib

    return b"tuf\x01" + hashlib.sha512(data).digest()


def _spki_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def _load_crypto_key(info: SchemeInfo, public: str) -> Any:
    """The ``cryptography`` public key for *public*, if it is a key of *info*'s kind."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if info.family == "ecdsa":
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = _curve(info)
        if "-----BEGIN" in public:
            key: Any = load_pem_public_key(public.encode("ascii"))
        else:  # legacy encoding: hex of the SEC1 point (uncompressed or compressed)
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve, bytes.fromhex(public))
        ok = isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == curve.name
        return key if ok else None
    key = load_pem_public_key(public.encode("ascii"))
    if info.family == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa

        return key if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048 else None
    if info.family == "ml-dsa":
        return key if isinstance(key, _mldsa_public_class(info)) else None
    return None


def _curve(info: SchemeInfo) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    curves: dict[str | None, Any] = {
        "secp256r1": ec.SECP256R1,
        "secp384r1": ec.SECP384R1,
        "secp521r1": ec.SECP521R1,
    }
    return curves[info.curve]()


def _mldsa_public_class(info: SchemeInfo) -> type:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    classes: dict[int | None, type] = {
        44: mldsa.MLDSA44PublicKey,
        65: mldsa.MLDSA65PublicKey,
        87: mldsa.MLDSA87PublicKey,
    }
    return classes[info.parameter_set]


def hash_algorithm(name: str) -> Any:
    """The ``cryptography`` hash object for a scheme's ``hash_name``."""
    from cryptography.hazmat.primitives import hashes

    algorithms: dict[str, Any] = {
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
    }
    return algorithms[name]()


def _crypto_verifier(info: SchemeInfo, key: Any) -> Verifier:
    from cryptography.exceptions import InvalidSignature

    check: Callable[[bytes, bytes], None]
    if info.family == "ml-dsa":

        def check(signature: bytes, data: bytes) -> None:
            key.verify(signature, mldsa_message(data))

    elif info.family == "ecdsa":
        from cryptography.hazmat.primitives.asymmetric import ec

        algorithm = ec.ECDSA(hash_algorithm(info.hash_name))

        def check(signature: bytes, data: bytes) -> None:
            key.verify(signature, data, algorithm)

    else:
        from cryptography.hazmat.primitives.asymmetric import padding

        digest = hash_algorithm(info.hash_name)
        pad: Any = (
            padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
            if info.scheme.startswith("rsassa-pss")
            else padding.PKCS1v15()
        )

        def check(signature: bytes, data: bytes) -> None:
            key.verify(signature, data, pad, digest)

    def verify(signature: bytes, data: bytes) -> bool:
        try:
            check(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify


_LARGE_MESSAGE = 16 << 20  # bytes; above this, verify without PyNaCl's message copies


def _ed25519_key(public: str) -> LoadedKey | None:
    """libsodium (PyNaCl) for ordinary documents: twice OpenSSL's rate on small messages.

    PyNaCl copies the message twice per verification, so messages above 16 MiB (million-entry
    targets files) go through OpenSSL (cryptography), which reads the buffer in place. Both
    implement RFC 8032; libsodium additionally refuses small-order or non-canonical public keys
    and small-order R, so the OpenSSL path first requires both to be valid prime-order points
    (libsodium's own check), which every honest key and signature is. The key must be exactly
    64 hex digits (either case).
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

    return LoadedKey(verify, raw)


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
