"""Shared fixtures: one private key per scheme, usable both by tufkit and by the reference.

``key_pairs`` holds, per scheme, a tufkit signer and a securesystemslib signer built from the
same private key, so tests can sign with one library and verify with the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("tufkit", max_examples=100, deadline=None)
settings.load_profile("tufkit")


@dataclass(frozen=True)
class KeyPair:
    """The same private key as a tufkit signer and as a securesystemslib signer."""

    scheme: str
    tk: Any  # tufkit.crypto.CryptoSigner
    ref: Any  # securesystemslib.signer.CryptoSigner


def _private_key(scheme: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

    if scheme == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    curves: dict[str, Any] = {
        "ecdsa-sha2-nistp256": ec.SECP256R1,
        "ecdsa-sha2-nistp384": ec.SECP384R1,
        "ecdsa-sha2-nistp521": ec.SECP521R1,
    }
    if scheme in curves:
        return ec.generate_private_key(curves[scheme]())
    mldsa_keys: dict[str, Any] = {
        "ml-dsa-44/1": mldsa.MLDSA44PrivateKey,
        "ml-dsa-65/1": mldsa.MLDSA65PrivateKey,
        "ml-dsa-87/1": mldsa.MLDSA87PrivateKey,
    }
    if scheme in mldsa_keys:
        return mldsa_keys[scheme].generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_pair(scheme: str, private: Any = None) -> KeyPair:
    """Build a :class:`KeyPair` for *scheme* (a new key unless *private* is given)."""
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import CryptoSigner as RefSigner
    from securesystemslib.signer import SSlibKey

    from tufkit.crypto import CryptoSigner

    private = private if private is not None else _private_key(scheme)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tk = CryptoSigner.from_private_pem(pem, None, scheme=scheme)
    ref = RefSigner(private, SSlibKey.from_crypto(private.public_key(), scheme=scheme))
    return KeyPair(scheme, tk, ref)


SCHEME_NAMES = (
    "ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    *(
        f"{pad}-{h}"
        for pad in ("rsassa-pss", "rsa-pkcs1v15")
        for h in ("sha256", "sha384", "sha512")
    ),
    "ml-dsa-44/1",
    "ml-dsa-65/1",
    "ml-dsa-87/1",
)


@pytest.fixture(scope="session")
def pair_factory() -> Any:
    """:func:`make_pair`, for tests that need a key pair of their own."""
    return make_pair


@pytest.fixture(scope="session")
def key_pairs() -> dict[str, KeyPair]:
    """One key pair per supported scheme (the RSA schemes share one RSA key)."""
    rsa_key = _private_key("rsassa-pss-sha256")
    return {
        name: make_pair(name, rsa_key if name.startswith("rsa") else None) for name in SCHEME_NAMES
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/integration/ start real processes: marked, so ``make unit`` skips them."""
    for item in items:
        if "integration" in item.path.parts[-4:-1]:
            item.add_marker(pytest.mark.integration)
