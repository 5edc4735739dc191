"""Interop with in-toto 3.1.0 in both directions, for each key type and both envelopes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import KeyFiles, Runner
from tufkit.intoto import DsseEnvelope, Link, Metablock, load_public_key_pem, read_metadata

pytestmark = pytest.mark.integration

KEYS = ["alice", "bob", "carl", "erin"]  # ed25519, rsa, ecdsa p-256, ecdsa p-384


@pytest.mark.parametrize("name", KEYS)
def test_pem_keyids_match_reference(name: str, keydir: dict[str, KeyFiles]) -> None:
    from in_toto.models._signer import load_public_key_from_file

    ours = load_public_key_pem(keydir[name].public.read_bytes())
    theirs = load_public_key_from_file(str(keydir[name].public))
    assert ours.keyid == theirs["keyid"]
    assert {**ours.to_dict(), "keyid": ours.keyid} == theirs


def _make_workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "a.txt").write_text("a\r\nb\n")
    (work / "src" / "b.bin").write_bytes(bytes(range(256)))
    return work


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("name", KEYS)
def test_tufkit_links_verify_with_reference(
    name: str,
    dsse: bool,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> None:
    work = _make_workdir(tmp_path)
    key = keydir[name]
    extra = ["--use-dsse"] if dsse else []
    result = tk(
        "run",
        "-n",
        "build",
        "-m",
        "src",
        "-p",
        "src",
        "-s",
        "--signing-key",
        key.private,
        *extra,
        "--",
        "python3",
        "-c",
        "print('out')",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    link = next(work.glob("build.*.link"))
    check = ref("sign")("-f", link.name, "-k", key.public, "--verify", cwd=work)
    assert check.returncode == 0, check.stderr
    wrong = ref("sign")("-f", link.name, "-k", keydir["dave"].public, "--verify", cwd=work)
    assert wrong.returncode == 1


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("name", KEYS)
def test_reference_links_verify_with_tufkit_and_match_our_recording(
    name: str,
    dsse: bool,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> None:
    work = _make_workdir(tmp_path)
    key = keydir[name]
    extra = ["--use-dsse"] if dsse else []
    result = ref("run")(
        "-n",
        "build",
        "-m",
        "src",
        "-p",
        "src",
        "-s",
        "--signing-key",
        key.private,
        *extra,
        "--",
        "python3",
        "-c",
        "print('out')",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    link = next(work.glob("build.*.link"))
    assert tk("sign", "-f", link.name, "-k", key.public, "--verify", cwd=work).returncode == 0
    assert (
        tk("sign", "-f", link.name, "-k", keydir["dave"].public, "--verify", cwd=work).returncode
        == 1
    )
    theirs = read_metadata(link).payload()
    link.rename(work / "theirs.json")
    assert (
        tk(
            "run",
            "-n",
            "build",
            "-m",
            "src",
            "-p",
            "src",
            "-s",
            "--signing-key",
            key.private,
            *extra,
            "--",
            "python3",
            "-c",
            "print('out')",
            cwd=work,
        ).returncode
        == 0
    )
    ours = read_metadata(link).payload()
    assert ours == theirs


def test_metablock_files_are_byte_identical_to_reference(
    tmp_path: Path, keydir: dict[str, KeyFiles], ref: Callable[..., Runner]
) -> None:
    work = _make_workdir(tmp_path)
    (work / "src" / "é.txt").write_text("unicode name\n")
    result = ref("run")(
        "-n", "s", "-p", "src", "--signing-key", keydir["alice"].private, "--", "true", cwd=work
    )
    assert result.returncode == 0, result.stderr
    data = next(work.glob("s.*.link")).read_bytes()
    metadata = read_metadata(next(work.glob("s.*.link")))
    assert isinstance(metadata, Metablock)
    assert metadata.to_bytes() == data


def test_dsse_envelope_reserialises_identically(
    tmp_path: Path, keydir: dict[str, KeyFiles], ref: Callable[..., Runner]
) -> None:
    work = _make_workdir(tmp_path)
    result = ref("run")(
        "-n",
        "s",
        "-p",
        "src",
        "--use-dsse",
        "--signing-key",
        keydir["alice"].private,
        "--",
        "true",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    path = next(work.glob("s.*.link"))
    metadata = read_metadata(path)
    assert isinstance(metadata, DsseEnvelope)
    assert json.loads(metadata.to_bytes()) == json.loads(path.read_bytes())
    assert metadata.raw_payload == DsseEnvelope.from_payload(metadata.payload()).raw_payload


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
def test_record_start_stop_interoperates(
    dsse: bool, tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner, ref: Callable[..., Runner]
) -> None:
    work = _make_workdir(tmp_path)
    key = keydir["carl"]
    extra = ["--use-dsse"] if dsse else []
    assert (
        tk(
            "record",
            "start",
            "-n",
            "edit",
            "-m",
            "src",
            "--signing-key",
            key.private,
            *extra,
            cwd=work,
        ).returncode
        == 0
    )
    (work / "src" / "a.txt").write_text("changed\n")
    stop = ref("record")("stop", "-n", "edit", "-p", "src", "--signing-key", key.private, cwd=work)
    assert stop.returncode == 0, stop.stderr
    link = next(work.glob("edit.*.link"))
    assert isinstance(read_metadata(link), DsseEnvelope) is dsse
    assert tk("sign", "-f", link.name, "-k", key.public, "--verify", cwd=work).returncode == 0
    payload = read_metadata(link).payload()
    assert isinstance(payload, Link)
    assert payload.materials["src/a.txt"] != payload.products["src/a.txt"]
    assert not list(work.glob(".*link-unfinished"))


@pytest.mark.parametrize("name", KEYS)
def test_layout_signed_by_tufkit_cli_verifies_with_reference(
    name: str, tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner, ref: Callable[..., Runner]
) -> None:
    work = tmp_path
    (work / "alice.pub").write_bytes(keydir["alice"].public.read_bytes())
    (work / "layout.toml").write_text(
        'readme = "one step"\nexpires_days = 10\n[keys]\nalice = "alice.pub"\n'
        '[[step]]\nname = "s"\nfunctionaries = ["alice"]\nproducts = ["CREATE *", "DISALLOW *"]\n'
    )
    result = tk(
        "layout",
        "layout.toml",
        "--signing-key",
        keydir[name].private,
        "-o",
        "root.layout",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    assert (
        ref("sign")("-f", "root.layout", "-k", keydir[name].public, "--verify", cwd=work).returncode
        == 0
    )
    # append a second signature with the reference; tufkit checks both
    other = "dave" if name != "dave" else "alice"
    assert (
        ref("sign")("-f", "root.layout", "-k", keydir[other].private, "-a", cwd=work).returncode
        == 0
    )
    assert (
        tk(
            "sign",
            "-f",
            "root.layout",
            "-k",
            keydir[name].public,
            keydir[other].public,
            "--verify",
            cwd=work,
        ).returncode
        == 0
    )
