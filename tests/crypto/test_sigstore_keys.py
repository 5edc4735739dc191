"""Sigstore-signed TUF metadata (the optional ``sigstore`` extra), verified offline.

``data/tuf-on-ci-sigstore-test.root.json`` is real signed data: ``metadata/root.json`` of the public
repository jku/tuf-on-ci-sigstore-test (commit 4fa729be72abbae0d47af6bbdf74a0d890eed54c), version
1 of a tuf-on-ci root whose root role is one ``sigstore-oidc`` key (jkukkonen@google.com, issued by
https://accounts.google.com), signed on 2023-11-02 with a Sigstore bundle (Fulcio certificate,
Rekor entry with inclusion promise and proof). Nothing here touches the network.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tufkit.crypto import Key, Signature
from tufkit.errors import UnsignedMetadataError
from tufkit.metadata import Metadata, Root

DATA = Path(__file__).parent / "data" / "tuf-on-ci-sigstore-test.root.json"
ROOT_KEYID = "dd6a1c7bf90a35cf1548953f3a059137cf3042b776b8415337b17c6e9a7f353a"


def _document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_bytes())
    return data


def _verified(document: dict[str, Any]) -> bool:
    md = Metadata.from_bytes(json.dumps(document).encode())
    root = md.signed
    assert isinstance(root, Root)
    result = root.get_verification_result("root", md.verification_payload, md.signatures)
    try:
        root.verify_delegate("root", md.verification_payload, md.signatures)
    except UnsignedMetadataError:
        assert not result.verified
        return False
    assert result.verified
    return True


def test_real_sigstore_signed_root_verifies_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path))
    assert _verified(_document())
    assert list(tmp_path.iterdir()) == []  # no trust root cache written anywhere


def test_the_python_tuf_oracle_reads_it_the_same() -> None:
    """python-tuf (with SigstoreKey registered, as tuf-on-ci does) computes the same payload; its
    own verification needs Sigstore's online trust root update, so it cannot run here."""
    from securesystemslib.signer._key import KEY_FOR_TYPE_AND_SCHEME
    from securesystemslib.signer._sigstore_signer import SigstoreKey
    from tuf.api.metadata import Metadata as RefMetadata

    KEY_FOR_TYPE_AND_SCHEME.setdefault(("sigstore-oidc", "Fulcio"), SigstoreKey)
    ref = RefMetadata.from_bytes(DATA.read_bytes())
    ours = Metadata.from_bytes(DATA.read_bytes())
    assert ref.signed_bytes == ours.verification_payload


def test_tampered_payload_does_not_verify() -> None:
    document = _document()
    document["signed"]["version"] = 2
    assert not _verified(document)
    document = _document()
    document["signed"]["roles"]["root"]["threshold"] = 1  # unchanged value: still verifies
    assert _verified(document)
    document["signed"]["x-extra"] = "added"
    assert not _verified(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("identity", "someone.else@google.com"),
        ("identity", "JKUKKONEN@google.com"),
        ("issuer", "https://github.com/login/oauth"),
        ("issuer", "https://accounts.google.com/"),
        ("identity", ""),
        ("issuer", 7),
    ],
)
def test_another_identity_or_issuer_does_not_verify(field: str, value: object) -> None:
    document = _document()
    document["signed"]["keys"][ROOT_KEYID]["keyval"][field] = value
    assert not _verified(document)


def _bundle_variants() -> list[tuple[str, object]]:
    bundle = _document()["signatures"][0]["bundle"]
    no_tlog = copy.deepcopy(bundle)
    no_tlog["verificationMaterial"]["tlogEntries"] = []
    other_sig = copy.deepcopy(bundle)
    other_sig["messageSignature"]["signature"] = "MEUCIQ" + "A" * 90
    other_digest = copy.deepcopy(bundle)
    other_digest["messageSignature"]["messageDigest"]["digest"] = "A" * 43 + "="
    return [
        ("missing", None),
        ("not-an-object", "bundle"),
        ("empty", {}),
        ("wrong-media-type", {**bundle, "mediaType": "application/json"}),
        ("no-tlog-entry", no_tlog),
        ("other-signature", other_sig),
        ("other-digest", other_digest),
        ("deeply-nested", {"a": [[[[[[[[[[[]]]]]]]]]]]}),
    ]


@pytest.mark.parametrize(("name", "bundle"), _bundle_variants(), ids=lambda v: str(v)[:20])
def test_a_missing_or_altered_bundle_does_not_verify(name: str, bundle: object) -> None:
    document = _document()
    if bundle is None:
        del document["signatures"][0]["bundle"]
    else:
        document["signatures"][0]["bundle"] = bundle
    assert not _verified(document), name


def test_one_identity_under_two_keyids_counts_once() -> None:
    from tufkit.metadata import Role
    from tufkit.metadata._verification import count_signatures

    md = Metadata.from_bytes(DATA.read_bytes())
    assert isinstance(md.signed, Root)
    key = md.signed.keys[ROOT_KEYID]
    twin = Key.from_dict("ee" * 32, {**key.to_dict(), "x-copy": True})
    signature = md.signatures[ROOT_KEYID]
    signatures = {
        ROOT_KEYID: signature,
        "ee" * 32: Signature("ee" * 32, signature.signature, signature.unrecognized_fields),
    }
    assert twin.verify_signature(signatures["ee" * 32], md.verification_payload)
    assert twin.identity() == key.identity()
    keys = {ROOT_KEYID: key, "ee" * 32: twin}
    role = Role([ROOT_KEYID, "ee" * 32], 2)
    result = count_signatures("root", role, keys, md.verification_payload, signatures)
    assert len(result.signed) == 1
    assert not result.verified


def test_the_sigstore_key_verifies_only_signature_objects() -> None:
    document = _document()
    md = Metadata.from_bytes(DATA.read_bytes())
    key = Key.from_dict(ROOT_KEYID, document["signed"]["keys"][ROOT_KEYID])
    assert key.is_supported
    signature = md.signatures[ROOT_KEYID]
    assert key.verify_signature(signature, md.verification_payload)
    assert not key.verify_signature(signature.signature, md.verification_payload)
    assert not key.verify_signature(Signature(ROOT_KEYID, signature.signature), b"x")
