"""Signer URIs: ``file:`` (encrypted or not) and ``env:``, and the registry's errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tufkit.crypto import Key, Signer, SignerRegistry, generate, signer_from_uri
from tufkit.errors import ConfigError

PAYLOAD = b"payload"


@pytest.fixture(scope="module")
def signer() -> Any:
    return generate("ecdsa")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _works(loaded: Signer, expected: Key) -> None:
    assert isinstance(loaded, Signer)
    assert loaded.public_key.identity() == expected.identity()
    assert expected.verify_signature(loaded.sign(PAYLOAD), PAYLOAD)


def test_file_unencrypted(tmp_path: Path, signer: Any) -> None:
    path = _write(tmp_path / "k.pem", signer.private_pem(None))
    _works(signer_from_uri(f"file:{path}"), signer.public_key)
    _works(signer_from_uri(f"file://{path}"), signer.public_key)


def test_file_encrypted_with_passphrase_env(
    tmp_path: Path, signer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "k.pem", signer.private_pem(b"correct horse"))
    monkeypatch.setenv("TK_TEST_PASS", "correct horse")
    loaded = signer_from_uri(f"file:{path}?passphrase-env=TK_TEST_PASS", signer.public_key)
    _works(loaded, signer.public_key)
    assert loaded.public_key is signer.public_key


def test_file_encrypted_with_prompt(tmp_path: Path, signer: Any) -> None:
    path = _write(tmp_path / "k.pem", signer.private_pem(b"pw"))
    asked: list[str] = []

    def prompt(what: str) -> str:
        asked.append(what)
        return "pw"

    _works(signer_from_uri(f"file:{path}", prompt=prompt), signer.public_key)
    assert asked == [str(path)]


def test_file_percent_encoded_path(tmp_path: Path, signer: Any) -> None:
    path = _write(tmp_path / "a key?.pem", signer.private_pem(None))
    _works(
        signer_from_uri(f"file:{str(path).replace(' ', '%20').replace('?', '%3F')}"),
        signer.public_key,
    )


@pytest.mark.parametrize(
    ("setup", "uri_suffix", "match"),
    [
        ("encrypted", "?passphrase-env=TK_TEST_PASS_WRONG", "key file"),
        ("encrypted", "?passphrase-env=TK_TEST_PASS_UNSET", "unset"),
        ("encrypted", "", "encrypted"),
        ("encrypted", "?bogus=1", "unknown signer URI option"),
        ("missing", "", "cannot read"),
        ("directory", "", "cannot read"),
        ("oversized", "", "larger than"),
        ("garbage", "", "key file"),
        ("empty", "", "key file"),
    ],
)
def test_file_errors(
    tmp_path: Path,
    signer: Any,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    uri_suffix: str,
    match: str,
) -> None:
    monkeypatch.setenv("TK_TEST_PASS_WRONG", "not the passphrase")
    monkeypatch.delenv("TK_TEST_PASS_UNSET", raising=False)
    path = tmp_path / "k.pem"
    if setup == "encrypted":
        path.write_bytes(signer.private_pem(b"pw"))
    elif setup == "directory":
        path.mkdir()
    elif setup == "oversized":
        path.write_bytes(signer.private_pem(None) + b"\n" * (70 * 1024))
    elif setup == "garbage":
        path.write_bytes(os.urandom(512))
    elif setup == "empty":
        path.write_bytes(b"")
    with pytest.raises(ConfigError, match=match):
        signer_from_uri(f"file:{path}{uri_suffix}")


def test_file_key_mismatch(tmp_path: Path, signer: Any) -> None:
    path = _write(tmp_path / "k.pem", signer.private_pem(None))
    other = generate("ecdsa").public_key
    with pytest.raises(ConfigError, match="does not match"):
        signer_from_uri(f"file:{path}", other)


def test_env_signer(signer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TK_TEST_KEY", signer.private_pem(None).decode())
    _works(signer_from_uri("env:TK_TEST_KEY"), signer.public_key)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, "unset"),
        ("not a key", "key file"),
        ("x" * (65 * 1024), "larger than"),
    ],
)
def test_env_signer_errors(monkeypatch: pytest.MonkeyPatch, value: str | None, match: str) -> None:
    if value is None:
        monkeypatch.delenv("TK_TEST_KEY", raising=False)
    else:
        monkeypatch.setenv("TK_TEST_KEY", value)
    with pytest.raises(ConfigError, match=match):
        signer_from_uri("env:TK_TEST_KEY")


def test_env_signer_refuses_encrypted_key(signer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TK_TEST_KEY", signer.private_pem(b"pw").decode())
    with pytest.raises(ConfigError):
        signer_from_uri("env:TK_TEST_KEY")


@pytest.mark.parametrize("uri", ["", "nokey", "hsm:", "awskms:abc", "FILE:/x", ":x"])
def test_unknown_uri_schemes(uri: str) -> None:
    with pytest.raises(ConfigError, match="no known scheme"):
        signer_from_uri(uri)


def test_registry_is_not_global(signer: Any) -> None:
    registry = SignerRegistry.default()
    registry.register("mem", lambda rest, key, prompt: signer)
    assert registry.schemes == ["env", "file", "mem"]
    assert registry.signer("mem:anything") is signer
    with pytest.raises(ConfigError):
        signer_from_uri("mem:anything")
    assert SignerRegistry.default().schemes == ["env", "file"]
