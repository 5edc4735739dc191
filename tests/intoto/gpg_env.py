"""Throwaway gpg keyrings for the gpg tests: keys of each kind, made by the real gpg binary.

Every call uses ``--batch``, ``--no-auto-key-retrieve`` and a temporary home; nothing reaches a
keyserver or the user's keyring. gpg starts a ``gpg-agent`` daemon per home the first time it
needs a secret key; :class:`GpgHomes` hands out the homes and stops their daemons
(``gpgconf --kill all``) when a test is done with them, and :func:`gpg_daemons_under` finds any
that were left behind.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

# The daemons gpg starts on demand, each with ``--homedir HOME`` in its command line.
DAEMONS = frozenset({"gpg-agent", "dirmngr", "scdaemon", "keyboxd"})


def gpg(home: Path, *args: str, data: bytes = b"", faked_time: int | None = None) -> bytes:
    """Run gpg in *home* (at a faked start time, if given); return stdout."""
    clock = [] if faked_time is None else ["--faked-system-time", _gpg_time(faked_time)]
    done = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--no-auto-key-retrieve",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            *clock,
            *args,
        ],
        input=data,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def _gpg_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y%m%dT%H%M%S")


def gpg_status(home: Path, signature: bytes, data: bytes) -> list[str]:
    """``gpg --verify`` of a detached signature: the status keywords (GOODSIG, BADSIG, ...)."""
    directory = home / "verify"
    directory.mkdir(exist_ok=True)
    (directory / "data").write_bytes(data)
    (directory / "data.sig").write_bytes(signature)
    argv = ["gpg", "--homedir", str(home), "--batch", "--no-auto-key-retrieve", "--status-fd", "1"]
    done = subprocess.run(
        [*argv, "--verify", str(directory / "data.sig"), str(directory / "data")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return [line.split()[1] for line in done.stdout.splitlines() if line.startswith("[GNUPG:] ")]


def fingerprints(home: Path, uid: str) -> list[str]:
    """Fingerprints of the key with *uid* (primary first, then subkeys)."""
    listing = gpg(home, "--list-keys", "--with-colons", uid).decode()
    return [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")]


def stop_daemons(home: Path) -> None:
    """Stop every daemon gpg started for *home* and wait until they are gone."""
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "all"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    deadline = time.monotonic() + 10
    while gpg_daemons_under(home) and time.monotonic() < deadline:
        time.sleep(0.05)


def gpg_daemons_under(root: Path) -> list[tuple[int, str]]:
    """(pid, command line) of running gpg daemons whose home directory is *root* or below it."""
    found = []
    prefix = os.path.realpath(root)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        words = [word.decode(errors="replace") for word in argv if word]
        if not words or os.path.basename(words[0]) not in DAEMONS or "--homedir" not in words:
            continue
        position = words.index("--homedir") + 1
        home = os.path.realpath(words[position]) if position < len(words) else ""
        if home == prefix or home.startswith(prefix + os.sep):
            found.append((int(entry.name), " ".join(words)))
    return found


class GpgHomes:
    """Hands out private gpg homes below pytest's base directory and stops their daemons."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self.homes: list[Path] = []

    @property
    def root(self) -> Path:
        return self._factory.getbasetemp()

    def new(self, name: str) -> Path:
        """A new empty home, mode 0700 as gpg wants it."""
        home = self._factory.mktemp(name)
        os.chmod(home, 0o700)
        self.homes.append(home)
        return home

    def stop(self, home: Path) -> None:
        stop_daemons(home)

    def close(self) -> None:
        """Fail if any gpg daemon of a test home is still running (after stopping them all)."""
        left = gpg_daemons_under(self.root)
        for home in self.homes:
            stop_daemons(home)
        for pid, _ in gpg_daemons_under(self.root):
            os.kill(pid, 15)  # a daemon of a home not handed out here
        assert not left, f"gpg daemons left running by the tests: {left}"


@dataclass
class Keyring:
    """A gpg home and the fingerprints of its keys by name (primary first, then subkeys)."""

    home: Path
    keys: dict[str, list[str]] = field(default_factory=dict)

    def add(
        self,
        name: str,
        algo: str,
        expire: str = "never",
        *subkeys: str,
        faked_time: int | None = None,
    ) -> str:
        """Make a signing key (and subkeys, given as "algo usage expire"); return its fpr.

        With *faked_time*, the key is made then, and each subkey a minute later than the last.
        """
        uid = f"{name} <{name}@example.com>"
        gpg(self.home, "--quick-gen-key", uid, algo, "sign", expire, faked_time=faked_time)
        primary = fingerprints(self.home, uid)[0]
        for number, spec in enumerate(subkeys, start=1):
            when = None if faked_time is None else faked_time + 60 * number
            gpg(self.home, "--quick-add-key", primary, *spec.split(), faked_time=when)
        self.keys[name] = fingerprints(self.home, uid)
        return primary

    def revoke(self, name: str) -> None:
        """Import the revocation certificate gpg stored when it made the key."""
        cert = (self.home / "openpgp-revocs.d" / f"{self.keys[name][0]}.rev").read_text()
        gpg(self.home, "--import", data=cert.replace(":-----BEGIN", "-----BEGIN").encode())

    def revoke_subkey(self, name: str, index: int) -> None:
        """Revoke subkey number *index* (1 = the first) of key *name* with ``--edit-key``."""
        commands = f"key {index}\nrevkey\ny\n0\n\ny\nsave\n"
        gpg(
            self.home, "--command-fd", "0", "--edit-key", self.keys[name][0], data=commands.encode()
        )

    def export(self, keyid: str) -> bytes:
        """The binary ``gpg --export`` of a key."""
        return gpg(self.home, "--export", keyid)

    def export_secret(self, keyid: str) -> bytes:
        """The binary ``gpg --export-secret-keys`` of a key (no passphrase: secrets in clear)."""
        return gpg(self.home, "--export-secret-keys", keyid)

    def sign(self, keyid: str, data: bytes, *, faked_time: int | None = None) -> bytes:
        """A detached SHA-256 signature by exactly *keyid* (``KEYID!``)."""
        args = ("--detach-sign", "--digest-algo", "SHA256", "-u", f"{keyid}!")
        return gpg(self.home, *args, data=data, faked_time=faked_time)


def make_keyring(home: Path) -> Keyring:
    """rsa, eddsa, dsa; rsasub (an RSA signing subkey), rsaedsub and eddsasub (subkeys the
    reference drops), rsaenc (an RSA encryption subkey, which the reference keeps)."""
    ring = Keyring(home)
    ring.add("rsa", "rsa2048")
    ring.add("eddsa", "ed25519")
    ring.add("dsa", "dsa2048")
    ring.add("rsasub", "rsa2048", "never", "rsa2048 sign 2y")
    ring.add("rsaedsub", "rsa2048", "never", "ed25519 sign never")
    ring.add("eddsasub", "ed25519", "3y", "rsa2048 sign 1y", "cv25519 encr never")
    ring.add("rsaenc", "rsa2048", "5y", "rsa2048 encr never")
    return ring
