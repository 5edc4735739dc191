"""gpg against the reference, both ways: key export, signing (run, record, sign), verification.

Real gpg in temporary homes; expired keys, revoked keys, unknown key ids and tampering included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpg_env import GpgHomes, Keyring, gpg_daemons_under, make_keyring

from conftest import KeyFiles, Runner
from tufkit.errors import ConfigError
from tufkit.intoto import (
    Layout,
    Metablock,
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
    # Locally gpg is optional; in CI (CI=true) a missing gpg fails these tests instead.
    pytest.mark.skipif(
        shutil.which("gpg") is None and os.environ.get("CI") != "true",
        reason="gpg is not installed",
    ),
]


@pytest.fixture(scope="module")
def gpg_home(gpg_homes: GpgHomes) -> Iterator[tuple[Path, list[str]]]:
    ring = Keyring(gpg_homes.new("gnupg"))
    fingerprints = [ring.add("rsa", "rsa2048"), ring.add("ed", "ed25519")]
    yield ring.home, fingerprints
    gpg_homes.stop(ring.home)


@pytest.fixture
def fresh_ring(gpg_homes: GpgHomes) -> Iterator[Keyring]:
    ring = Keyring(gpg_homes.new("fresh"))
    yield ring
    gpg_homes.stop(ring.home)


@pytest.mark.parametrize("which", [0, 1], ids=["rsa", "eddsa"])
@pytest.mark.parametrize("tamper", [False, True])
def test_gpg_signed_links_verify_like_reference(
    which: int,
    tamper: bool,
    gpg_home: tuple[Path, list[str]],
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    ref: Callable[..., Runner],
) -> None:
    from in_toto.models.metadata import Metadata as RefMetadata
    from in_toto.verifylib import in_toto_verify
    from securesystemslib._gpg.functions import export_pubkey

    home, fingerprints = gpg_home
    fpr = fingerprints[which]
    (tmp_path / "f").write_text("content")
    made = ref("run")(
        "-n", "build", "-p", "f", "-g", fpr, "--gpg-home", home, "--", "true", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    link = next(tmp_path.glob("build.*.link"))
    if tamper:
        data = json.loads(link.read_text())
        data["signed"]["products"]["f"]["sha256"] = "00" * 32
        link.write_text(json.dumps(data))
    gpg_key: dict[str, Any] = export_pubkey(fpr, homedir=str(home))  # type: ignore[no-untyped-call]
    owner = load_private_key_file(keydir["alice"].private, None)
    layout = Layout(
        steps=[Step(name="build", pubkeys=[gpg_key["keyid"]])], keys={gpg_key["keyid"]: gpg_key}
    )
    metadata = Metablock(layout)
    metadata.sign(owner)
    write_metadata(tmp_path / "root.layout", metadata)
    ours = get_verification_result(metadata, [owner.public_key], VerifyOptions(link_dir=tmp_path))
    try:
        in_toto_verify(
            RefMetadata.load(str(tmp_path / "root.layout")),
            {owner.public_key.keyid: key_to_layout_dict(owner.public_key)},
            str(tmp_path),
        )
        theirs = True
    except Exception:
        theirs = False
    assert ours.ok is theirs is (not tamper)


# --- keys from the keyring, gpg signing, both directions -------------------------------------

KINDS = ["rsa", "eddsa", "dsa", "rsasub", "rsaedsub", "eddsasub", "rsaenc"]


@pytest.fixture(scope="module")
def ring(gpg_homes: GpgHomes) -> Iterator[Keyring]:
    home = gpg_homes.new("ring")
    yield make_keyring(home)
    gpg_homes.stop(home)


def _reference_export(keyid: str, home: Path) -> dict[str, Any] | None:
    from securesystemslib._gpg.functions import export_pubkey

    try:
        key: dict[str, Any] = export_pubkey(keyid, homedir=str(home))  # type: ignore[no-untyped-call]
    except Exception:
        return None
    return key


# Subkeys gpg would not accept data signatures from; the reference exports them, tufkit does not.
CANNOT_SIGN = {"rsaenc": 1}
# Ed25519 primary keys whose expiry the reference loses and tufkit keeps (seconds).
EXPIRY_KEPT = {"eddsasub": 3 * 365 * 86400}


@pytest.mark.parametrize("name", KINDS)
def test_exported_keys_equal_the_reference(name: str, ring: Keyring) -> None:
    fprs = ring.keys[name]
    refused = fprs[CANNOT_SIGN[name]].lower() if name in CANNOT_SIGN else None
    for keyid in [*fprs, fprs[0][-16:], fprs[-1][-8:].lower()]:
        theirs = _reference_export(keyid, ring.home)
        if theirs is not None and refused is not None:
            del theirs["subkeys"][refused]  # the encryption-only subkey
            if not theirs["subkeys"]:
                del theirs["subkeys"]
        if theirs is not None and name in EXPIRY_KEPT:
            assert "validity_period" not in theirs  # lost to the reference's preimage quirk
            theirs["validity_period"] = EXPIRY_KEPT[name]
        if refused is not None and refused.endswith(keyid.lower()):
            with pytest.raises(ConfigError, match="do not allow signing"):
                export_gpg_key(keyid, homedir=str(ring.home))
            continue
        ours: dict[str, Any] | None
        try:
            ours = export_gpg_key(keyid, homedir=str(ring.home))
        except ConfigError:
            ours = None
        assert ours == theirs, keyid
    assert export_gpg_key(fprs[0], homedir=str(ring.home))["keyid"] == fprs[0].lower()


def test_unknown_key_ids_fail_like_the_reference(
    ring: Keyring, tmp_path: Path, ref: Callable[..., Runner], tk: Runner
) -> None:
    unknown = "DEADBEEF" * 5
    assert _reference_export(unknown, ring.home) is None
    with pytest.raises(ConfigError, match="not in the keyring"):
        export_gpg_key(unknown, homedir=str(ring.home))
    with pytest.raises(ConfigError, match="hex"):
        export_gpg_key("alice@example.com", homedir=str(ring.home))
    (tmp_path / "f").write_text("x")
    home = str(ring.home)
    run = ("-n", "s", "-p", "f", "-g", unknown, "--gpg-home", home, "--", "true")
    assert (
        tk("run", *run, cwd=tmp_path).returncode == ref("run")(*run, cwd=tmp_path).returncode == 1
    )
    _write_layout(tmp_path, "s", export_gpg_key(ring.keys["rsa"][0], homedir=home))
    args: tuple[str, ...] = ("-l", "root.layout", "--gpg", unknown, "--gpg-home", home)
    assert tk("verify", *args, cwd=tmp_path).returncode == 1
    assert ref("verify")(*args, cwd=tmp_path).returncode == 1
    args = ("-f", "root.layout", "--verify", "-g", unknown, "--gpg-home", home)
    assert tk("sign", *args, cwd=tmp_path).returncode == 2
    assert ref("sign")(*args, cwd=tmp_path).returncode == 2


def _write_layout(directory: Path, step: str, key: dict[str, Any], threshold: int = 1) -> None:
    layout = Layout(
        steps=[Step(name=step, pubkeys=[key["keyid"]], threshold=threshold)],
        keys={key["keyid"]: key},
    )
    write_metadata(directory / "root.layout", Metablock(layout))


def _verdicts(
    directory: Path, fpr: str, home: Path, ref: Callable[..., Runner], tk: Runner
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    args = ("-l", "root.layout", "--gpg", fpr, "--gpg-home", home, "--link-dir", ".")
    return tk("verify", *args, cwd=directory), ref("verify")(*args, cwd=directory)


def _tamper_signature(path: Path) -> None:
    data = json.loads(path.read_text())
    sig = data["signatures"][0]["signature"]
    data["signatures"][0]["signature"] = sig[:-2] + ("00" if sig[-2:] != "00" else "01")
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("tamper", ["none", "link", "link-signature", "layout-signature"])
@pytest.mark.parametrize("maker", ["tk", "ref"])
@pytest.mark.parametrize("name", ["rsa", "eddsa", "dsa", "rsasub", "rsaedsub"])
def test_gpg_signed_chains_verify_alike_both_ways(
    name: str,
    maker: str,
    tamper: str,
    ring: Keyring,
    tmp_path: Path,
    ref: Callable[..., Runner],
    tk: Runner,
) -> None:
    fpr, home = ring.keys[name][0], ring.home
    make: Runner = (
        (lambda tool, *a, cwd: tk(tool, *a, cwd=cwd))
        if maker == "tk"
        else (lambda tool, *a, cwd: ref(tool)(*a, cwd=cwd))
    )
    (tmp_path / "f").write_text("content")
    made = make(
        "run", "-n", "build", "-p", "f", "-g", fpr, "--gpg-home", home, "--", "true", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    _write_layout(tmp_path, "build", export_gpg_key(fpr, homedir=str(home)))
    signed = make("sign", "-f", "root.layout", "-g", fpr, "--gpg-home", home, cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    link = next(tmp_path.glob("build.*.link"))
    if tamper == "link":
        data = json.loads(link.read_text())
        data["signed"]["products"]["f"]["sha256"] = "00" * 32
        link.write_text(json.dumps(data))
    elif tamper == "link-signature":
        _tamper_signature(link)
    elif tamper == "layout-signature":
        _tamper_signature(tmp_path / "root.layout")
    ours, theirs = _verdicts(tmp_path, fpr, home, ref, tk)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    # rsaedsub signs with an Ed25519 subkey that the reference's export drops.
    expected = 0 if tamper == "none" and name != "rsaedsub" else 1
    assert ours.returncode == expected, ours.stderr
    assert "Traceback" not in ours.stderr


@pytest.mark.parametrize("maker", ["tk", "ref"])
@pytest.mark.parametrize("default_key", [False, True])
def test_record_with_gpg_verifies_in_both(
    maker: str,
    default_key: bool,
    ring: Keyring,
    tmp_path: Path,
    ref: Callable[..., Runner],
    tk: Runner,
) -> None:
    home = ring.home
    # The keyring's default key is its first one, "rsa".
    fpr = ring.keys["rsa"][0]
    key_args = ("-g",) if default_key else ("-g", fpr)
    (tmp_path / "f").write_text("content")
    for mode, side in (("start", "-m"), ("stop", "-p")):
        args = ("record", mode, "-n", "rec", side, "f", *key_args, "--gpg-home", home)
        done = tk(*args, cwd=tmp_path) if maker == "tk" else ref(args[0])(*args[1:], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob(".rec.*"))
    key = export_gpg_key(fpr, homedir=str(home))
    _write_layout(tmp_path, "rec", key)
    assert (
        tk("sign", "-f", "root.layout", "-g", fpr, "--gpg-home", home, cwd=tmp_path).returncode == 0
    )
    ours, theirs = _verdicts(tmp_path, fpr, home, ref, tk)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)


def test_dsse_cannot_be_signed_with_gpg(
    ring: Keyring, tmp_path: Path, ref: Callable[..., Runner], tk: Runner
) -> None:
    args = ("-n", "s", "--use-dsse", "-g", ring.keys["rsa"][0], "--gpg-home", ring.home, "-x")
    ours, theirs = tk("run", *args, cwd=tmp_path), ref("run")(*args, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 1
    assert "DSSE" in ours.stderr


def test_expired_keys_count_for_nothing_in_both(
    fresh_ring: Keyring, tmp_path: Path, ref: Callable[..., Runner], tk: Runner
) -> None:
    ring = fresh_ring
    fpr = ring.add("expiring", "rsa2048", "seconds=8")
    started = time.time()
    (tmp_path / "f").write_text("content")
    home = ring.home
    made = tk(
        "run", "-n", "build", "-p", "f", "-g", fpr, "--gpg-home", home, "--", "true", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    key = export_gpg_key(fpr, homedir=str(home))
    assert key["validity_period"] == 8
    _write_layout(tmp_path, "build", key)
    assert (
        tk("sign", "-f", "root.layout", "-g", fpr, "--gpg-home", home, cwd=tmp_path).returncode == 0
    )
    ours, theirs = _verdicts(tmp_path, fpr, home, ref, tk)
    assert ours.returncode == theirs.returncode == 0
    time.sleep(max(0.0, started + 10 - time.time()))
    ours, theirs = _verdicts(tmp_path, fpr, home, ref, tk)
    assert ours.returncode == theirs.returncode == 1
    assert "expired" in ours.stderr
    link = next(tmp_path.glob("build.*.link")).name
    args = ("-f", link, "--verify", "-g", fpr, "--gpg-home", home)
    assert (
        tk("sign", *args, cwd=tmp_path).returncode
        == ref("sign")(*args, cwd=tmp_path).returncode
        == 2
    )


def test_revoked_keys_are_refused_unlike_the_reference(
    fresh_ring: Keyring, tmp_path: Path, ref: Callable[..., Runner], tk: Runner
) -> None:
    ring = fresh_ring
    fpr = ring.add("revoked", "ed25519")
    home = ring.home
    (tmp_path / "f").write_text("content")
    made = tk(
        "run", "-n", "build", "-p", "f", "-g", fpr, "--gpg-home", home, "--", "true", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    _write_layout(tmp_path, "build", export_gpg_key(fpr, homedir=str(home)))
    assert (
        tk("sign", "-f", "root.layout", "-g", fpr, "--gpg-home", home, cwd=tmp_path).returncode == 0
    )
    ring.revoke("revoked")
    with pytest.raises(ConfigError, match="revoked"):
        export_gpg_key(fpr, homedir=str(home))
    # The layout key is exported from the keyring for verification: refused (gpg: REVKEYSIG);
    # the reference does not look at revocations.
    ours, theirs = _verdicts(tmp_path, fpr, home, ref, tk)
    assert (ours.returncode, theirs.returncode) == (1, 0), (ours.stderr, theirs.stderr)
    assert "revoked" in ours.stderr
    assert "Traceback" not in ours.stderr


def test_stopping_a_home_stops_the_agent_gpg_started(gpg_homes: GpgHomes) -> None:
    ring = Keyring(gpg_homes.new("agent"))
    ring.add("agent", "ed25519")  # key generation starts a gpg-agent for the home
    assert [cmd for _, cmd in gpg_daemons_under(ring.home) if "gpg-agent" in cmd]
    gpg_homes.stop(ring.home)
    assert gpg_daemons_under(ring.home) == []
