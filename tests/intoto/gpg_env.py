"""A throwaway gpg keyring for the gpg tests: keys of each kind, made by the real gpg binary.

Every call uses ``--batch``, ``--no-auto-key-retrieve`` and the temporary home; nothing reaches a
keyserver or the user's keyring.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


def gpg(home: Path, *args: str, data: bytes = b"") -> bytes:
    """Run gpg in *home*; return stdout."""
    done = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--no-auto-key-retrieve",
            "--passphrase",
            "",
            *args,
        ],
        input=data,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def fingerprints(home: Path, uid: str) -> list[str]:
    """Fingerprints of the key with *uid* (primary first, then subkeys)."""
    listing = gpg(home, "--list-keys", "--with-colons", uid).decode()
    return [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")]


@dataclass
class Keyring:
    """A gpg home and the fingerprints of its keys by name (primary first, then subkeys)."""

    home: Path
    keys: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, algo: str, expire: str = "never", *subkeys: str) -> str:
        """Make a signing key (and subkeys, given as "algo usage expire"); return its fpr."""
        uid = f"{name} <{name}@example.com>"
        gpg(self.home, "--quick-gen-key", uid, algo, "sign", expire)
        primary = fingerprints(self.home, uid)[0]
        for spec in subkeys:
            gpg(self.home, "--quick-add-key", primary, *spec.split())
        self.keys[name] = fingerprints(self.home, uid)
        return primary

    def revoke(self, name: str) -> None:
        """Import the revocation certificate gpg stored when it made the key."""
        cert = (self.home / "openpgp-revocs.d" / f"{self.keys[name][0]}.rev").read_text()
        gpg(self.home, "--import", data=cert.replace(":-----BEGIN", "-----BEGIN").encode())

    def export(self, keyid: str) -> bytes:
        """The binary ``gpg --export`` of a key."""
        return gpg(self.home, "--export", keyid)


def make_keyring(home: Path) -> Keyring:
    """rsa, eddsa, dsa; rsasub (an RSA signing subkey), rsaedsub and eddsasub (subkeys the
    reference drops), rsaenc (an RSA encryption subkey, which the reference keeps)."""
    os.chmod(home, 0o700)
    ring = Keyring(home)
    ring.add("rsa", "rsa2048")
    ring.add("eddsa", "ed25519")
    ring.add("dsa", "dsa2048")
    ring.add("rsasub", "rsa2048", "never", "rsa2048 sign 2y")
    ring.add("rsaedsub", "rsa2048", "never", "ed25519 sign never")
    ring.add("eddsasub", "ed25519", "3y", "rsa2048 sign 1y", "cv25519 encr never")
    ring.add("rsaenc", "rsa2048", "5y", "rsa2048 encr never")
    return ring
