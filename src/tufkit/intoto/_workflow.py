"""Functionary workflows over files: sign a link, record start/stop, sign or check a file.

These are the library halves of ``tufkit intoto run | record | sign``: they choose the envelope,
the file names (``<step>.<keyid8>.link``, ``.<step>.<keyid8>.link-unfinished``) and write
atomically. This module does not parse command lines or prompt.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tufkit.crypto import CryptoSigner, Key, Signer
from tufkit.intoto._envelope import DsseEnvelope, Envelope, Metablock
from tufkit.intoto._errors import InvalidMetadataError, LinkNotFoundError
from tufkit.intoto._files import (
    check_name,
    link_filename,
    read_metadata,
    unfinished_filename,
    write_metadata,
)
from tufkit.intoto._gpg import GpgSigner, export_gpg_key
from tufkit.intoto._keys import key_to_layout_dict
from tufkit.intoto._models import Link
from tufkit.intoto._record import RecordOptions, record_artifacts

__all__ = [
    "envelope_for",
    "load_private_key_file",
    "record_start",
    "record_stop",
    "sign_metadata",
    "verify_metadata_signatures",
]


def load_private_key_file(path: str | os.PathLike[str], password: bytes | None) -> CryptoSigner:
    """Load a PEM (PKCS#8 or traditional) private key file as a signer.

    Raises:
        ConfigError: unreadable key, wrong or missing passphrase, unsupported key type.
        OSError: the file cannot be read.
    """
    return CryptoSigner.from_private_pem(Path(path).read_bytes(), password)


def envelope_for(link: Link, *, use_dsse: bool) -> Envelope:
    """Wrap *link* in a DSSE envelope or (the default) a Metablock."""
    return DsseEnvelope.from_payload(link) if use_dsse else Metablock(link)


def record_start(
    name: str,
    signer: Signer | GpgSigner,
    materials: Sequence[str],
    *,
    options: RecordOptions | None = None,
    use_dsse: bool = False,
    directory: str | os.PathLike[str] = ".",
) -> Path:
    """Record materials and write the signed unfinished link; return its path.

    Raises:
        PrefixError: bad lstrip paths.
        ConfigError: a path leads outside the base directory, or gpg failed.
        FormatError: gpg wrote a signature that cannot be read.
        OSError: an artifact cannot be read or the file cannot be written.
        InvalidMetadataError: *name* cannot name a link file (checked before recording).
    """
    check_name(name)
    link = Link(name=name, materials=record_artifacts(materials, options) if materials else {})
    metadata = envelope_for(link, use_dsse=use_dsse)
    keyid = metadata.sign(signer)
    path = Path(directory) / unfinished_filename(name, keyid)
    write_metadata(path, metadata)
    return path


def _unfinished_for_gpg(name: str, directory: Path) -> Path:
    """The one unfinished link of *name* (gpg signers need not know their keyid beforehand)."""
    prefix, suffix = f".{check_name(name)}.", ".link-unfinished"
    found = sorted(
        entry
        for entry in os.listdir(directory)
        if entry.startswith(prefix) and entry.endswith(suffix)
    )
    if len(found) != 1:
        raise LinkNotFoundError(
            f"need exactly one unfinished link for step {name!r} in {directory}, found {len(found)}"
        )
    return directory / found[0]


def record_stop(
    name: str,
    signer: Signer | GpgSigner,
    products: Sequence[str],
    *,
    options: RecordOptions | None = None,
    metadata_directory: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] = ".",
) -> Path:
    """Check the unfinished link, add products, re-sign, write the link; return its path.

    A gpg signer's key is exported from its keyring (the key that signed the unfinished link if
    the signer names none) to check the unfinished link, as the reference does.

    Raises:
        InvalidMetadataError: the unfinished file is malformed or not a link.
        LinkNotFoundError: (gpg) not exactly one unfinished link for the step.
        SignatureVerificationError: the unfinished file was not signed by *signer*'s key.
        PrefixError: bad lstrip paths.
        ConfigError: a path leads outside the base directory, or gpg failed.
        FormatError: gpg wrote a key or signature that cannot be read.
        OSError: a file cannot be read or written.
    """
    if isinstance(signer, GpgSigner):
        unfinished = _unfinished_for_gpg(name, Path(directory))
        metadata = read_metadata(unfinished)
        wanted = signer.keyid or (metadata.keyids or [""])[0]
        key = export_gpg_key(wanted, homedir=signer.homedir)
        keyid = str(key["keyid"])
    else:
        keyid = signer.public_key.keyid
        unfinished = Path(directory) / unfinished_filename(name, keyid)
        metadata = read_metadata(unfinished)
        key = key_to_layout_dict(signer.public_key)
    metadata.verify_signature(keyid, key)
    link = metadata.payload()
    if not isinstance(link, Link):
        raise InvalidMetadataError(f"{unfinished} does not hold a link")
    link.products = record_artifacts(products, options) if products else {}
    finished = envelope_for(link, use_dsse=isinstance(metadata, DsseEnvelope))
    signed_by = finished.sign(signer)
    out_dir = Path(metadata_directory) if metadata_directory else Path(directory)
    path = out_dir / link_filename(name, signed_by)
    write_metadata(path, finished)
    unfinished.unlink()
    return path


def sign_metadata(
    metadata: Envelope, signers: Sequence[Signer | GpgSigner], *, append: bool = False
) -> list[str]:
    """Sign *metadata* with each signer, replacing existing signatures unless *append*.

    Returns:
        the keyids of the new signatures, in order.

    Raises:
        ConfigError: a gpg signer failed or cannot sign this envelope.
        FormatError: gpg wrote a signature that cannot be read.
    """
    if not append:
        metadata.clear_signatures()
    return [metadata.sign(signer) for signer in signers]


def verify_metadata_signatures(metadata: Envelope, keys: Sequence[Key]) -> None:
    """Check that every key in *keys* signed *metadata*.

    Raises:
        SignatureVerificationError: a key has no valid signature.
    """
    for key in keys:
        metadata.verify_signature(key.keyid, key_to_layout_dict(key))
