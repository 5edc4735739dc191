"""OpenPGP signatures in in-toto metadata, and the gpg binary for keys and signing.

A gpg signature entry is ``{"keyid", "signature", "other_headers"}`` (hex); the layout's key dict
carries the public numbers as hex (``type`` rsa/dsa/eddsa, ``method`` pgp+...). Verification is
done in Python over the RFC 4880 v4 hashed data with SHA-256: a signing subkey of a listed main key
is used when the entry names it; an expired key (or a subkey whose primary key has expired) raises
:class:`GpgKeyExpiredError` before the signature is looked at. Beyond securesystemslib, and as gpg
does, a signature counts only if it is a binary-document signature (type 0x00) whose header names
SHA-256 and the key's own algorithm, carries a hashed creation time not before the key's, has not
passed its own expiration time, names (if it names one in its hashed part) the key that verifies
it, and marks no subpacket critical that this module does not understand.

Key properties that live only in the keyring (usage flags, cross-certification, revocation) are
judged when a key is exported (``_gpgkeys``); a key dict in a layout is trusted as listed.
:func:`export_gpg_key` runs ``gpg --export`` and :class:`GpgSigner` runs ``gpg --detach-sign``
(always ``--batch``, never a keyserver). This module does not parse packets itself.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tufkit.errors import ConfigError, FormatError
from tufkit.intoto._errors import GpgKeyExpiredError, SignatureVerificationError
from tufkit.intoto._openpgp import (
    HASH_NAMES,
    HASH_SHA256,
    SIG_BINARY,
    SUB_CREATION_TIME,
    SUB_ISSUER,
    SUB_ISSUER_FINGERPRINT,
    SUB_SIGNATURE_EXPIRATION,
    TAG_SIGNATURE,
    SignatureHeader,
    parse_signature,
    parse_signature_header,
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


# Subpackets a data signature may mark critical: the ones whose meaning is enforced here or that
# only name the signer. Any other critical subpacket voids the signature (RFC 4880 5.2.3.1), as in
# gpg ("assuming bad signature ... due to an unknown critical bit").
_UNDERSTOOD_CRITICAL = frozenset(
    {SUB_CREATION_TIME, SUB_SIGNATURE_EXPIRATION, SUB_ISSUER, SUB_ISSUER_FINGERPRINT}
)
_ALGORITHM_OF_TYPE = {"rsa": 1, "dsa": 17, "eddsa": 22}
_SIGNATURE_TYPES = {
    0x01: "a canonical-text signature",
    0x02: "a standalone signature",
    0x10: "a user ID certification",
    0x11: "a user ID certification",
    0x12: "a user ID certification",
    0x13: "a user ID certification",
    0x18: "a subkey binding signature",
    0x19: "a primary key binding signature",
    0x1F: "a direct-key signature",
    0x20: "a key revocation",
    0x28: "a subkey revocation",
    0x30: "a certification revocation",
    0x40: "a timestamp signature",
    0x50: "a third-party confirmation",
}


def _expired(key: dict[str, Any], now: float) -> bool:
    created = key.get("creation_time")
    period = key.get("validity_period")
    if type(created) is int and type(period) is int and created and period:
        return created + period < now
    return False


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refusal(header: SignatureHeader, key: dict[str, Any], now: float) -> str | None:
    """Why gpg would not count this signature by *key* whatever its mathematics, or None."""
    if header.sig_type != SIG_BINARY:
        kind = _SIGNATURE_TYPES.get(header.sig_type, "an unknown type")
        return f"signature type 0x{header.sig_type:02x} ({kind}) is not a signature of data"
    if header.algorithm != _ALGORITHM_OF_TYPE.get(str(key.get("type"))):
        return f"the header names public-key algorithm {header.algorithm}, not the key's"
    if header.hash_algorithm != HASH_SHA256:
        name = HASH_NAMES.get(header.hash_algorithm, str(header.hash_algorithm))
        return f"the header names hash algorithm {name}; in-toto's gpg signatures use SHA-256"
    for sub in header.hashed:
        if sub.critical and sub.kind not in _UNDERSTOOD_CRITICAL:
            return f"it has a critical subpacket of unknown type {sub.kind}"
    keyid = str(key.get("keyid"))
    fingerprint = header.hashed_value(SUB_ISSUER_FINGERPRINT)
    if fingerprint is not None and fingerprint[1:].hex() != keyid:
        return f"its hashed issuer is {fingerprint[1:].hex()[:40]}, not this key"
    issuer = header.hashed_value(SUB_ISSUER)
    if issuer is not None and not keyid.endswith(issuer.hex()):
        return f"its hashed issuer key ID is {issuer.hex()[:16]}, not this key's"
    try:
        created = header.hashed_u32(SUB_CREATION_TIME)
        lifetime = header.hashed_u32(SUB_SIGNATURE_EXPIRATION)
    except FormatError as exc:
        return str(exc)
    if created is None:
        return "it has no hashed creation time"
    key_created = key.get("creation_time")
    if type(key_created) is int and created < key_created:
        return "it was made before the key was created"
    if lifetime and created + lifetime <= now:
        return f"the signature expired at {_utc(created + lifetime)}"
    return None


def _signing_key(
    entry: dict[str, Any], key: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The (sub)key the entry names, and the primary key if that is a subkey."""
    subkeys = key.get("subkeys")
    named = entry.get("keyid")
    if isinstance(named, str) and isinstance(subkeys, dict):
        subkey = subkeys.get(named)
        if isinstance(subkey, dict):
            return subkey, key
    return key, None


def verify_gpg_signature(
    entry: dict[str, Any], key: dict[str, Any], content: bytes, *, now: float | None = None
) -> bool:
    """Return True if the OpenPGP signature *entry* by *key* (or its subkey) covers *content*.

    Args:
        entry: the signature entry (``keyid``, ``other_headers``, ``signature``).
        key: the layout's key dict (with ``subkeys``, if any).
        content: the signed bytes.
        now: the reference time for key and signature expiry (seconds); the clock if None.

    Raises:
        GpgKeyExpiredError: the key, the subkey the entry names, or that subkey's primary key
            has expired; checked before the signature is looked at, as the reference does.
        SignatureVerificationError: the signature is one gpg does not count either (see the
            module docstring); the message says why.
    """
    when = time.time() if now is None else now
    chosen, primary = _signing_key(entry, key)
    if primary is not None and _expired(primary, when):
        raise GpgKeyExpiredError(
            f"gpg key {primary.get('keyid')!s:.40}, the primary key of subkey "
            f"{chosen.get('keyid')!s:.40}, has expired"
        )
    if _expired(chosen, when):
        raise GpgKeyExpiredError(f"gpg key {chosen.get('keyid')!s:.40} has expired")
    try:
        headers = bytes.fromhex(entry["other_headers"])
        signature = bytes.fromhex(entry["signature"])
        header = parse_signature_header(headers)
    except (KeyError, TypeError, ValueError, FormatError):
        return False
    reason = _refusal(header, chosen, when)
    if reason is not None:
        raise SignatureVerificationError(
            f"gpg signature by {chosen.get('keyid')!s:.40} does not count: {reason}"
        )
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

    Unlike the reference, subkeys gpg would not accept data signatures from (encryption-only,
    not cross-certified, revoked) are left out with a warning, and a revoked primary key, or a
    key id naming a left-out subkey, is refused.

    Args:
        keyid: a key id or fingerprint (hex) of the main key or one of its subkeys.
        homedir: the gpg home directory; gpg's default if None.
        timeout: seconds gpg may take.

    Raises:
        ConfigError: bad key id, gpg missing or failing, no such key in the keyring, a revoked
            primary key, or a subkey that cannot sign.
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
    if key["keyid"] in bundle.revoked:
        raise ConfigError(f"gpg key {key['keyid']} is revoked; its signatures count for nothing")
    wanted = keyid.lower()
    for refused, reason in sorted(bundle.refused.items()):
        if refused.endswith(wanted):
            raise ConfigError(f"gpg subkey {refused} cannot sign links: {reason}")
        _LOG.warning("gpg subkey %s of %s left out: %s", refused, key["keyid"], reason)
    if not any(k.endswith(wanted) for k in [key["keyid"], *key.get("subkeys", {})]):
        raise ConfigError(f"gpg key {keyid} is not in the exported key data")
    for note in bundle.notes:
        _LOG.warning("%s", note)
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
