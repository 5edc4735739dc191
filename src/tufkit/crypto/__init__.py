"""Keys and signatures: public keys in TUF's format, signers, key generation, signer URIs.

Supported schemes, named as securesystemslib names them: ``ed25519``; ``ecdsa-sha2-nistp256``,
``-nistp384`` and ``-nistp521`` (keytype ``ecdsa`` or the legacy keytype equal to the scheme; DER
signatures); ``rsassa-pss-sha256/384/512`` and ``rsa-pkcs1v15-sha256/384/512``; ``ml-dsa-44/1``,
``ml-dsa-65/1`` and ``ml-dsa-87/1`` (keytype ``ml-dsa``, TUF TAP 21). Keys of other types are read
and verify nothing. :meth:`Key.identity` is the key material thresholds count. This package knows
nothing of metadata, roles or thresholds.
"""

from tufkit.crypto._key import Key, Signature
from tufkit.crypto._schemes import SCHEMES, SchemeInfo
from tufkit.crypto._signer import DEFAULT_SCHEMES, CryptoSigner, Signer, generate
from tufkit.crypto._uri import PassphrasePrompt, SignerFactory, SignerRegistry, signer_from_uri

__all__ = [
    "DEFAULT_SCHEMES",
    "SCHEMES",
    "CryptoSigner",
    "Key",
    "PassphrasePrompt",
    "SchemeInfo",
    "Signature",
    "Signer",
    "SignerFactory",
    "SignerRegistry",
    "generate",
    "signer_from_uri",
]
