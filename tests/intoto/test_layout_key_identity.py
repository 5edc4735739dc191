"""layout_key_identity: the key material a step threshold counts, for every kind of layout key."""

from __future__ import annotations

from typing import Any

import pytest

from tufkit.crypto import generate
from tufkit.intoto._keys import key_to_layout_dict, layout_key_identity


def _gpg_rsa_dict(signer: Any, *, pad: int = 0) -> dict[str, Any]:
    numbers = signer._private.public_key().public_numbers()
    return {
        "keyid": "ab" * 20,
        "type": "rsa",
        "method": "pgp+rsa-pkcsv1.5",
        "hashes": ["pgp+SHA2"],
        "keyval": {"private": "", "public": {"n": "0" * pad + f"{numbers.n:x}", "e": "010001"}},
    }


@pytest.mark.parametrize("keytype", ["ed25519", "ecdsa", "rsa", "ml-dsa"])
def test_spellings_of_one_key_are_one_identity(keytype: str) -> None:
    signer = generate(keytype)
    listed = key_to_layout_dict(signer.public_key)
    public = listed["keyval"]["public"]
    other = public.upper() if keytype == "ed25519" else "text before\n" + public
    respelt = {**listed, "keyval": {"public": other}, "keyid": "cd" * 32}
    assert layout_key_identity(listed["keyid"], listed) == signer.public_key.identity()
    assert layout_key_identity("cd" * 32, respelt) == signer.public_key.identity()
    assert layout_key_identity("ef" * 32, key_to_layout_dict(generate(keytype).public_key)) != (
        signer.public_key.identity()
    )


def test_openpgp_key_is_identified_by_its_material() -> None:
    signer = generate("rsa")
    plain = _gpg_rsa_dict(signer)
    padded = {**_gpg_rsa_dict(signer, pad=4), "keyid": "cd" * 20}
    assert layout_key_identity("ab" * 20, plain) == layout_key_identity("cd" * 20, padded)
    # the same RSA key as an OpenPGP key and as a PEM key is one key
    assert layout_key_identity("ab" * 20, plain) == signer.public_key.identity()
    assert layout_key_identity("ab" * 20, plain) != layout_key_identity(
        "ab" * 20, _gpg_rsa_dict(generate("rsa"))
    )


@pytest.mark.parametrize(
    "key",
    [
        {"keytype": "sigstore-oidc", "scheme": "Fulcio", "keyval": {"identity": "x"}},
        {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "zz"}},
        {"keytype": "ed25519"},
        {"type": "rsa", "method": "pgp+rsa-pkcsv1.5", "keyval": {"public": {"n": "xyz"}}},
        {"type": "elgamal", "method": "pgp+elgamal", "keyval": {"public": {}}},
    ],
)
def test_unusable_keys_are_their_own_identity(key: dict[str, Any]) -> None:
    assert layout_key_identity("ab" * 32, key) == ("unusable", "ab" * 32)
    assert layout_key_identity("cd" * 32, key) != layout_key_identity("ab" * 32, key)


@pytest.mark.parametrize("scheme", ["ml-dsa-44/1", "ml-dsa-65/1", "ml-dsa-87/1"])
def test_ml_dsa_pem_public_key_loads_as_securesystemslib_does(scheme: str) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer._key import SSlibKey

    from tufkit.intoto._keys import load_public_key_pem

    signer = generate("ml-dsa", scheme=scheme)
    pem = signer.public_pem()
    ours = load_public_key_pem(pem)
    theirs = SSlibKey.from_crypto(load_pem_public_key(pem))
    assert (ours.keyid, ours.to_dict()) == (theirs.keyid, theirs.to_dict())


def test_step_thresholds_count_one_openpgp_key_spelt_two_ways_once() -> None:
    """The verifier's own identity (what a step threshold counts) is the material too: the same
    OpenPGP RSA key with its modulus zero-padded and in capitals is one functionary."""
    from tufkit.intoto._verify import _key_identity

    signer = generate("rsa")
    plain = _gpg_rsa_dict(signer)
    respelt = _gpg_rsa_dict(signer, pad=4)
    respelt["keyval"]["public"]["n"] = respelt["keyval"]["public"]["n"].upper()
    respelt["keyid"] = "cd" * 20
    assert _key_identity("label-a", plain) == _key_identity("label-b", respelt)
    assert _key_identity("label-a", plain) != _key_identity("x", _gpg_rsa_dict(generate("rsa")))
