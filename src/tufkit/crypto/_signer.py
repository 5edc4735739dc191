"""Signers: the private half. A :class:`Signer` signs bytes and knows its public :class:`Key`.

:class:`CryptoSigner` holds a private key in memory (ed25519, ECDSA P-256/P-384/P-521, RSA,
ML-DSA-44/65/87). It is created by :func:`generate`, or loaded from PKCS#8 PEM. A PEM written by
:meth:`CryptoSigner.private_pem` starts with a ``tufkit-key-scheme: NAME`` line before the PEM
block (RFC 7468 lets parsers ignore text there), so a key keeps its scheme, and with it its
keyid, across save and load. This module does not find keys: URIs and files are resolved in
``_uri.py``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from tufkit.crypto._key import Key, Signature
from tufkit.crypto._schemes import SCHEMES, SchemeInfo, hash_algorithm, mldsa_message
from tufkit.errors import ConfigError, UnsupportedAlgorithmError

__all__ = ["DEFAULT_SCHEMES", "CryptoSigner", "Signer", "generate", "recorded_scheme"]

#: The scheme tufkit uses for each key type given to ``tufkit key generate --type``.
DEFAULT_SCHEMES = {
    "ed25519": "ed25519",
    "ecdsa": "ecdsa-sha2-nistp256",
    "rsa": "rsassa-pss-sha256",
    "ml-dsa": "ml-dsa-65/1",
}

#: The text line before the PEM block that records the key's scheme.
SCHEME_LINE_PREFIX = b"tufkit-key-scheme: "


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
        info = SCHEMES[self._public.scheme]
        raw: bytes
        if info.family == "ed25519":
            raw = self._private.sign(payload).signature
        elif info.family == "ml-dsa":
            raw = self._private.sign(mldsa_message(payload))
        elif info.family == "ecdsa":
            from cryptography.hazmat.primitives.asymmetric import ec

            raw = self._private.sign(payload, ec.ECDSA(hash_algorithm(info.hash_name)))
        else:
            digest = hash_algorithm(info.hash_name)
            raw = self._private.sign(payload, _rsa_padding(info, digest), digest)
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
            scheme: the scheme to sign with; defaults to the scheme the file records (a
                ``tufkit-key-scheme:`` line before the PEM block), else the key type's usual
                scheme.
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
        if scheme is None and public_key is None:
            scheme = recorded_scheme(pem)
        return _signer_for(private, scheme, public_key)

    def private_pem(self, password: bytes | None) -> bytes:
        """Export the private key as PKCS#8 PEM, encrypted with *password* unless None.

        The PEM block is preceded by a ``tufkit-key-scheme:`` line naming the scheme, which
        :meth:`from_private_pem` reads back; other PEM readers (OpenSSL, ``cryptography``)
        ignore it.
        """
        from cryptography.hazmat.primitives import serialization

        encryption: Any = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        private = self._private
        if self._public.scheme == "ed25519":
            private = _nacl_to_cryptography(private)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        return SCHEME_LINE_PREFIX + self._public.scheme.encode("ascii") + b"\n" + bytes(pem)

    def public_pem(self) -> bytes:
        """The public key as PEM ``SubjectPublicKeyInfo`` (what in-toto's key files hold)."""
        private = self._private
        if self._public.scheme == "ed25519":
            private = _nacl_to_cryptography(private)
        return _public_pem(private).encode("ascii")


def recorded_scheme(pem: bytes) -> str | None:
    """The scheme a ``tufkit-key-scheme:`` line before the PEM block names, if any.

    Raises:
        ConfigError: the line names a scheme tufkit does not know.
    """
    head = pem.split(b"-----BEGIN", 1)[0]
    for line in head.splitlines():
        if line.startswith(SCHEME_LINE_PREFIX):
            name = line[len(SCHEME_LINE_PREFIX) :].strip().decode("ascii", "replace")
            if name not in SCHEMES:
                raise ConfigError(f"key file records an unknown scheme {name!r:.80}")
            return name
    return None


def _password_problem(exc: Exception, password: bytes | None) -> str:
    if password is None:
        return "the key is encrypted and no passphrase was given"
    return f"a passphrase was given but the key is not encrypted ({exc})"


def _rsa_padding(info: SchemeInfo, digest: Any) -> Any:
    from cryptography.hazmat.primitives.asymmetric import padding

    if info.scheme.startswith("rsassa-pss"):
        # Salt length equal to the digest length, as the reference implementations sign.
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
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
    keytype, default, public, holder = _describe_private(private)
    if scheme is None and public_key is not None:
        listed = SCHEMES.get(public_key.scheme)
        if listed is not None and keytype in listed.keytypes:
            scheme = public_key.scheme  # sign as the metadata key says
    chosen = scheme or default
    info = SCHEMES.get(chosen)
    if info is None or keytype not in info.keytypes:
        raise ConfigError(f"scheme {chosen!r:.80} cannot be used with a {keytype} key")
    if info.family in ("ecdsa", "ml-dsa") and chosen != default:
        raise ConfigError(f"scheme {chosen} does not fit this {keytype} key ({default})")
    key = Key.from_public(keytype, chosen, public)
    if public_key is not None:
        if public_key.identity() != key.identity():
            raise ConfigError(f"private key does not match public key {public_key.keyid[:16]}")
        key = public_key
    return CryptoSigner(holder, key)


def _describe_private(private: Any) -> tuple[str, str, str, Any]:
    """(keytype, the scheme its parameters fix or its usual one, public value, signing object).

    Raises:
        ConfigError: a key type, curve or size tufkit does not sign with.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

    if isinstance(private, ed25519.Ed25519PrivateKey):
        from nacl.signing import SigningKey

        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        nacl_key = SigningKey(raw)
        return "ed25519", "ed25519", bytes(nacl_key.verify_key).hex(), nacl_key
    if isinstance(private, ec.EllipticCurvePrivateKey):
        size = private.curve.key_size
        if size not in (256, 384, 521):
            raise ConfigError(f"ECDSA curve {private.curve.name} is not supported")
        return "ecdsa", f"ecdsa-sha2-nistp{size}", _public_pem(private), private
    if isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < 2048:
            raise ConfigError(f"RSA keys must have at least 2048 bits, not {private.key_size}")
        return "rsa", DEFAULT_SCHEMES["rsa"], _public_pem(private), private
    levels = {
        mldsa.MLDSA44PrivateKey: 44,
        mldsa.MLDSA65PrivateKey: 65,
        mldsa.MLDSA87PrivateKey: 87,
    }
    for cls, level in levels.items():
        if isinstance(private, cls):
            return "ml-dsa", f"ml-dsa-{level}/1", _public_pem(private), private
    raise ConfigError(f"unsupported private key type {type(private).__name__}")


def generate(keytype: str = "ed25519", *, scheme: str | None = None) -> CryptoSigner:
    """Generate a new private key.

    Args:
        keytype: ``"ed25519"``, ``"ecdsa"``, ``"rsa"`` or ``"ml-dsa"``.
        scheme: any scheme of :data:`SCHEMES` valid with *keytype*; the key type's entry in
            :data:`DEFAULT_SCHEMES` if None. For ecdsa the scheme picks the curve
            (``ecdsa-sha2-nistp256``, ``-nistp384``, ``-nistp521``), for ml-dsa the parameter
            set (``ml-dsa-44/1``, ``ml-dsa-65/1``, ``ml-dsa-87/1``); RSA keys have 3072 bits.

    Raises:
        ConfigError: unknown key type or a scheme that does not fit it.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

    chosen = scheme or DEFAULT_SCHEMES.get(keytype)
    info = SCHEMES.get(chosen or "")
    if (
        keytype not in DEFAULT_SCHEMES  # a legacy keytype is read, never generated
        or info is None
        or keytype not in info.keytypes
    ):
        known = ", ".join(DEFAULT_SCHEMES)
        raise ConfigError(f"cannot generate a {keytype!r} key with scheme {chosen!r} ({known})")
    private: Any
    if info.family == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif info.family == "ecdsa":
        curves: dict[str | None, Any] = {
            "secp256r1": ec.SECP256R1,
            "secp384r1": ec.SECP384R1,
            "secp521r1": ec.SECP521R1,
        }
        private = ec.generate_private_key(curves[info.curve]())
    elif info.family == "ml-dsa":
        classes: dict[int | None, Any] = {
            44: mldsa.MLDSA44PrivateKey,
            65: mldsa.MLDSA65PrivateKey,
            87: mldsa.MLDSA87PrivateKey,
        }
        private = classes[info.parameter_set].generate()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return _signer_for(private, info.scheme, None)
