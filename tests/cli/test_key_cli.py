"""``tufkit key generate`` and ``tufkit key show``, run as real subprocesses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tufkit.crypto import Key, signer_from_uri
from tufkit.errors import ConfigError

TUFKIT = str(Path(sys.executable).parent / "tufkit")
PASSPHRASE = "correct horse battery"


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TK_CLI_PASS": PASSPHRASE, **(env or {})}
    return subprocess.run(
        [TUFKIT, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def _printed_key(output: str) -> tuple[str, Key]:
    printed = json.loads(output)
    assert set(printed) == {"keyid", "key"}
    key = Key.from_dict(printed["keyid"], printed["key"])
    return printed["keyid"], key


EXPECTED = {
    "ed25519": ("ed25519", "ed25519"),
    "ecdsa": ("ecdsa", "ecdsa-sha2-nistp256"),
    "rsa": ("rsa", "rsassa-pss-sha256"),
}


@pytest.mark.parametrize("keytype", sorted(EXPECTED))
def test_generate_encrypted(tmp_path: Path, keytype: str) -> None:
    out = tmp_path / "key.pem"
    result = run(
        "key",
        "generate",
        "--type",
        keytype,
        "--out",
        str(out),
        "--passphrase-env",
        "TK_CLI_PASS",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"ENCRYPTED" in out.read_bytes()
    keyid, key = _printed_key(result.stdout)
    assert (key.keytype, key.scheme) == EXPECTED[keytype]
    assert keyid == key.compute_keyid()
    assert "encrypted" in result.stderr
    # loads back with the passphrase, not without, not with a wrong one
    os.environ["TK_CLI_TEST_PASS"] = PASSPHRASE
    try:
        signer = signer_from_uri(f"file:{out}?passphrase-env=TK_CLI_TEST_PASS", key)
        assert key.verify_signature(signer.sign(b"data"), b"data")
        assert signer.public_key.keyid == keyid
        with pytest.raises(ConfigError):
            signer_from_uri(f"file:{out}")
        os.environ["TK_CLI_TEST_PASS"] = "wrong"
        with pytest.raises(ConfigError):
            signer_from_uri(f"file:{out}?passphrase-env=TK_CLI_TEST_PASS")
    finally:
        del os.environ["TK_CLI_TEST_PASS"]
    # the public key is written beside it; no temporary file of the atomic writes is left
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "key.pem",
        "key.pem.pub",
        "key.pem.pub.json",
    ]


def test_generate_unencrypted_and_show(tmp_path: Path) -> None:
    out = tmp_path / "plain.pem"
    result = run(
        "key", "generate", "--type", "ecdsa", "--out", str(out), "--no-encrypt", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"ENCRYPTED" not in out.read_bytes()
    assert "UNENCRYPTED" in result.stderr
    keyid, _ = _printed_key(result.stdout)
    assert signer_from_uri(f"file:{out}").public_key.keyid == keyid
    shown = run("key", "show", str(out), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert _printed_key(shown.stdout)[0] == keyid
    shown_env = run("key", "show", "env:TK_KEY", cwd=tmp_path, env={"TK_KEY": out.read_text()})
    assert shown_env.returncode == 0, shown_env.stderr
    assert _printed_key(shown_env.stdout)[0] == keyid


def test_show_encrypted_with_passphrase_env(tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    made = run(
        "key", "generate", "--out", str(out), "--passphrase-env", "TK_CLI_PASS", cwd=tmp_path
    )
    keyid, _ = _printed_key(made.stdout)
    shown = run("key", "show", str(out), "--passphrase-env", "TK_CLI_PASS", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert _printed_key(shown.stdout)[0] == keyid
    wrong = run(
        "key",
        "show",
        str(out),
        "--passphrase-env",
        "TK_WRONG",
        cwd=tmp_path,
        env={"TK_WRONG": "nope"},
    )
    assert wrong.returncode == 1
    assert "error:" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    first = run("key", "generate", "--out", str(out), "--no-encrypt", cwd=tmp_path)
    assert first.returncode == 0
    before = out.read_bytes()
    again = run("key", "generate", "--out", str(out), "--no-encrypt", cwd=tmp_path)
    assert again.returncode != 0
    assert "--force" in again.stderr
    assert "Traceback" not in again.stderr
    assert out.read_bytes() == before
    forced = run("key", "generate", "--out", str(out), "--no-encrypt", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert out.read_bytes() != before
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


USAGE_ERRORS: list[tuple[list[str], str]] = [
    (["key", "generate", "--type", "dsa", "--out", "k", "--no-encrypt"], "--type"),
    (["key", "generate", "--no-encrypt"], "--out"),
    (["key", "generate", "--out", "k", "--bogus"], "--bogus"),
    (["key", "generate", "--out"], "--out"),
    (["key", "frobnicate"], "frobnicate"),
    (["key", "show"], "URI"),
]


@pytest.mark.parametrize(("args", "mentions"), USAGE_ERRORS, ids=lambda v: str(v))
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], mentions: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


OPERATION_ERRORS: list[tuple[list[str], str]] = [
    (["key", "generate", "--out", "k", "--passphrase-env", "TK_UNSET_VAR"], "TK_UNSET_VAR"),
    (["key", "generate", "--out", "k", "--passphrase-env", "TK_EMPTY"], "TK_EMPTY"),
    (["key", "generate", "--out", "no/such/dir/k", "--no-encrypt"], "No such file"),
    (["key", "show", "missing.pem"], "missing.pem"),
    (["key", "show", "hsm:whatever"], "hsm:"),
    (["key", "show", "env:TK_UNSET_VAR"], "TK_UNSET_VAR"),
]


@pytest.mark.parametrize(("args", "mentions"), OPERATION_ERRORS, ids=lambda v: str(v)[:60])
def test_bad_input_fails_with_a_message(tmp_path: Path, args: list[str], mentions: str) -> None:
    result = run(*args, cwd=tmp_path, env={"TK_EMPTY": ""})
    assert result.returncode == 1
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "k").exists()


SCHEME_USAGE_ERRORS: list[tuple[list[str], str]] = [
    (
        [
            "key",
            "generate",
            "--type",
            "ml-dsa",
            "--scheme",
            "ecdsa-sha2-nistp521",
            "--out",
            "k",
            "--no-encrypt",
        ],
        "ecdsa-sha2-nistp521",
    ),
    (["key", "generate", "--scheme", "rsassa-pss-sha224", "--out", "k", "--no-encrypt"], "sha224"),
    (["key", "generate", "--scheme", "ml-dsa-65", "--out", "k", "--no-encrypt"], "ml-dsa-65/1"),
    (
        [
            "key",
            "generate",
            "--type",
            "ed25519",
            "--scheme",
            "rsassa-pss-sha256",
            "--out",
            "k",
            "--no-encrypt",
        ],
        "rsassa-pss-sha256",
    ),
]


@pytest.mark.parametrize(("args", "mentions"), SCHEME_USAGE_ERRORS, ids=lambda v: str(v)[:60])
def test_a_scheme_that_does_not_fit_is_a_usage_error(
    tmp_path: Path, args: list[str], mentions: str
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert mentions in result.stderr
    assert "--scheme" in result.stderr
    assert not (tmp_path / "k").exists()


def test_no_encrypt_and_passphrase_together_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    result = run(
        "key",
        "generate",
        "--out",
        str(out),
        "--no-encrypt",
        "--passphrase-env",
        "TK_CLI_PASS",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert not out.exists()


def test_help_lists_key_commands(tmp_path: Path) -> None:
    result: Any = run("key", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "generate" in result.stdout
    assert "show" in result.stdout


SCHEME_ROWS = [
    # (--type or None, --scheme, the keytype written)
    (None, "rsa-pkcs1v15-sha256", "rsa"),
    ("rsa", "rsa-pkcs1v15-sha256", "rsa"),
    ("rsa", "rsassa-pss-sha512", "rsa"),
    (None, "ecdsa-sha2-nistp521", "ecdsa"),
    (None, "ml-dsa-44/1", "ml-dsa"),
    ("ml-dsa", None, "ml-dsa"),
]


@pytest.mark.parametrize(("keytype", "scheme", "written"), SCHEME_ROWS, ids=str)
def test_generated_key_keeps_its_scheme_and_keyid(
    tmp_path: Path, keytype: str | None, scheme: str | None, written: str
) -> None:
    out = tmp_path / "k.pem"
    args = ["key", "generate", "--out", str(out), "--passphrase-env", "TK_CLI_PASS"]
    args += ["--type", keytype] if keytype else []
    args += ["--scheme", scheme] if scheme else []
    made = run(*args, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    keyid, key = _printed_key(made.stdout)
    assert key.keytype == written
    assert key.scheme == (scheme or "ml-dsa-65/1")
    shown = run("key", "show", str(out), "--passphrase-env", "TK_CLI_PASS", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert _printed_key(shown.stdout) == (keyid, key)
    # a signer from the file signs with that scheme, under that keyid
    os.environ["TK_CLI_TEST_PASS"] = PASSPHRASE
    try:
        signer = signer_from_uri(f"file:{out}?passphrase-env=TK_CLI_TEST_PASS")
    finally:
        del os.environ["TK_CLI_TEST_PASS"]
    signature = signer.sign(b"data")
    assert signature.keyid == keyid
    assert key.verify_signature(signature, b"data")


def test_public_key_files_beside_the_private_key(tmp_path: Path) -> None:
    from securesystemslib.signer._key import SSlibKey
    from securesystemslib.signer._signature import Signature as RefSignature

    from tufkit.intoto._keys import load_public_key_pem

    out = tmp_path / "alice"
    made = run(
        "key", "generate", "--type", "ecdsa", "--out", str(out), "--no-encrypt", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    keyid, key = _printed_key(made.stdout)
    pem_file, json_file = tmp_path / "alice.pub", tmp_path / "alice.pub.json"
    assert "alice.pub (PEM)" in made.stderr
    assert "alice.pub.json" in made.stderr
    for public_file in (pem_file, json_file):
        assert stat.S_IMODE(public_file.stat().st_mode) == 0o644
    assert b"PRIVATE" not in pem_file.read_bytes() + json_file.read_bytes()
    # the TUF key JSON is what was printed, and the reference reads and verifies with it
    assert _printed_key(json_file.read_text()) == (keyid, key)
    ref_key = SSlibKey.from_dict(keyid, json.loads(json_file.read_text())["key"])
    signature = signer_from_uri(f"file:{out}").sign(b"data")
    ref_key.verify_signature(RefSignature(signature.keyid, signature.signature), b"data")
    # the PEM is what in-toto's --verification-keys reads: the same key and keyid
    assert load_public_key_pem(pem_file.read_bytes()) == key


def test_existing_public_key_files_need_force(tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    (tmp_path / "k.pem.pub.json").write_text("{}")
    refused = run("key", "generate", "--out", str(out), "--no-encrypt", cwd=tmp_path)
    assert refused.returncode == 1
    assert "k.pem.pub.json exists" in refused.stderr
    assert "--force" in refused.stderr
    assert not out.exists()
    assert (tmp_path / "k.pem.pub.json").read_text() == "{}"
    forced = run("key", "generate", "--out", str(out), "--no-encrypt", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert _printed_key((tmp_path / "k.pem.pub.json").read_text()) == _printed_key(forced.stdout)
