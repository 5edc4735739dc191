"""OpenPGP link signatures gpg would not count: tufkit refuses them, with the reason.

The reference (in-toto 3.1.0 over securesystemslib) accepts each of these; gpg does not, and
``gpg --verify`` of the very same signature packet over the very same bytes is asked where it
can judge. Keys, subkeys, revocations and expiry come from the real gpg binary (with
``--faked-system-time`` for the past); what gpg will not make (a signature of the wrong type,
a header naming another hash algorithm, an unknown critical subpacket, a signature by an
encryption-only subkey, a binding without cross-certification) is written by ``openpgp_craft``
with the secret keys gpg exported.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gpg_env import GpgHomes, Keyring, gpg, gpg_status
from openpgp_craft import (
    Crafted,
    SecretKey,
    read_signature,
    rebind,
    secret_keys,
    signature,
    subpacket,
)

from conftest import KeyFiles
from tufkit.errors import ConfigError
from tufkit.intoto import (
    GpgKeyExpiredError,
    Layout,
    Link,
    Metablock,
    SignatureVerificationError,
    Step,
    VerifyOptions,
    export_gpg_key,
    get_verification_result,
    key_to_layout_dict,
    load_private_key_file,
    write_metadata,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(
        shutil.which("gpg") is None and os.environ.get("CI") != "true",
        reason="gpg is not installed",
    ),
]

DAY = 86400
# Not GOODSIG: what gpg says of a signature it does not count.
GPG_REFUSES = {"BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG"}


@dataclass
class Signer:
    """One key made ten days ago: primary, signing subkey, encryption subkey, signing sibling."""

    ring: Keyring
    fprs: list[str]
    secrets: list[SecretKey]
    made: int

    @property
    def home(self) -> Path:
        return self.ring.home


def _secrets_in_order(ring: Keyring, fprs: list[str]) -> list[SecretKey]:
    found = {key.fingerprint: key for key in secret_keys(ring.export_secret(fprs[0]))}
    return [found[fpr.lower()] for fpr in fprs]


@pytest.fixture(scope="module")
def signer(gpg_homes: GpgHomes) -> Iterator[Signer]:
    ring = Keyring(gpg_homes.new("craft"))
    made = int(time.time()) - 10 * DAY
    specs = ("rsa2048 sign never", "rsa2048 encr never", "rsa2048 sign never")
    ring.add("craft", "rsa2048", "never", *specs, faked_time=made)
    fprs = ring.keys["craft"]
    yield Signer(ring, fprs, _secrets_in_order(ring, fprs), made)
    gpg_homes.stop(ring.home)


@pytest.fixture
def fresh_ring(gpg_homes: GpgHomes) -> Iterator[Keyring]:
    ring = Keyring(gpg_homes.new("refusal"))
    yield ring
    gpg_homes.stop(ring.home)


def _link() -> Metablock:
    return Metablock(Link(name="build", products={"f": {"sha256": "ab" * 32}}))


def _reference_key(keyid: str, home: Path) -> dict[str, Any]:
    from securesystemslib._gpg.functions import export_pubkey

    key: dict[str, Any] = export_pubkey(keyid, homedir=str(home))  # type: ignore[no-untyped-call]
    return key


def _verify_both(
    directory: Path,
    owner: KeyFiles,
    link: Metablock,
    link_keyid: str,
    *,
    ours_key: dict[str, Any],
    ref_key: dict[str, Any],
    pubkeys: list[str],
) -> tuple[bool, bool]:
    """(tufkit's verdict, the reference's) on a one-step layout; each with its own key export."""
    from in_toto.models.metadata import Metadata as RefMetadata
    from in_toto.verifylib import in_toto_verify

    write_metadata(directory / f"build.{link_keyid[:8]}.link", link)
    private = load_private_key_file(owner.private, None)
    verdicts = []
    for side, key in (("ours", ours_key), ("ref", ref_key)):
        layout = Metablock(
            Layout(steps=[Step(name="build", pubkeys=pubkeys)], keys={key["keyid"]: key})
        )
        layout.sign(private)
        if side == "ours":
            options = VerifyOptions(link_dir=directory)
            verdicts.append(get_verification_result(layout, [private.public_key], options).ok)
            continue
        write_metadata(directory / "root.layout", layout)
        try:
            in_toto_verify(
                RefMetadata.load(str(directory / "root.layout")),
                {private.public_key.keyid: key_to_layout_dict(private.public_key)},
                str(directory),
            )
            verdicts.append(True)
        except Exception:
            verdicts.append(False)
    return verdicts[0], verdicts[1]


def _signed(link: Metablock, crafted: Crafted) -> Metablock:
    link.signatures = [crafted.entry()]
    return link


@dataclass(frozen=True)
class BadSignature:
    """A data signature gpg does not count, and the reason tufkit gives."""

    name: str
    reason: str
    sig_type: int = 0x00
    header_hash: str = "sha256"
    hashed: bytes = b""
    created_after_key: int = DAY


SIGNATURE_CASES = [
    BadSignature("certification 0x10", r"type 0x10 \(a user ID certification\)", sig_type=0x10),
    BadSignature("certification 0x13", r"type 0x13 \(a user ID certification\)", sig_type=0x13),
    BadSignature("subkey binding 0x18", r"type 0x18 \(a subkey binding", sig_type=0x18),
    BadSignature("key binding 0x19", r"type 0x19 \(a primary key binding", sig_type=0x19),
    BadSignature("header names SHA-1", "names hash algorithm SHA-1", header_hash="sha1"),
    BadSignature(
        "unknown critical subpacket",
        "critical subpacket of unknown type 99",
        hashed=subpacket(99, b"\x01", critical=True),
    ),
    BadSignature(
        "expired signature",
        "the signature expired at",
        # gpg marks the signature expiration time critical; a day, made eight days ago.
        hashed=subpacket(3, struct.pack(">I", DAY), critical=True),
        created_after_key=2 * DAY,
    ),
]


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[c.name for c in SIGNATURE_CASES])
def test_signatures_gpg_does_not_count_are_refused(
    case: BadSignature, signer: Signer, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    subkey = signer.secrets[1]
    link = _link()
    content = link.signed_bytes()
    crafted = signature(
        subkey,
        content,
        sig_type=case.sig_type,
        created=signer.made + case.created_after_key,
        hashed=case.hashed,
        header_hash=case.header_hash,
        used_hash="sha256",
    )
    status = gpg_status(signer.home, crafted.packet, content)
    assert "GOODSIG" not in status
    assert GPG_REFUSES & set(status), status
    key = export_gpg_key(signer.fprs[0], homedir=str(signer.home))
    with pytest.raises(SignatureVerificationError, match=case.reason):
        _signed(_link(), crafted).verify_signature(key["keyid"], key)
    ours, theirs = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, crafted),
        subkey.fingerprint,
        ours_key=key,
        ref_key=_reference_key(signer.fprs[0], signer.home),
        pubkeys=[key["keyid"]],
    )
    assert (ours, theirs) == (False, True)


def test_the_same_signature_made_right_counts_everywhere(
    signer: Signer, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    """The control for the cases above: only what each case changes makes it fail."""
    subkey = signer.secrets[1]
    link = _link()
    content = link.signed_bytes()
    expiring = subpacket(3, struct.pack(">I", 30 * DAY), critical=True)
    crafted = signature(subkey, content, created=signer.made + DAY, hashed=expiring)
    assert "GOODSIG" in gpg_status(signer.home, crafted.packet, content)
    key = export_gpg_key(signer.fprs[0], homedir=str(signer.home))
    ours, theirs = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, crafted),
        subkey.fingerprint,
        ours_key=key,
        ref_key=_reference_key(signer.fprs[0], signer.home),
        pubkeys=[key["keyid"]],
    )
    assert (ours, theirs) == (True, True)


def test_an_encryption_only_subkey_cannot_sign(
    signer: Signer, tmp_path: Path, keydir: dict[str, KeyFiles], caplog: pytest.LogCaptureFixture
) -> None:
    encryption = signer.secrets[2]
    link = _link()
    content = link.signed_bytes()
    crafted = signature(encryption, content, created=signer.made + DAY)
    status = gpg_status(signer.home, crafted.packet, content)
    assert "ERRSIG" in status
    assert "GOODSIG" not in status
    with pytest.raises(ConfigError, match=r"key flags \(0x0c\) do not allow signing"):
        export_gpg_key(encryption.fingerprint, homedir=str(signer.home))
    key = export_gpg_key(signer.fprs[0], homedir=str(signer.home))
    assert encryption.fingerprint not in key["subkeys"]
    assert f"{encryption.fingerprint} of {key['keyid']} left out" in caplog.text
    reference = _reference_key(signer.fprs[0], signer.home)
    assert encryption.fingerprint in reference["subkeys"]
    ours, theirs = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, crafted),
        encryption.fingerprint,
        ours_key=key,
        ref_key=reference,
        pubkeys=[key["keyid"]],
    )
    assert (ours, theirs) == (False, True)


@pytest.mark.parametrize("where", ["none", "unhashed", "hashed"])
def test_a_signing_subkey_needs_its_cross_certification(
    where: str,
    signer: Signer,
    gpg_homes: GpgHomes,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
) -> None:
    """The subkey bindings are re-made by the primary key without (or with) the 0x19 back
    signature, in the unhashed area (where gpg puts it) or the hashed one."""
    home = gpg_homes.new("rebound")
    try:
        exported = signer.ring.export(signer.fprs[0])
        rebound = rebind(exported, signer.secrets, signer.made + 600, cross_certify=where)
        gpg(home, "--import", data=rebound)
        link = _link()
        content = link.signed_bytes()
        made = read_signature(signer.ring.sign(signer.fprs[1], content), signer.fprs[1].lower())
        status = gpg_status(home, made.packet, content)
        key = export_gpg_key(signer.fprs[0], homedir=str(home))
        verdicts = _verify_both(
            tmp_path,
            keydir["alice"],
            _signed(link, made),
            made.keyid,
            ours_key=key,
            ref_key=_reference_key(signer.fprs[0], home),
            pubkeys=[key["keyid"]],
        )
        if where == "none":
            assert "ERRSIG" in status
            assert "GOODSIG" not in status
            with pytest.raises(ConfigError, match="no valid cross-certification"):
                export_gpg_key(signer.fprs[1], homedir=str(home))
            assert verdicts == (False, True)
        else:
            assert "GOODSIG" in status
            assert made.keyid in key["subkeys"]
            assert verdicts == (True, True)
    finally:
        gpg_homes.stop(home)


def test_a_revoked_subkey_cannot_sign(
    fresh_ring: Keyring, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    fpr = fresh_ring.add("revsub", "rsa2048", "never", "rsa2048 sign never")
    subkey = fresh_ring.keys["revsub"][1]
    link = _link()
    content = link.signed_bytes()
    made = read_signature(fresh_ring.sign(subkey, content), subkey.lower())
    fresh_ring.revoke_subkey("revsub", 1)
    status = gpg_status(fresh_ring.home, made.packet, content)
    assert "REVKEYSIG" in status
    assert "GOODSIG" not in status
    with pytest.raises(ConfigError, match="is revoked"):
        export_gpg_key(subkey, homedir=str(fresh_ring.home))
    key = export_gpg_key(fpr, homedir=str(fresh_ring.home))
    assert "subkeys" not in key
    verdicts = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, made),
        made.keyid,
        ours_key=key,
        ref_key=_reference_key(fpr, fresh_ring.home),
        pubkeys=[key["keyid"]],
    )
    assert verdicts == (False, True)


def test_a_subkey_of_an_expired_primary_key_cannot_sign(
    fresh_ring: Keyring, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    """Primary made ten days ago for five days; its subkey never expires by itself."""
    made = int(time.time()) - 10 * DAY
    fpr = fresh_ring.add("oldprimary", "rsa2048", "5d", "rsa2048 sign never", faked_time=made)
    subkey = fresh_ring.keys["oldprimary"][1]
    link = _link()
    content = link.signed_bytes()
    signed = fresh_ring.sign(subkey, content, faked_time=made + 2 * DAY)
    made_sig = read_signature(signed, subkey.lower())
    status = gpg_status(fresh_ring.home, made_sig.packet, content)
    assert "EXPKEYSIG" in status
    assert "GOODSIG" not in status
    key = export_gpg_key(fpr, homedir=str(fresh_ring.home))
    assert "validity_period" not in key["subkeys"][subkey.lower()]
    with pytest.raises(GpgKeyExpiredError, match="the primary key of subkey"):
        _signed(_link(), made_sig).verify_signature(key["keyid"], key)
    verdicts = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, made_sig),
        made_sig.keyid,
        ours_key=key,
        ref_key=_reference_key(fpr, fresh_ring.home),
        pubkeys=[key["keyid"]],
    )
    assert verdicts == (False, True)


def test_an_expired_ed25519_primary_key_cannot_sign(
    fresh_ring: Keyring, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    """The reference hashes packet headers into self-signatures, so it never sees the expiry
    of an Ed25519 primary key (a short packet): such a key would sign forever."""
    made = int(time.time()) - 10 * DAY
    fpr = fresh_ring.add("edexpired", "ed25519", "5d", faked_time=made)
    link = _link()
    content = link.signed_bytes()
    signed = read_signature(fresh_ring.sign(fpr, content, faked_time=made + DAY), fpr.lower())
    status = gpg_status(fresh_ring.home, signed.packet, content)
    assert "EXPKEYSIG" in status
    assert "GOODSIG" not in status
    key = export_gpg_key(fpr, homedir=str(fresh_ring.home))
    assert key["validity_period"] == 5 * DAY
    reference = _reference_key(fpr, fresh_ring.home)
    assert "validity_period" not in reference
    with pytest.raises(GpgKeyExpiredError, match="has expired"):
        _signed(_link(), signed).verify_signature(key["keyid"], key)
    verdicts = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, signed),
        signed.keyid,
        ours_key=key,
        ref_key=reference,
        pubkeys=[key["keyid"]],
    )
    assert verdicts == (False, True)


@pytest.mark.parametrize("signed_by", [1, 3, 0], ids=["authorised", "sibling", "primary"])
def test_only_the_authorised_subkey_counts_not_its_siblings(
    signed_by: int, signer: Signer, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    """The layout authorises subkey 1 alone; the link file carries its name whoever signed.

    gpg has no notion of a layout (each of these is a good signature to it); the reference
    accepts any key of the family.
    """
    authorised = signer.fprs[1].lower()
    link = _link()
    content = link.signed_bytes()
    by = signer.fprs[signed_by]
    made = read_signature(signer.ring.sign(by, content), by.lower())
    assert "GOODSIG" in gpg_status(signer.home, made.packet, content)
    key = export_gpg_key(signer.fprs[0], homedir=str(signer.home))
    verdicts = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, made),
        authorised,
        ours_key=key,
        ref_key=_reference_key(signer.fprs[0], signer.home),
        pubkeys=[authorised],
    )
    assert verdicts == ((signed_by == 1), True)


def test_authorising_the_primary_key_authorises_its_signing_subkeys(
    signer: Signer, tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    link = _link()
    sibling = signer.fprs[3]
    made = read_signature(signer.ring.sign(sibling, link.signed_bytes()), sibling.lower())
    key = export_gpg_key(signer.fprs[0], homedir=str(signer.home))
    verdicts = _verify_both(
        tmp_path,
        keydir["alice"],
        _signed(link, made),
        made.keyid,
        ours_key=key,
        ref_key=_reference_key(signer.fprs[0], signer.home),
        pubkeys=[key["keyid"]],
    )
    assert verdicts == (True, True)
