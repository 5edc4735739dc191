"""Keys as in-toto uses them: PEM public key files, layout key dicts, signature checks.

A PEM ``SubjectPublicKeyInfo`` file becomes the securesystemslib-style key the reference 3.x
builds, with the same keyid (SHA-256 of the canonical ``keytype``/``scheme``/``keyval`` object,
PEM value with its final newline). Layout key dicts are trusted with the keyid they are listed
under; they are never re-hashed. This module does not read private keys or talk to gpg.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tufkit.crypto import Key
from tufkit.errors import ConfigError, FormatError

__all__ = [
    "key_from_dict",
    "key_to_layout_dict",
    "layout_key_identity",
    "load_public_key_pem",
    "verify_hex_signature",
]


def load_public_key_pem(data: bytes, *, what: str = "public key") -> Key:
    """Load a PEM public key file as the reference does (default scheme for its type).

    Args:
        data: the file's bytes.
        what: a name for the file, used in errors.

    Raises:
        ConfigError: not a PEM public key, or a key type in-toto does not use.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what} is not a PEM public key: {exc}") from exc
    except Exception as exc:  # cryptography's UnsupportedAlgorithm
        raise ConfigError(f"{what} cannot be loaded: {exc}") from exc
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return Key.from_public("ed25519", "ed25519", raw.hex())
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    if isinstance(public, rsa.RSAPublicKey):
        return Key.from_public("rsa", "rsassa-pss-sha256", pem)
    if isinstance(public, ec.EllipticCurvePublicKey):
        bits = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}.get(public.curve.name)
        if bits is not None:
            return Key.from_public("ecdsa", f"ecdsa-sha2-nistp{bits}", pem)
    mldsa_level = _mldsa_level(public)
    if mldsa_level is not None:
        return Key.from_public("ml-dsa", f"ml-dsa-{mldsa_level}/1", pem)
    raise ConfigError(f"{what}: unsupported key type {type(public).__name__}")


def _mldsa_level(public: object) -> int | None:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    levels = {
        mldsa.MLDSA44PublicKey: 44,
        mldsa.MLDSA65PublicKey: 65,
        mldsa.MLDSA87PublicKey: 87,
    }
    return next((level for cls, level in levels.items() if isinstance(public, cls)), None)


def key_from_dict(keyid: str, data: dict[str, Any]) -> Key:
    """Build a :class:`Key` from a layout key dict, keeping *keyid* as given.

    Raises:
        FormatError: the dict lacks keytype, scheme or a string public value.
    """
    return Key.from_dict(keyid, {k: v for k, v in data.items() if k != "keyid"})


def key_to_layout_dict(key: Key) -> dict[str, Any]:
    """Return the dict a layout lists a key as: the key object plus its ``keyid``."""
    return {**key.to_dict(), "keyid": key.keyid}


def verify_hex_signature(key: Key, sig_hex: object, data: bytes) -> bool:
    """Return True if the hex signature verifies over *data*; never raises."""
    if type(sig_hex) is not str:
        return False
    return key.verify_signature(sig_hex, data)


def layout_key_identity(keyid: str, key: Mapping[str, Any]) -> tuple[str, str]:
    """What makes two layout keys one key, whatever their keyids: the key material.

    For a key of a scheme tufkit verifies, this is :meth:`tufkit.crypto.Key.identity` (derived
    by the loader that verifies its signatures, so every spelling of one key is one identity).
    For an OpenPGP key dict, it is the public key built from ``keyval["public"]`` the way its
    signatures are checked (RSA ``n``/``e``, DSA ``p``/``q``/``g``/``y``, EdDSA ``q``). A step
    or attestation threshold counts distinct identities. A key that cannot verify anything is
    its own identity (by *keyid*). Never raises.
    """
    if all(field in key for field in ("type", "method", "keyval")):
        material = _openpgp_material(key)
        return ("unusable", keyid) if material is None else material
    try:
        return key_from_dict(keyid, dict(key)).identity()
    except (FormatError, ValueError, TypeError):
        return ("unusable", keyid)


def _openpgp_material(key: Mapping[str, Any]) -> tuple[str, str] | None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa

    try:
        public = key["keyval"]["public"]
        kind = key["type"]
        crypto_key: Any
        if kind == "rsa":
            numbers = rsa.RSAPublicNumbers(int(public["e"], 16), int(public["n"], 16))
            crypto_key, family = numbers.public_key(), "rsa"
        elif kind == "eddsa":
            raw = bytes.fromhex(public["q"])
            return (
                "ed25519",
                ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes_raw().hex(),
            )
        elif kind == "dsa":
            params = dsa.DSAParameterNumbers(
                int(public["p"], 16), int(public["q"], 16), int(public["g"], 16)
            )
            crypto_key, family = (
                dsa.DSAPublicNumbers(int(public["y"], 16), params).public_key(),
                "dsa",
            )
        else:
            return None
        der = crypto_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return (family, der.hex())
