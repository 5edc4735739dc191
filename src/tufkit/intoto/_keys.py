"""Keys as in-toto uses them: PEM public key files, layout key dicts, signature checks.

A PEM ``SubjectPublicKeyInfo`` file becomes the securesystemslib-style key the reference 3.x
builds, with the same keyid (SHA-256 of the canonical ``keytype``/``scheme``/``keyval`` object,
PEM value with its final newline). Layout key dicts are trusted with the keyid they are listed
under; they are never re-hashed. This module does not read private keys or talk to gpg.
"""

from __future__ import annotations

from typing import Any

from tufkit.crypto import Key
from tufkit.errors import ConfigError

__all__ = ["key_from_dict", "key_to_layout_dict", "load_public_key_pem", "verify_hex_signature"]


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
    raise ConfigError(f"{what}: unsupported key type {type(public).__name__}")


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
