"""Verification through the library: thresholds, sublayouts, expiry, hostile input, timeouts.

Chains are built in memory with tufkit and each verdict is compared with the reference's
``in_toto_verify`` on the same files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import KeyFiles
from tufkit.crypto import CryptoSigner
from tufkit.errors import SupplyChainError
from tufkit.intoto import (
    BadReturnValueError,
    DsseEnvelope,
    Inspection,
    InvalidMetadataError,
    Layout,
    LayoutExpiredError,
    LayoutVerificationResult,
    Link,
    LinkNotFoundError,
    Metablock,
    RuleVerificationError,
    SignatureVerificationError,
    Step,
    TemporaryCopyInspectionRunner,
    ThresholdVerificationError,
    VerifyOptions,
    format_layout_expires,
    get_verification_result,
    key_to_layout_dict,
    link_filename,
    load_private_key_file,
    load_public_key_pem,
    read_metadata,
    verify_layout,
    write_metadata,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
H1, H2 = {"sha256": "aa" * 32}, {"sha256": "bb" * 32}


def _signer(keys: dict[str, KeyFiles], name: str) -> CryptoSigner:
    return load_private_key_file(keys[name].private, None)


def _write_link(directory: Path, link: Link, signer: CryptoSigner, *, dsse: bool = False) -> Path:
    metadata = DsseEnvelope.from_payload(link) if dsse else Metablock(link)
    metadata.sign(signer)
    path = directory / link_filename(link.name or "", signer.public_key.keyid)
    write_metadata(path, metadata)
    return path


def _layout(steps: list[Step], keys: list[CryptoSigner], **kwargs: Any) -> Layout:
    return Layout(
        steps=steps,
        keys={s.public_key.keyid: key_to_layout_dict(s.public_key) for s in keys},
        **kwargs,
    )


def _both(layout: Layout, owner: CryptoSigner, directory: Path, **options: Any) -> tuple[Any, bool]:
    """Return (our result, reference passed?) for *layout* signed by *owner*."""
    from in_toto.models.metadata import Metadata as RefMetadata
    from in_toto.verifylib import in_toto_verify

    metadata = Metablock(layout)
    metadata.sign(owner)
    layout_path = directory / "root.layout"
    write_metadata(layout_path, metadata)
    try:
        reread = read_metadata(layout_path)
    except SupplyChainError as exc:
        ours: Any = LayoutVerificationResult(error=exc)
    else:
        ours = get_verification_result(
            reread, [owner.public_key], VerifyOptions(link_dir=directory, **options)
        )
    ref_key = {**key_to_layout_dict(owner.public_key)}
    old = os.getcwd()
    os.chdir(directory)
    try:
        in_toto_verify(
            RefMetadata.load(str(layout_path)), {owner.public_key.keyid: ref_key}, str(directory)
        )
        theirs = True
    except Exception:
        theirs = False
    finally:
        os.chdir(old)
    return ours, theirs


@pytest.fixture
def signers(keydir: dict[str, KeyFiles]) -> dict[str, CryptoSigner]:
    return {name: _signer(keydir, name) for name in keydir}


@pytest.mark.parametrize(
    ("products_by", "expected"),
    [
        ({"bob": {"f": H1}, "carl": {"f": H1}}, None),
        ({"bob": {"f": H1}, "carl": {"f": H2}}, ThresholdVerificationError),
        ({"bob": {"f": H1}}, LinkNotFoundError),
    ],
    ids=["agree", "disagree", "too-few"],
)
def test_threshold_two_functionaries(
    products_by: dict[str, Any],
    expected: type | None,
    tmp_path: Path,
    signers: dict[str, CryptoSigner],
) -> None:
    names = ["bob", "carl"]
    step = Step(name="build", pubkeys=[signers[n].public_key.keyid for n in names], threshold=2)
    for name, products in products_by.items():
        _write_link(tmp_path, Link(name="build", products=products), signers[name])
    ours, theirs = _both(_layout([step], [signers[n] for n in names]), signers["alice"], tmp_path)
    assert ours.ok is theirs
    assert (type(ours.error) if ours.error else None) is expected


def test_threshold_counts_distinct_valid_signers(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob, carl = signers["bob"], signers["carl"]
    step = Step(name="build", pubkeys=[bob.public_key.keyid, carl.public_key.keyid], threshold=2)
    _write_link(tmp_path, Link(name="build", products={"f": H1}), bob)
    forged = _write_link(tmp_path, Link(name="build", products={"f": H1}), signers["dave"])
    forged.rename(tmp_path / link_filename("build", carl.public_key.keyid))
    ours, theirs = _both(_layout([step], [bob, carl]), signers["alice"], tmp_path)
    assert (ours.ok, theirs) == (False, False)
    assert isinstance(ours.error, ThresholdVerificationError)


@pytest.mark.parametrize("dsse", [False, True])
@pytest.mark.parametrize("tamper", ["none", "inner-product", "sublayout-signature"])
def test_sublayout(
    tamper: str, dsse: bool, tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob, carl = signers["bob"], signers["carl"]
    inner = Step(
        name="inner",
        pubkeys=[carl.public_key.keyid],
        expected_products=[["CREATE", "out"], ["DISALLOW", "*"]],
    )
    sublayout = _layout([inner], [carl])
    sub_meta: Any = DsseEnvelope.from_payload(sublayout) if dsse else Metablock(sublayout)
    sub_meta.sign(bob if tamper != "sublayout-signature" else signers["dave"])
    write_metadata(tmp_path / link_filename("sub", bob.public_key.keyid), sub_meta)
    sub_dir = tmp_path / f"sub.{bob.public_key.keyid[:8]}"
    sub_dir.mkdir()
    products = {"out": H1} if tamper != "inner-product" else {"out": H1, "extra": H2}
    _write_link(sub_dir, Link(name="inner", products=products), carl, dsse=dsse)
    after = Step(
        name="after",
        pubkeys=[bob.public_key.keyid],
        expected_materials=[["MATCH", "*", "WITH", "PRODUCTS", "FROM", "sub"], ["DISALLOW", "*"]],
    )
    _write_link(tmp_path, Link(name="after", materials={"out": H1}), bob)
    root = _layout([Step(name="sub", pubkeys=[bob.public_key.keyid]), after], [bob])
    ours, theirs = _both(root, signers["alice"], tmp_path)
    assert ours.ok is theirs is (tamper == "none")
    if tamper == "inner-product":
        assert isinstance(ours.error, RuleVerificationError)
        assert ours.failed_item == "inner"
        assert ours.failed_rule == ["DISALLOW", "*"]
    if tamper == "sublayout-signature":
        assert isinstance(ours.error, ThresholdVerificationError)


def test_expiry_boundary_and_root_key_rules(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    layout = _layout([], [], expires=format_layout_expires(now))
    metadata = Metablock(layout)
    metadata.sign(signers["alice"])
    alice = signers["alice"].public_key
    with pytest.raises(LayoutExpiredError):
        verify_layout(metadata, [alice], VerifyOptions(link_dir=tmp_path, now=now))
    later = VerifyOptions(link_dir=tmp_path, now=now - timedelta(seconds=1))
    assert verify_layout(metadata, [alice], later).name is None
    with pytest.raises(SignatureVerificationError, match="at least one key"):
        verify_layout(metadata, [], later)
    with pytest.raises(SignatureVerificationError, match="no signature"):
        verify_layout(metadata, [alice, signers["bob"].public_key], later)


def test_step_rule_failure_names_step_and_rule(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob = signers["bob"]
    step = Step(
        name="build",
        pubkeys=[bob.public_key.keyid],
        expected_products=[["REQUIRE", "needed"], ["ALLOW", "*"]],
    )
    _write_link(tmp_path, Link(name="build", products={"other": H1}), bob)
    ours, theirs = _both(_layout([step], [bob]), signers["alice"], tmp_path)
    assert (ours.ok, theirs) == (False, False)
    assert (ours.failed_item, ours.failed_rule) == ("build", ["REQUIRE", "needed"])
    assert "requires 'needed'" in str(ours.error)


def test_command_mismatch_only_warns(tmp_path: Path, signers: dict[str, CryptoSigner]) -> None:
    bob = signers["bob"]
    step = Step(name="build", pubkeys=[bob.public_key.keyid], expected_command=["make"])
    _write_link(tmp_path, Link(name="build", command=["make", "evil"]), bob)
    ours, theirs = _both(_layout([step], [bob]), signers["alice"], tmp_path)
    assert ours.ok
    assert theirs
    assert any("differs from the expected" in w for w in ours.warnings)


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def test_hanging_inspection_times_out(in_tmp: Path, signers: dict[str, CryptoSigner]) -> None:
    layout = _layout([], [], inspect=[Inspection(name="hang", run=["sleep", "30"])])
    metadata = Metablock(layout)
    metadata.sign(signers["alice"])
    options = VerifyOptions(link_dir=in_tmp, inspection_timeout=0.5)
    result = get_verification_result(metadata, [signers["alice"].public_key], options)
    assert isinstance(result.error, BadReturnValueError)
    assert "timed out" in str(result.error)


def test_failing_and_missing_inspection_commands(
    in_tmp: Path, signers: dict[str, CryptoSigner]
) -> None:
    for run in (["false"], ["/nonexistent/tool"], [3]):
        layout = _layout([], [], inspect=[Inspection(name="i", run=run)])
        metadata = Metablock(layout)
        metadata.sign(signers["alice"])
        result = get_verification_result(
            metadata, [signers["alice"].public_key], VerifyOptions(link_dir=in_tmp)
        )
        assert isinstance(result.error, BadReturnValueError), run


def test_temporary_copy_runner_leaves_directory_alone(
    in_tmp: Path, signers: dict[str, CryptoSigner]
) -> None:
    (in_tmp / "keep").write_text("k")
    inspection = Inspection(
        name="touch",
        run=["touch", "made"],
        expected_products=[["CREATE", "made"], ["ALLOW", "keep"], ["DISALLOW", "*"]],
    )
    metadata = Metablock(_layout([], [], inspect=[inspection]))
    metadata.sign(signers["alice"])
    with TemporaryCopyInspectionRunner(in_tmp) as runner:
        options = VerifyOptions(link_dir=in_tmp, runner=runner)
        verify_layout(metadata, [signers["alice"].public_key], options)
    assert sorted(p.name for p in in_tmp.iterdir()) == ["keep"]
    verify_layout(metadata, [signers["alice"].public_key], VerifyOptions(link_dir=in_tmp))
    assert sorted(p.name for p in in_tmp.iterdir()) == ["keep", "made", "touch.link"]


HOSTILE = {
    "not-json": b"{",
    "array": b"[]",
    "neither": b'{"foo": 1}',
    "bad-base64": b'{"payload": "!!", "payloadType": "application/vnd.in-toto+json", '
    b'"signatures": []}',
    "wrong-type": b'{"payload": "e30=", "payloadType": "text/plain", "signatures": []}',
    "sigs-not-list": b'{"signed": {"_type": "link"}, "signatures": {}}',
    "sig-without-keyid": b'{"signed": {"_type": "link"}, "signatures": [{"sig": "00"}]}',
    "float": b'{"signed": {"_type": "link", "byproducts": {"x": 1.5}}, "signatures": []}',
    "bad-hash": b'{"signed": {"_type": "link", "products": {"f": {"sha256": "zz"}}}, '
    b'"signatures": []}',
    "deep": b"[" * 100000 + b"]" * 100000,
    "not-utf8": b"\xff\xfe",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_malformed_links_abort_verification_like_reference(
    name: str, tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob = signers["bob"]
    step = Step(name="build", pubkeys=[bob.public_key.keyid])
    (tmp_path / link_filename("build", bob.public_key.keyid)).write_bytes(HOSTILE[name])
    ours, theirs = _both(_layout([step], [bob]), signers["alice"], tmp_path)
    assert (ours.ok, theirs) == (False, False)
    assert ours.error is not None
    assert "Traceback" not in ours.error.diagnostics()


def test_huge_link_file_is_refused_before_parsing(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob = signers["bob"]
    step = Step(name="build", pubkeys=[bob.public_key.keyid])
    link = Link(name="build", products={f"f{i}": H1 for i in range(2000)})
    _write_link(tmp_path, link, bob)
    metadata = Metablock(_layout([step], [bob]))
    metadata.sign(signers["alice"])
    options = VerifyOptions(link_dir=tmp_path, max_metadata_bytes=10_000)
    result = get_verification_result(metadata, [signers["alice"].public_key], options)
    assert isinstance(result.error, InvalidMetadataError)
    assert "larger than 10000 bytes" in str(result.error)
    assert get_verification_result(
        metadata, [signers["alice"].public_key], VerifyOptions(link_dir=tmp_path)
    ).ok


def test_dsse_rejects_duplicate_keyids(signers: dict[str, CryptoSigner]) -> None:
    envelope = DsseEnvelope.from_payload(Link(name="x"))
    envelope.sign(signers["bob"])
    data = envelope.to_dict()
    data["signatures"] = data["signatures"] * 2
    from tufkit.intoto import load_metadata

    with pytest.raises(InvalidMetadataError, match="two DSSE signatures"):
        load_metadata(json.dumps(data).encode())


def test_step_names_cannot_traverse_directories(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob = signers["bob"]
    metadata = Metablock(_layout([Step(name="../escape", pubkeys=[bob.public_key.keyid])], [bob]))
    metadata.sign(signers["alice"])
    result = get_verification_result(
        metadata, [signers["alice"].public_key], VerifyOptions(link_dir=tmp_path)
    )
    assert isinstance(result.error, InvalidMetadataError)
    assert "cannot name a file" in str(result.error)


def test_pem_public_key_from_private_key_file_is_a_config_error(
    keydir: dict[str, KeyFiles],
) -> None:
    from tufkit.errors import ConfigError

    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_public_key_pem(keydir["alice"].private.read_bytes(), what="alice.pem")


@pytest.mark.parametrize(
    "key",
    [
        {"keytype": "ed25519", "scheme": "ed448", "keyval": {"public": "00"}},
        {"keytype": "rsa", "scheme": "rsassa-pss-sha224", "keyval": {"public": "x"}},
        {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": 5}},
        {"keytype": "ed25519", "scheme": "ed25519"},
    ],
)
def test_layouts_with_unsupported_unused_keys_fail_like_reference(
    key: dict[str, Any], tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    """The reference refuses to load such a layout, even when no step uses the key."""
    bob = signers["bob"]
    _write_link(tmp_path, Link(name="build"), bob)
    layout = _layout([Step(name="build", pubkeys=[bob.public_key.keyid])], [bob])
    layout.keys["ab" * 32] = {**key, "keyid": "ab" * 32}
    ours, theirs = _both(layout, signers["alice"], tmp_path)
    assert (ours.ok, theirs) == (False, False)
    assert isinstance(ours.error, InvalidMetadataError)
    del layout.keys["ab" * 32]
    ours, theirs = _both(layout, signers["alice"], tmp_path)
    assert (ours.ok, theirs) == (True, True)
