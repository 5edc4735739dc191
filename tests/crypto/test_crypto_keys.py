"""Keys and signatures: every scheme signs and verifies, interoperates with securesystemslib, and
bad keys or signatures verify nothing without raising."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.formats import encode_canonical as _sslib_encode_canonical
from securesystemslib.signer import Signature as RefSignature
from securesystemslib.signer import SSlibKey

from tufkit.crypto import SCHEMES, CryptoSigner, Key, Signature, generate
from tufkit.errors import ConfigError, FormatError


def reference_encode(doc: Any) -> str:
    """securesystemslib's canonical JSON as text (it returns None only with an output function)."""
    encoded = _sslib_encode_canonical(doc)
    assert encoded is not None
    return encoded


ALL_SCHEMES = sorted(SCHEMES)
PAYLOAD = b'{"_type":"targets","version":1}'


def test_every_scheme_has_a_pair(key_pairs: dict[str, Any]) -> None:
    assert set(key_pairs) == set(SCHEMES)


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_sign_and_verify(key_pairs: dict[str, Any], scheme: str) -> None:
    signer = key_pairs[scheme].tk
    signature = signer.sign(PAYLOAD)
    assert signature.keyid == signer.public_key.keyid
    assert signer.public_key.scheme == scheme
    assert signer.public_key.is_supported
    assert signer.public_key.verify_signature(signature, PAYLOAD)
    assert signer.public_key.verify_signature(signature.signature, PAYLOAD)
    assert not signer.public_key.verify_signature(signature, PAYLOAD + b" ")
    assert not signer.public_key.verify_signature(signature, b"")


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_keyid_and_key_dict_equal_reference(key_pairs: dict[str, Any], scheme: str) -> None:
    pair = key_pairs[scheme]
    assert pair.tk.public_key.to_dict() == pair.ref.public_key.to_dict()
    assert pair.tk.public_key.keyid == pair.ref.public_key.keyid


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_reference_signature_verifies_with_tufkit(key_pairs: dict[str, Any], scheme: str) -> None:
    pair = key_pairs[scheme]
    ref_sig = pair.ref.sign(PAYLOAD)
    key = Key.from_dict(pair.ref.public_key.keyid, pair.ref.public_key.to_dict())
    assert key.verify_signature(Signature(ref_sig.keyid, ref_sig.signature), PAYLOAD)
    assert not key.verify_signature(ref_sig.signature, PAYLOAD[:-1])


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_tufkit_signature_verifies_with_reference(key_pairs: dict[str, Any], scheme: str) -> None:
    pair = key_pairs[scheme]
    sig = pair.tk.sign(PAYLOAD)
    ref_key = SSlibKey.from_dict(pair.tk.public_key.keyid, pair.tk.public_key.to_dict())
    ref_key.verify_signature(RefSignature(sig.keyid, sig.signature), PAYLOAD)  # raises if bad


def test_pkcs1v15_and_pss_signatures_do_not_cross(key_pairs: dict[str, Any]) -> None:
    pss, pkcs = key_pairs["rsassa-pss-sha256"].tk, key_pairs["rsa-pkcs1v15-sha256"].tk
    assert not pss.public_key.verify_signature(pkcs.sign(PAYLOAD), PAYLOAD)
    assert not pkcs.public_key.verify_signature(pss.sign(PAYLOAD), PAYLOAD)


@pytest.mark.parametrize(
    "extra",
    [
        {"keyid_hash_algorithms": ["sha256", "sha512"]},
        {"keyid_hash_algorithms": "md5"},
        {"x-tuf-on-ci-keyowner": "@someone", "x-nested": {"a": [1, "\u2028"]}},
    ],
)
@pytest.mark.parametrize("scheme", ["ed25519", "ecdsa-sha2-nistp256", "rsassa-pss-sha256"])
def test_keyid_covers_extra_fields(
    key_pairs: dict[str, Any], scheme: str, extra: dict[str, Any]
) -> None:
    data = {**key_pairs[scheme].ref.public_key.to_dict(), **extra}
    expected = hashlib.sha256(reference_encode(data).encode()).hexdigest()
    key = Key.from_dict("whatever", data)
    assert key.compute_keyid() == expected
    assert key.to_dict() == data
    assert key.unrecognized_fields == extra
    built = Key.from_public(data["keytype"], data["scheme"], data["keyval"]["public"], extra=extra)
    assert built.keyid == expected
    # keyid_hash_algorithms and other extras never influence verification
    sig = key_pairs[scheme].tk.sign(PAYLOAD)
    assert key.verify_signature(sig, PAYLOAD)


def _pem(private: Any) -> str:
    return str(
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_legacy_ecdsa_keytype_and_hex_point(key_pairs: dict[str, Any]) -> None:
    signer = key_pairs["ecdsa-sha2-nistp256"].tk
    sig = signer.sign(PAYLOAD)
    legacy_pem = Key.from_public(
        "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", signer.public_key.public
    )
    assert legacy_pem.verify_signature(sig, PAYLOAD)
    private = signer._private
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    legacy_hex = Key.from_public("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", point.hex())
    assert legacy_hex.verify_signature(sig, PAYLOAD)
    assert not legacy_hex.verify_signature(sig, PAYLOAD + b"x")


def test_legacy_ecdsa_keytype_p384(key_pairs: dict[str, Any]) -> None:
    signer = key_pairs["ecdsa-sha2-nistp384"].tk
    legacy = Key.from_public("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384", signer.public_key.public)
    assert legacy.verify_signature(signer.sign(PAYLOAD), PAYLOAD)


def _bad_signatures(good: str) -> list[str]:
    return [
        "",
        "zz",
        "not hex at all",
        good[:-2],
        good[:-1],  # odd length
        good + "00",
        "00" * (len(good) // 2),
        good[:10] + ("0" if good[10] != "0" else "1") + good[11:],
        "\u00e9" * 8,
    ]


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_malformed_or_wrong_signatures_are_false(key_pairs: dict[str, Any], scheme: str) -> None:
    signer = key_pairs[scheme].tk
    good = signer.sign(PAYLOAD).signature
    for bad in _bad_signatures(good):
        assert signer.public_key.verify_signature(bad, PAYLOAD) is False, bad


def _other_key_publics() -> dict[str, str]:
    ed = ed25519.Ed25519PrivateKey.generate()
    raw = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "ed25519-hex": raw.hex(),
        "ed25519-pem": _pem(ed),
        "p256-pem": _pem(ec.generate_private_key(ec.SECP256R1())),
        "p384-pem": _pem(ec.generate_private_key(ec.SECP384R1())),
        "rsa1024-pem": _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
        "garbage-pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "short-hex": raw.hex()[:-2],
        "non-hex": "g" * 64,
        "empty": "",
        "non-ascii": "\u00e9" * 64,
    }


_UNUSABLE: list[tuple[str, str, str]] = [
    # (keytype, scheme, which public value)
    ("ed25519", "ed25519", "ed25519-pem"),
    ("ed25519", "ed25519", "short-hex"),
    ("ed25519", "ed25519", "non-hex"),
    ("ed25519", "ed25519", "empty"),
    ("ed25519", "ed25519", "non-ascii"),
    ("ecdsa", "ecdsa-sha2-nistp256", "p384-pem"),
    ("ecdsa", "ecdsa-sha2-nistp384", "p256-pem"),
    ("ecdsa", "ecdsa-sha2-nistp256", "ed25519-pem"),
    ("ecdsa", "ecdsa-sha2-nistp256", "garbage-pem"),
    ("ecdsa", "ecdsa-sha2-nistp256", "non-hex"),
    ("ecdsa", "ecdsa-sha2-nistp256", "non-ascii"),
    ("rsa", "rsassa-pss-sha256", "rsa1024-pem"),
    ("rsa", "rsassa-pss-sha256", "p256-pem"),
    ("rsa", "rsa-pkcs1v15-sha256", "garbage-pem"),
    ("rsa", "rsassa-pss-sha256", "non-ascii"),
    # mismatched keytype/scheme pairs and unknown schemes
    ("ed25519", "ecdsa-sha2-nistp256", "p256-pem"),
    ("rsa", "ed25519", "ed25519-hex"),
    ("ecdsa", "ed25519", "ed25519-hex"),
    ("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp256", "p256-pem"),
    ("ecdsa", "rsassa-pss-sha256", "p256-pem"),
    ("ed25519", "ed25519-ph", "ed25519-hex"),
    ("rsa", "rsassa-pss-sha512", "rsa1024-pem"),
    ("ecdsa", "ecdsa-sha2-nistp521", "p256-pem"),
    ("mldsa", "mldsa-65", "ed25519-hex"),
    ("", "", "ed25519-hex"),
]


@pytest.mark.parametrize(("keytype", "scheme", "which"), _UNUSABLE)
def test_unusable_keys_never_verify(keytype: str, scheme: str, which: str) -> None:
    public = _other_key_publics()[which]
    key = Key.from_public(keytype, scheme, public)
    assert key.is_supported is False
    assert key.verify_signature("00" * 64, PAYLOAD) is False
    assert key.verify_signature("", PAYLOAD) is False


def test_mismatched_scheme_rejects_a_real_signature(key_pairs: dict[str, Any]) -> None:
    ed = key_pairs["ed25519"].tk
    sig = ed.sign(PAYLOAD)
    key = Key.from_public("ed25519", "ecdsa-sha2-nistp256", ed.public_key.public)
    assert not key.verify_signature(sig, PAYLOAD)


@pytest.mark.parametrize(
    ("keytype", "scheme"),
    [
        ("dsa", None),
        ("", None),
        ("ED25519", None),
        ("ed25519", "ecdsa-sha2-nistp256"),
        ("ecdsa", "rsassa-pss-sha256"),
        ("rsa", "ed25519"),
        ("rsa", "rsassa-pss-sha224"),
        ("ml-dsa", "ecdsa-sha2-nistp256"),
        ("rsa", "ml-dsa-65/1"),
        ("ml-dsa", "ml-dsa-65"),
        ("ml-dsa-65", None),
        ("ed25519", "unknown"),
        ("ecdsa-sha2-nistp256", None),
        ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"),
    ],
)
def test_generate_refuses_unknown_or_mismatched(keytype: str, scheme: str | None) -> None:
    with pytest.raises(ConfigError, match=f"cannot generate a '{keytype}' key"):
        generate(keytype, scheme=scheme)


@pytest.mark.parametrize(
    ("keytype", "scheme"),
    [
        ("ed25519", None),
        ("ecdsa", None),
        ("ecdsa", "ecdsa-sha2-nistp384"),
        ("ecdsa", "ecdsa-sha2-nistp521"),
        ("rsa", "rsa-pkcs1v15-sha256"),
        ("rsa", "rsassa-pss-sha512"),
        ("ml-dsa", None),
        ("ml-dsa", "ml-dsa-44/1"),
        ("ml-dsa", "ml-dsa-87/1"),
    ],
)
def test_generate(keytype: str, scheme: str | None) -> None:
    signer = generate(keytype, scheme=scheme)
    key = signer.public_key
    assert key.keytype == keytype
    defaults = {"ed25519": "ed25519", "ecdsa": "ecdsa-sha2-nistp256", "ml-dsa": "ml-dsa-65/1"}
    assert key.scheme == (scheme or defaults[keytype])
    assert key.keyid == key.compute_keyid()
    assert key.verify_signature(signer.sign(PAYLOAD), PAYLOAD)
    # the private key round-trips through encrypted PKCS#8
    pem = signer.private_pem(b"secret")
    assert b"ENCRYPTED" in pem
    again = CryptoSigner.from_private_pem(pem, b"secret", scheme=key.scheme)
    assert again.public_key == key
    assert key.verify_signature(again.sign(PAYLOAD), PAYLOAD)
    # without being told, the loaded key keeps its scheme, hence its keyid
    assert CryptoSigner.from_private_pem(pem, b"secret").public_key == key


def test_from_private_pem_errors(key_pairs: dict[str, Any]) -> None:
    signer = key_pairs["ed25519"].tk
    encrypted = signer.private_pem(b"pw")
    plain = signer.private_pem(None)
    with pytest.raises(ConfigError, match="no passphrase"):
        CryptoSigner.from_private_pem(encrypted, None)
    with pytest.raises(ConfigError):
        CryptoSigner.from_private_pem(encrypted, b"wrong")
    with pytest.raises(ConfigError, match="not encrypted"):
        CryptoSigner.from_private_pem(plain, b"pw")
    with pytest.raises(ConfigError):
        CryptoSigner.from_private_pem(b"not a pem", None)
    other = key_pairs["ecdsa-sha2-nistp256"].tk.public_key
    with pytest.raises(ConfigError, match="does not match"):
        CryptoSigner.from_private_pem(plain, None, public_key=other)
    with pytest.raises(ConfigError):
        CryptoSigner.from_private_pem(plain, None, scheme="rsassa-pss-sha256")


def test_from_private_pem_keeps_the_metadata_key(key_pairs: dict[str, Any]) -> None:
    signer = key_pairs["ed25519"].tk
    listed = Key.from_public(
        "ed25519", "ed25519", signer.public_key.public, extra={"x-owner": "me"}
    )
    loaded = CryptoSigner.from_private_pem(signer.private_pem(None), None, public_key=listed)
    assert loaded.public_key is listed
    assert loaded.sign(PAYLOAD).keyid == listed.keyid


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "must be an object"),
        ({"scheme": "ed25519", "keyval": {"public": "ab"}}, "keytype"),
        ({"keytype": 1, "scheme": "ed25519", "keyval": {"public": "ab"}}, "keytype"),
        ({"keytype": "ed25519", "keyval": {"public": "ab"}}, "scheme"),
        ({"keytype": "ed25519", "scheme": None, "keyval": {"public": "ab"}}, "scheme"),
        ({"keytype": "ed25519", "scheme": "ed25519"}, "keyval"),
        ({"keytype": "ed25519", "scheme": "ed25519", "keyval": "ab"}, "keyval"),
    ],
)
def test_key_from_dict_rejects(data: Any, field: str) -> None:
    with pytest.raises(FormatError, match=field):
        Key.from_dict("k" * 64, data)


def test_key_equality_and_identity(key_pairs: dict[str, Any]) -> None:
    key = key_pairs["ed25519"].tk.public_key
    same = Key.from_dict(key.keyid, key.to_dict())
    assert same == key
    assert hash(same) == hash(key)
    renamed = Key.from_public(key.keytype, key.scheme, key.public, extra={"x": 1})
    assert renamed != key
    assert renamed.identity() == key.identity()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("x", "must be an object"),
        ({"sig": "00"}, "keyid"),
        ({"keyid": 1, "sig": "00"}, "keyid"),
        ({"keyid": "a"}, "sig"),
        ({"keyid": "a", "sig": None}, "sig"),
    ],
)
def test_signature_from_dict_rejects(data: Any, field: str) -> None:
    with pytest.raises(FormatError, match=field):
        Signature.from_dict(data)


def test_signature_round_trip_keeps_extras() -> None:
    data = {"keyid": "ab", "sig": "cd", "x-extra": [1]}
    assert Signature.from_dict(data).to_dict() == data
