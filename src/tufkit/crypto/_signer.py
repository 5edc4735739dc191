"""Signers: the private half. A :class:`Signer` signs bytes and knows its public :class:`Key`.

:class:`CryptoSigner` holds a private key in memory (ed25519, ECDSA P-256/P-384, RSA). It is
created by :func:`generate`, or loaded from PKCS#8 PEM. This module does not find keys: URIs and
files are resolved in ``_uri.py``.
"""

from __future__ import annotations

from typing import Any, Protocol, cast, runtime_checkable

from tufkit.crypto._key import Key, Signature
from tufkit.crypto._schemes import SCHEMES
from tufkit.errors import ConfigError, UnsupportedAlgorithmError

__all__ = ["DEFAULT_SCHEMES", "CryptoSigner", "Signer", "generate"]

#: The scheme tufkit uses for each key type given to ``tufkit key generate --type``.
DEFAULT_SCHEMES = {
    "ed25519": "ed25519",
    "ecdsa": "ecdsa-sha2-nistp256",
    "rsa": "rsassa-pss-sha256",
}


@runtime_checkable
class Signer(Protocol):
    """Anything that signs: an in-memory key, an HSM, a cloud KMS."""

    @property
    def public_key(self) -> Key:
        """The public key that verifies this signer's signatures."""
        ...

    def sign(self, payload: bytes) -> Signature:
        """Return a signature over *payload* (the canonical bytes of a document)."""
        ...


class CryptoSigner:
    """A signer holding its private key in memory."""

    def __init__(self, private_key: Any, public_key: Key) -> None:
        self._private = private_key
        self._public = public_key

    @property
    def public_key(self) -> Key:
        """The public key that verifies this signer's signatures."""
        return self._public

    def sign(self, payload: bytes) -> Signature:
        """Sign *payload* with the key's scheme and return a signature carrying its keyid."""
        scheme = self._public.scheme
        if scheme == "ed25519":
            raw = self._private.sign(payload).signature
        elif scheme.startswith("ecdsa"):
            from cryptography.hazmat.primitives.asymmetric import ec

            raw = self._private.sign(payload, ec.ECDSA(_digest(scheme)))
        else:
            raw = self._private.sign(payload, _rsa_padding(scheme), _digest(scheme))
        return Signature(self._public.keyid, raw.hex())

    @classmethod
    def from_private_pem(
        cls,
        pem: bytes,
        password: bytes | None = None,
        *,
        scheme: str | None = None,
        public_key: Key | None = None,
    ) -> CryptoSigner:
        """Load a PKCS#8 (or traditional) PEM private key.

        Args:
            pem: the PEM bytes.
            password: the passphrase of an encrypted PEM, or None.
            scheme: the scheme to sign with; defaults to the key type's usual scheme.
            public_key: the public key as metadata knows it (keeps its keyid and extra
                fields); must match the private key.

        Raises:
            ConfigError: unreadable PEM, wrong or missing passphrase, a key that does not match
                *public_key*, or an unsupported key type.
        """
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            private = load_pem_private_key(pem, password)
        except TypeError as exc:
            raise ConfigError(f"key file: {_password_problem(exc, password)}") from exc
        except (ValueError, UnsupportedAlgorithmError) as exc:
            raise ConfigError(f"key file is not a readable private key: {exc}") from exc
        except Exception as exc:  # cryptography's own UnsupportedAlgorithm and friends
            raise ConfigError(f"key file cannot be loaded: {exc}") from exc
        return _signer_for(private, scheme, public_key)

    def private_pem(self, password: bytes | None) -> bytes:
        """Export the private key as PKCS#8 PEM, encrypted with *password* unless None."""
        from cryptography.hazmat.primitives import serialization

        encryption: Any = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        private = self._private
        if self._public.scheme == "ed25519":
            private = _nacl_to_cryptography(private)
        return bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )


def _password_problem(exc: Exception, password: bytes | None) -> str:
    if password is None:
        return "the key is encrypted and no passphrase was given"
    return f"a passphrase was given but the key is not encrypted ({exc})"


def _digest(scheme: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA384() if SCHEMES[scheme].hash_name == "sha384" else hashes.SHA256()


def _rsa_padding(scheme: str) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if scheme == "rsassa-pss-sha256":
        # Salt length equal to the digest length, as the reference implementations sign.
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return padding.PKCS1v15()


def _nacl_to_cryptography(private: Any) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(bytes(private)[:32])


def _public_pem(private: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def _signer_for(private: Any, scheme: str | None, public_key: Key | None) -> CryptoSigner:
    """Wrap a cryptography private key, choosing the scheme and building the public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(private, ed25519.Ed25519PrivateKey):
        from nacl.signing import SigningKey

        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        nacl_key = SigningKey(raw)
        keytype, chosen = "ed25519", scheme or "ed25519"
        public, holder = bytes(nacl_key.verify_key).hex(), cast(Any, nacl_key)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        size = private.curve.key_size
        if size not in (256, 384):
            raise ConfigError(f"ECDSA curve {private.curve.name} is not supported")
        keytype, chosen = "ecdsa", scheme or f"ecdsa-sha2-nistp{size}"
        public, holder = _public_pem(private), private
        if chosen != f"ecdsa-sha2-nistp{size}":
            raise ConfigError(f"scheme {chosen} does not fit a {private.curve.name} key")
    elif isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < 2048:
            raise ConfigError(f"RSA keys must have at least 2048 bits, not {private.key_size}")
        keytype, chosen = "rsa", scheme or "rsassa-pss-sha256"
        public, holder = _public_pem(private), private
    else:
        raise ConfigError(f"unsupported private key type {type(private).__name__}")
    if chosen not in SCHEMES or keytype not in SCHEMES[chosen].keytypes:
        raise ConfigError(f"scheme {chosen!r} cannot be used with a {keytype} key")
    key = Key.from_public(keytype, chosen, public)
    if public_key is not None:
        if public_key.identity() != key.identity():
            raise ConfigError(f"private key does not match public key {public_key.keyid[:16]}")
        key = public_key
    return CryptoSigner(holder, key)


def generate(keytype: str = "ed25519", *, scheme: str | None = None) -> CryptoSigner:
    """Generate a new private key.

    Args:
        keytype: ``"ed25519"``, ``"ecdsa"`` or ``"rsa"``.
        scheme: for ecdsa, ``"ecdsa-sha2-nistp256"`` (default) or ``"ecdsa-sha2-nistp384"``;
            for rsa, ``"rsassa-pss-sha256"`` (default) or ``"rsa-pkcs1v15-sha256"``.

    Raises:
        ConfigError: unknown key type or a scheme that does not fit it.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    chosen = scheme or DEFAULT_SCHEMES.get(keytype)
    if (
        keytype not in DEFAULT_SCHEMES  # a legacy keytype is read, never generated
        or chosen is None
        or chosen not in SCHEMES
        or keytype not in SCHEMES[chosen].keytypes
    ):
        known = ", ".join(DEFAULT_SCHEMES)
        raise ConfigError(f"cannot generate a {keytype!r} key with scheme {chosen!r} ({known})")
    private: Any
    if keytype == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif keytype == "ecdsa":
        curve = ec.SECP384R1() if chosen.endswith("384") else ec.SECP256R1()
        private = ec.generate_private_key(curve)
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return _signer_for(private, chosen, None)
