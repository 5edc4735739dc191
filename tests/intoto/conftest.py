"""Fixtures for the in-toto tests: PEM key files per key type, and runners for both CLIs.

``ref(...)`` runs the reference's ``in-toto-*`` tools, ``tk(...)`` runs ``tufkit intoto ...``,
both as real processes in a given directory, returning the completed process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpg_env import GpgHomes

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class KeyFiles:
    """A private and a public PEM key file."""

    name: str
    private: Path
    public: Path


def _write_key(directory: Path, name: str, kind: str) -> KeyFiles:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif kind == "ecdsa":
        private = ec.generate_private_key(ec.SECP256R1())
    elif kind == "ecdsa384":
        private = ec.generate_private_key(ec.SECP384R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = directory / f"{name}.pem"
    pub = directory / f"{name}.pub"
    priv.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyFiles(name, priv, pub)


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyFiles]:
    """alice (ed25519), bob (rsa), carl (ecdsa), dave (ed25519), erin (ecdsa384)."""
    directory = tmp_path_factory.mktemp("keys")
    kinds = {
        "alice": "ed25519",
        "bob": "rsa",
        "carl": "ecdsa",
        "dave": "ed25519",
        "erin": "ecdsa384",
    }
    return {name: _write_key(directory, name, kind) for name, kind in kinds.items()}


Runner = Callable[..., subprocess.CompletedProcess[str]]


def _runner(prefix: list[str]) -> Runner:
    def run(*args: object, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        return subprocess.run(
            [*prefix, *map(str, args)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def ref() -> Callable[..., Runner]:
    """``ref("run")(args..., cwd=...)`` runs ``in-toto-run``."""
    return lambda tool: _runner([str(BIN / f"in-toto-{tool}")])


@pytest.fixture(scope="session")
def tk() -> Runner:
    """``tk("run", args..., cwd=...)`` runs ``tufkit intoto run``."""
    return _runner([str(BIN / "tufkit"), "intoto"])


@pytest.fixture(scope="session")
def gpg_homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpgHomes]:
    """gpg homes for the gpg tests; at the end, fails if any gpg daemon of a test home runs."""
    homes = GpgHomes(tmp_path_factory)
    yield homes
    homes.close()
