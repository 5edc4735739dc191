"""Issue 8, security items 1-5 and 11: where tufkit now refuses what the reference accepts.

Each test builds a hostile supply chain with tufkit, checks tufkit's verdict and, where the point
is a deliberate difference, what in-toto 3.1.0 does with the same files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import KeyFiles, Runner
from tufkit.crypto import CryptoSigner
from tufkit.errors import SupplyChainError
from tufkit.intoto import (
    Inspection,
    InvalidMetadataError,
    Layout,
    Link,
    LinkDirectory,
    Metablock,
    RuleVerificationError,
    Step,
    TemporaryCopyInspectionRunner,
    ThresholdVerificationError,
    VerificationEvent,
    VerifyOptions,
    WorkdirInspectionRunner,
    get_verification_result,
    key_to_layout_dict,
    link_filename,
    load_metadata,
    load_private_key_file,
    read_metadata,
    record_start,
    verify_layout,
    verify_supply_chain,
    write_metadata,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
H1 = {"sha256": "aa" * 32}
FUTURE = "2100-01-01T00:00:00Z"


@pytest.fixture
def signers(keydir: dict[str, KeyFiles]) -> dict[str, CryptoSigner]:
    return {name: load_private_key_file(keydir[name].private, None) for name in keydir}


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def _layout(steps: list[Step], keys: list[CryptoSigner], **kwargs: Any) -> Layout:
    keyed = {s.public_key.keyid: key_to_layout_dict(s.public_key) for s in keys}
    return Layout(steps=steps, keys=keyed, expires=FUTURE, **kwargs)


def _signed(layout: Layout, owner: CryptoSigner) -> Metablock:
    metadata = Metablock(layout)
    metadata.sign(owner)
    return metadata


def _ref_verify(layout_path: Path, owner: CryptoSigner, cwd: Path) -> bool:
    """in-toto 3.1.0's verdict on *layout_path*, run in *cwd* (links there too)."""
    from in_toto.models.metadata import Metadata as RefMetadata
    from in_toto.verifylib import in_toto_verify

    old = os.getcwd()
    os.chdir(cwd)
    try:
        key = key_to_layout_dict(owner.public_key)
        in_toto_verify(RefMetadata.load(str(layout_path)), {key["keyid"]: key}, str(cwd))
        return True
    except Exception:
        return False
    finally:
        os.chdir(old)


# --- 1. no write through a symlink ---------------------------------------------------------------


def _planting_layout(victim: Path) -> Layout:
    """An inspection that, like untarring a hostile archive, plants ``untar.link`` -> victim."""
    plant = Inspection(name="untar", run=["ln", "-s", str(victim), "untar.link"])
    return _layout([], [], inspect=[plant])


def test_inspection_link_replaces_a_planted_symlink_instead_of_writing_through_it(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory, signers: dict[str, CryptoSigner]
) -> None:
    victim = tmp_path_factory.mktemp("home") / ".bashrc"
    victim.write_text("precious\n")
    metadata = _signed(_planting_layout(victim), signers["alice"])
    verify_layout(metadata, [signers["alice"].public_key], VerifyOptions(link_dir=in_tmp))
    assert victim.read_text() == "precious\n"
    planted = in_tmp / "untar.link"
    assert not planted.is_symlink()
    written = read_metadata(planted).payload()
    assert isinstance(written, Link)
    assert written.name == "untar"


def test_reference_writes_through_the_planted_symlink(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory, signers: dict[str, CryptoSigner]
) -> None:
    """The difference the test above makes: in-toto 3.1.0 overwrites the victim."""
    victim = tmp_path_factory.mktemp("home") / ".bashrc"
    victim.write_text("precious\n")
    layout_path = in_tmp.parent / f"{in_tmp.name}.layout"
    write_metadata(layout_path, _signed(_planting_layout(victim), signers["alice"]))
    assert _ref_verify(layout_path, signers["alice"], in_tmp)
    assert victim.read_text() != "precious\n"


def test_inspect_in_copy_writes_nothing_anywhere(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    signers: dict[str, CryptoSigner],
    keydir: dict[str, KeyFiles],
    tk: Runner,
) -> None:
    victim = tmp_path_factory.mktemp("home") / ".bashrc"
    victim.write_text("precious\n")
    layout_dir = tmp_path_factory.mktemp("layout")
    write_metadata(layout_dir / "root.layout", _signed(_planting_layout(victim), signers["alice"]))
    (tmp_path / "product").write_text("p")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = tk(
        "verify",
        "-l",
        layout_dir / "root.layout",
        "--verification-keys",
        keydir["alice"].public,
        "--inspect-in-copy",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_copy_runner_refuses_special_files_instead_of_hanging(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    os.mkfifo(tmp_path / "pipe")
    metadata = _signed(
        _layout([], [], inspect=[Inspection(name="i", run=["true"])]), signers["alice"]
    )
    with TemporaryCopyInspectionRunner(tmp_path) as runner:
        options = VerifyOptions(link_dir=tmp_path, runner=runner)
        result = get_verification_result(metadata, [signers["alice"].public_key], options)
    assert result.error is not None
    assert "pipe" in str(result.error)
    assert "not a regular file" in str(result.error)


def test_write_metadata_replaces_a_symlink_at_the_target(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, signers: dict[str, CryptoSigner]
) -> None:
    victim = tmp_path_factory.mktemp("home") / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA\n")
    out = tmp_path / link_filename("build", signers["bob"].public_key.keyid)
    out.symlink_to(victim)
    link = Metablock(Link(name="build"))
    link.sign(signers["bob"])
    write_metadata(out, link)
    assert victim.read_text() == "ssh-ed25519 AAAA\n"
    assert not out.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


# --- 2. output paths from names ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "", "..", "a\\b", 5, None])
def test_sign_refuses_a_link_name_that_is_not_a_file_name(
    name: object, tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    signed = {"_type": "link", "name": name, "materials": {}, "products": {}}
    (work / "in.link").write_text(json.dumps({"signed": signed, "signatures": []}))
    done = tk("sign", "-f", "in.link", "-k", keydir["bob"].private, cwd=work)
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert "name" in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["in.link", "work"]


def test_run_and_record_refuse_unsafe_step_names_before_doing_anything(
    tmp_path: Path, signers: dict[str, CryptoSigner], keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = tk(
        "run", "-n", "../up", "--signing-key", keydir["bob"].private, "--", "touch", "ran", cwd=work
    )
    assert done.returncode == 1
    assert "cannot name a file" in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["work"]
    with pytest.raises(InvalidMetadataError):
        record_start("../up", signers["bob"], [], directory=work)


# --- 3. a layout without expiry ----------------------------------------------------------------


@pytest.mark.parametrize("expires", [None, ""])
def test_layout_without_expiry_is_refused(
    expires: str | None, tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    payload = _layout([], []).to_dict()
    if expires is None:
        del payload["expires"]
    else:
        payload["expires"] = expires
    data = {"signed": payload, "signatures": []}
    with pytest.raises(InvalidMetadataError, match="no 'expires'"):
        load_metadata(json.dumps(data).encode())
    # the reference accepts it, expiring a month after whenever it is read: never
    from in_toto.models.layout import Layout as RefLayout

    assert RefLayout.read(payload).expires


# --- 4. FIFOs and devices in the link directory ------------------------------------------------


def test_fifo_in_link_dir_counts_as_no_link_and_does_not_hang(
    tmp_path: Path, signers: dict[str, CryptoSigner], keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    bob = signers["bob"]
    layout = _layout([Step(name="build", pubkeys=[bob.public_key.keyid])], [bob])
    write_metadata(tmp_path / "root.layout", _signed(layout, signers["alice"]))
    os.mkfifo(tmp_path / link_filename("build", bob.public_key.keyid))
    done = tk(
        "verify",
        "-l",
        "root.layout",
        "--verification-keys",
        keydir["alice"].public,
        cwd=tmp_path,
        timeout=30,
    )
    assert done.returncode == 1
    assert "LinkNotFoundError" in done.stderr or "requires 1 link" in done.stderr


def test_fifo_as_layout_file_is_an_error_not_a_hang(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    os.mkfifo(tmp_path / "root.layout")
    done = tk(
        "verify",
        "-l",
        "root.layout",
        "--verification-keys",
        keydir["alice"].public,
        cwd=tmp_path,
        timeout=30,
    )
    assert done.returncode == 1
    assert "not a regular file" in done.stderr


# --- 5. thresholds count keys, not keyids ------------------------------------------------------


def test_one_key_under_two_keyids_does_not_meet_threshold_two(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    bob = signers["bob"]
    real, alias = bob.public_key.keyid, "ab" * 32
    layout = _layout([], [bob])
    layout.keys[alias] = {**key_to_layout_dict(bob.public_key), "keyid": alias}
    layout.steps = [Step(name="build", pubkeys=[real, alias], threshold=2)]
    for keyid in (real, alias):
        link = Metablock(Link(name="build", products={"f": H1}))
        link.sign(bob)
        link.signatures[0]["keyid"] = keyid  # the same signature, under each keyid
        write_metadata(tmp_path / link_filename("build", keyid), link)
    metadata = _signed(layout, signers["alice"])
    write_metadata(tmp_path / "root.layout", metadata)
    result = get_verification_result(
        metadata, [signers["alice"].public_key], VerifyOptions(link_dir=tmp_path)
    )
    assert isinstance(result.error, ThresholdVerificationError)
    assert "found 1" in str(result.error)
    assert _ref_verify(tmp_path / "root.layout", signers["alice"], tmp_path)  # counts keyids


# --- 11. keyids: the key's own, and link names --------------------------------------------------


@pytest.mark.parametrize("case", ["own-keyid-signed", "label-signed"])
def test_signature_is_found_by_the_keys_own_keyid_like_reference(
    case: str, tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    """A key listed under label L whose own ``keyid`` member is K: its signature carries K."""
    bob = signers["bob"]
    real, other = bob.public_key.keyid, "cd" * 32
    label, own = (other, real) if case == "own-keyid-signed" else (real, other)
    layout = _layout([Step(name="build", pubkeys=[label])], [])
    layout.keys[label] = {**key_to_layout_dict(bob.public_key), "keyid": own}
    link = Metablock(Link(name="build"))
    link.sign(bob)  # the signature carries bob's real keyid
    write_metadata(tmp_path / link_filename("build", label), link)
    metadata = _signed(layout, signers["alice"])
    write_metadata(tmp_path / "root.layout", metadata)
    ours = get_verification_result(
        metadata, [signers["alice"].public_key], VerifyOptions(link_dir=tmp_path)
    )
    theirs = _ref_verify(tmp_path / "root.layout", signers["alice"], tmp_path)
    assert ours.ok is theirs is (case == "own-keyid-signed")


@pytest.mark.parametrize("name", [5, None, ["build"], {"a": 1}])
def test_non_string_link_name_is_a_format_error(name: object) -> None:
    data = {"signed": {"_type": "link", "name": name}, "signatures": []}
    with pytest.raises(InvalidMetadataError, match="'name' must be a string"):
        load_metadata(json.dumps(data).encode())


# --- structure: the pure verifier and its reporter ------------------------------------------------


def _chain(tmp_path: Path, signers: dict[str, CryptoSigner]) -> tuple[Metablock, dict[str, Any]]:
    bob = signers["bob"]
    step = Step(
        name="build",
        pubkeys=[bob.public_key.keyid],
        expected_products=[["CREATE", "dist/*"], ["DISALLOW", "*"]],
    )
    link = Metablock(Link(name="build", products={"dist/app": H1, "dist/lib": H1}))
    link.sign(bob)
    return _signed(_layout([step], [bob]), signers["alice"]), {
        link_filename("build", bob.public_key.keyid): link
    }


def _no_inspections(inspection: Inspection, *, timeout: float | None) -> Link:
    raise AssertionError("no inspection expected")


def test_pure_verifier_takes_links_and_time_as_given(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    metadata, links = _chain(tmp_path, signers)
    alice = [signers["alice"].public_key]
    summary = verify_supply_chain(
        metadata, alice, links, now=datetime(2099, 1, 1, tzinfo=UTC), runner=_no_inspections
    )
    assert summary.products == {"dist/app": H1, "dist/lib": H1}
    with pytest.raises(SupplyChainError, match="expired"):
        verify_supply_chain(
            metadata, alice, links, now=datetime(2100, 1, 1, tzinfo=UTC), runner=_no_inspections
        )
    with pytest.raises(SupplyChainError, match="requires 1 link"):
        verify_supply_chain(
            metadata, alice, {}, now=datetime(2099, 1, 1, tzinfo=UTC), runner=_no_inspections
        )
    # the loader gives the same verdict from files
    for name, envelope in links.items():
        write_metadata(tmp_path / name, envelope)
    assert verify_supply_chain(
        metadata,
        alice,
        LinkDirectory(tmp_path),
        now=datetime(2099, 1, 1, tzinfo=UTC),
        runner=_no_inspections,
    ).products == {"dist/app": H1, "dist/lib": H1}


def test_reporter_sees_each_check_and_the_queue_on_failure(
    tmp_path: Path, signers: dict[str, CryptoSigner]
) -> None:
    metadata, links = _chain(tmp_path, signers)
    events: list[VerificationEvent] = []
    now = datetime(2099, 1, 1, tzinfo=UTC)
    alice = [signers["alice"].public_key]
    verify_supply_chain(
        metadata, alice, links, now=now, runner=_no_inspections, reporter=events.append
    )
    kinds = [e.kind for e in events]
    assert kinds == [
        "layout-signature",
        "expiry",
        "link-signature",
        "threshold",
        "rule",
        "rule",
        "passed",
    ]
    create = events[4]
    assert (create.rule, create.consumed, create.queue) == (
        ["CREATE", "dist/*"],
        ("dist/app", "dist/lib"),
        (),
    )
    # the same layout with a rule that fails: the queue it failed on is reported
    layout = metadata.payload()
    assert isinstance(layout, Layout)
    layout.steps[0].expected_products = [["CREATE", "dist/app"], ["DISALLOW", "*"]]
    failing = _signed(layout, signers["alice"])
    events.clear()
    with pytest.raises(RuleVerificationError):
        verify_supply_chain(
            failing, alice, links, now=now, runner=_no_inspections, reporter=events.append
        )
    assert events[-1].kind == "rule-failed"
    assert events[-1].queue == ("dist/lib",)
    assert events[-1].lines()[-1].strip() == "queue left: dist/lib"


def test_verify_verbose_prints_checks_with_names_escaped(
    tmp_path: Path, signers: dict[str, CryptoSigner], keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    bob = signers["bob"]
    hostile = "dist/\x1b[2Jx"
    step = Step(
        name="build",
        pubkeys=[bob.public_key.keyid],
        expected_products=[["CREATE", "dist/ok"], ["DISALLOW", "*"]],
    )
    link = Metablock(Link(name="build", products={"dist/ok": H1, hostile: H1}))
    link.sign(bob)
    write_metadata(tmp_path / link_filename("build", bob.public_key.keyid), link)
    write_metadata(tmp_path / "root.layout", _signed(_layout([step], [bob]), signers["alice"]))
    done = tk(
        "verify", "-v", "-l", "root.layout", "--verification-keys", keydir["alice"].public,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    err = done.stderr
    assert "layout signature by" in err
    assert "distinct functionaries signed, threshold 1" in err
    assert "'CREATE dist/ok' consumed 1" in err
    assert "consumed: dist/ok" in err
    assert "queue left: dist/\\x1b[2Jx" in err
    assert "\x1b" not in err


def test_workdir_runner_refuses_unsafe_inspection_names_before_running(
    in_tmp: Path,
) -> None:
    runner = WorkdirInspectionRunner(in_tmp)
    with pytest.raises(InvalidMetadataError):
        runner(Inspection(name="../x", run=["touch", "ran"]), timeout=5)
    assert not (in_tmp / "ran").exists()
