"""OpenPGP signatures in in-toto metadata, and the gpg binary for keys and signing.

A gpg signature entry is ``{"keyid", "signature", "other_headers"}`` (hex); the layout's key dict
carries the public numbers as hex (``type`` rsa/dsa/eddsa, ``method`` pgp+...). Verification is
done in Python over the RFC 4880 v4 hashed data with SHA-256, as securesystemslib does: a signing
subkey of a listed main key is used when the entry names it; an expired key raises
:class:`GpgKeyExpiredError` before the signature is looked at. :func:`export_gpg_key` runs
``gpg --export`` and :class:`GpgSigner` runs ``gpg --detach-sign`` (always ``--batch``, never a
keyserver). This module does not parse packets itself (``_openpgp``/``_gpgkeys`` do) and does not
check revocations when verifying (the reference does not; exports log a warning).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from tufkit.errors import ConfigError, FormatError
from tufkit.intoto._errors import GpgKeyExpiredError
from tufkit.intoto._openpgp import (
    HASH_SHA256,
    SIG_BINARY,
    TAG_SIGNATURE,
    parse_signature,
    split_packets,
    verify_signature,
)

__all__ = [
    "GpgSigner",
    "export_gpg_key",
    "export_gpg_keys",
    "is_gpg_signature",
    "verify_gpg_signature",
]

_LOG = logging.getLogger(__name__)
_KEYID = re.compile(r"[0-9a-fA-F]{8,40}")
EXPORT_TIMEOUT = 10  # seconds, as the reference
SIGN_TIMEOUT = 60  # seconds; gpg-agent may ask for a passphrase
MAX_GPG_OUTPUT = 16 * 1024 * 1024  # bytes


def is_gpg_signature(entry: dict[str, Any]) -> bool:
    """True if a signature entry is in the OpenPGP form."""
    return "signature" in entry and "other_headers" in entry


def _expired(key: dict[str, Any]) -> bool:
    created = key.get("creation_time")
    period = key.get("validity_period")
    if type(created) is int and type(period) is int and created and period:
        return created + period < time.time()
    return False


def verify_gpg_signature(entry: dict[str, Any], key: dict[str, Any], content: bytes) -> bool:
    """Return True if the OpenPGP signature *entry* by *key* (or its subkey) covers *content*.

    Raises:
        GpgKeyExpiredError: the key (or the subkey the entry names) has expired; the
            reference refuses such keys before checking the signature.
    """
    subkeys = key.get("subkeys")
    chosen = key
    if isinstance(subkeys, dict) and isinstance(subkeys.get(entry.get("keyid")), dict):
        chosen = subkeys[entry["keyid"]]
    if _expired(chosen):
        raise GpgKeyExpiredError(f"gpg key {chosen.get('keyid')!s:.40} has expired")
    try:
        headers = bytes.fromhex(entry["other_headers"])
        signature = bytes.fromhex(entry["signature"])
    except (KeyError, TypeError, ValueError):
        return False
    return verify_signature(chosen, signature, headers, content)


def _check_keyid(keyid: str) -> str:
    if not isinstance(keyid, str) or not _KEYID.fullmatch(keyid):
        raise ConfigError(f"gpg key id {keyid!r:.60} must be 8 to 40 hex digits")
    return keyid


def _gpg_binary() -> str:
    for name in (os.environ.get("GNUPG"), "gpg2", "gpg"):
        found = shutil.which(name) if name else None
        if found:
            return found
    raise ConfigError("gpg is not installed: gpg keys and signatures need the gpg binary")


def _run_gpg(args: list[str], homedir: str | None, timeout: float, data: bytes = b"") -> bytes:
    argv = [_gpg_binary(), "--batch", "--no-auto-key-retrieve"]
    if homedir is not None:
        argv += ["--homedir", os.fspath(homedir)]
    try:
        done = subprocess.run(
            [*argv, *args], input=data, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"gpg did not finish within {timeout} s") from exc
    except OSError as exc:
        raise ConfigError(f"gpg cannot be run: {exc}") from exc
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise ConfigError(f"gpg failed (exit status {done.returncode}): {text}")
    if len(done.stdout) > MAX_GPG_OUTPUT:
        raise ConfigError(f"gpg wrote more than {MAX_GPG_OUTPUT} bytes")
    return done.stdout


def export_gpg_key(
    keyid: str, *, homedir: str | None = None, timeout: float = EXPORT_TIMEOUT
) -> dict[str, Any]:
    """Export a public key (main key or subkey id) from a keyring as the reference's key dict.

    Args:
        keyid: a key id or fingerprint (hex) of the main key or one of its subkeys.
        homedir: the gpg home directory; gpg's default if None.
        timeout: seconds gpg may take.

    Raises:
        ConfigError: bad key id, gpg missing or failing, or no such key in the keyring.
        FormatError: gpg's output is not a well-formed v4 RSA, DSA or EdDSA key.
    """
    from tufkit.intoto._gpgkeys import parse_key_bundle

    data = _run_gpg(["--export", _check_keyid(keyid)], homedir, timeout)
    if not data:
        raise ConfigError(f"gpg key {keyid} is not in the keyring")
    try:
        bundle = parse_key_bundle(data)
    except FormatError as exc:
        raise FormatError(f"gpg key {keyid}: {exc}") from exc
    key = bundle.key
    wanted = keyid.lower()
    if not any(k.endswith(wanted) for k in [key["keyid"], *key.get("subkeys", {})]):
        raise ConfigError(f"gpg key {keyid} is not in the exported key data")
    for note in bundle.notes:
        _LOG.warning("%s", note)
    for revoked in sorted(bundle.revoked):
        _LOG.warning("gpg key %s is revoked; in-toto (like its reference) still trusts it", revoked)
    return key


def export_gpg_keys(keyids: list[str], *, homedir: str | None = None) -> dict[str, dict[str, Any]]:
    """Export several keys; return them by main keyid.

    Raises:
        ConfigError: as :func:`export_gpg_key`.
        FormatError: as :func:`export_gpg_key`.
    """
    keys = {}
    for keyid in keyids:
        key = export_gpg_key(keyid, homedir=homedir)
        keys[key["keyid"]] = key
    return keys


@dataclass(frozen=True)
class GpgSigner:
    """Signs with a key of a gpg keyring (``keyid`` None: gpg's default key).

    Attributes:
        keyid: the key to sign with (hex), or None for gpg's default signing key.
        homedir: the gpg home directory, or None for gpg's default.
    """

    keyid: str | None = None
    homedir: str | None = None

    def sign_entry(self, content: bytes) -> dict[str, str]:
        """Sign *content* with ``gpg --detach-sign`` (SHA-256); return the signature entry.

        Raises:
            ConfigError: bad key id, gpg missing or failing.
            FormatError: gpg's output is not one v4 binary-document SHA-256 signature with an
                issuer fingerprint.
        """
        args = ["--detach-sign", "--digest-algo", "SHA256"]
        if self.keyid is not None:
            args += ["--local-user", _check_keyid(self.keyid)]
        packets = split_packets(_run_gpg(args, self.homedir, SIGN_TIMEOUT, content))
        if len(packets) != 1 or packets[0].tag != TAG_SIGNATURE:
            raise FormatError("gpg did not write exactly one signature packet")
        parsed = parse_signature(packets[0].body)
        if parsed.sig_type != SIG_BINARY or parsed.hash_algorithm != HASH_SHA256:
            raise FormatError("gpg did not write a SHA-256 binary-document signature")
        if not parsed.keyid:
            raise FormatError("gpg's signature lacks the issuer fingerprint (gpg < 2.1?)")
        return parsed.to_entry()
