"""Ed25519 above 16 MiB (OpenSSL path) agrees with the small-message path (libsodium)."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from tufkit.crypto import Key

LARGE = b"x" * (17 << 20)  # above the 16 MiB switch
SMALL = b"x" * 1000

# Small-order points (encodings of points of order 1, 2, 4, 8): a key or R built from them lets
# one signature verify for many messages under the cofactorless equation.
SMALL_ORDER = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
]


def _key(public: bytes) -> Key:
    return Key.from_public("ed25519", "ed25519", public.hex())


@pytest.mark.parametrize("message", [SMALL, LARGE], ids=["1KB", "17MiB"])
def test_valid_signature_verifies_on_both_paths(message: bytes) -> None:
    signing = SigningKey(bytes(range(32)))
    key = _key(bytes(signing.verify_key))
    signature = signing.sign(message).signature.hex()
    assert key.verify_signature(signature, message)
    assert not key.verify_signature(signature, message + b"y")
    tweaked = bytes([signature_byte ^ 1 for signature_byte in bytes.fromhex(signature)[:1]])
    assert not key.verify_signature(tweaked.hex() + signature[2:], message)


@pytest.mark.parametrize("message", [SMALL, LARGE], ids=["1KB", "17MiB"])
@pytest.mark.parametrize("point", SMALL_ORDER, ids=["identity", "one", "order2", "order8"])
def test_small_order_key_with_identity_signature_is_refused(message: bytes, point: bytes) -> None:
    # R = identity and S = 0 satisfies [S]B = R + [k]A for small-order A and many k.
    signature = (bytes([1]) + bytes(31) + bytes(32)).hex()
    assert not _key(point).verify_signature(signature, message)


@pytest.mark.parametrize("message", [SMALL, LARGE], ids=["1KB", "17MiB"])
@pytest.mark.parametrize("point", SMALL_ORDER, ids=["identity", "one", "order2", "order8"])
def test_small_order_r_is_refused(message: bytes, point: bytes) -> None:
    signing = SigningKey(bytes(range(32)))
    key = _key(bytes(signing.verify_key))
    assert not key.verify_signature((point + bytes(32)).hex(), message)
