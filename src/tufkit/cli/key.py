"""``tufkit key``: generate private keys (with their public keys beside them) and show public keys.

A generated private key file records its scheme (a ``tufkit-key-scheme:`` line before the PEM
block), so ``key show`` and every signer built from the file use the scheme, and keyid, that
``key generate`` printed.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from tufkit._atomic import write_atomically
from tufkit.cli._io import echo_json, prompt_passphrase, write_private_file

__all__ = ["key"]


@click.group()
def key() -> None:
    """Generate and inspect signing keys."""


KEY_TYPES = ("ed25519", "ecdsa", "rsa", "ml-dsa")


@key.command()
@click.option(
    "--type",
    "keytype",
    type=click.Choice(KEY_TYPES),
    default=None,
    help="Key type [default: the --scheme's type, else ed25519].",
)
@click.option(
    "--scheme",
    default=None,
    help=(
        "Signature scheme, e.g. ecdsa-sha2-nistp384, rsa-pkcs1v15-sha256, ml-dsa-44/1; "
        "the type's usual one if unset (ml-dsa: ml-dsa-65/1). The key file records it."
    ),
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Private key file; OUT.pub (PEM) and OUT.pub.json (TUF key) are written beside it.",
)
@click.option("--no-encrypt", is_flag=True, help="Write the private key unencrypted.")
@click.option(
    "--passphrase-env",
    metavar="NAME",
    default=None,
    help="Read the passphrase from environment variable NAME instead of prompting.",
)
@click.option("--force", is_flag=True, help="Replace existing files.")
def generate(
    keytype: str | None,
    scheme: str | None,
    out: Path,
    no_encrypt: bool,
    passphrase_env: str | None,
    force: bool,
) -> None:
    """Generate a private key in OUT (mode 0600) and its public key in OUT.pub and OUT.pub.json.

    OUT.pub is the public key as PEM (what in-toto's --verification-keys takes); OUT.pub.json
    holds {"keyid", "key"}, the key as TUF metadata lists it. The same JSON is printed.
    """
    from tufkit.crypto import generate as generate_key
    from tufkit.errors import ConfigError

    if no_encrypt and passphrase_env:
        raise click.UsageError("--no-encrypt and --passphrase-env contradict each other")
    keytype = keytype or _type_of_scheme(scheme)
    public_pem_path, public_json_path = public_key_paths(out)
    if not force:
        for path in (out, public_pem_path, public_json_path):
            if path.exists():
                raise click.ClickException(f"{path} exists; pass --force to replace it")
    password = None if no_encrypt else _new_passphrase(passphrase_env, out)
    try:
        signer = generate_key(keytype, scheme=scheme)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--scheme") from exc
    public = signer.public_key
    printed = {"keyid": public.keyid, "key": public.to_dict()}
    write_private_file(out, signer.private_pem(password), overwrite=force)
    _write_public(public_pem_path, signer.public_pem())
    _write_public(public_json_path, _json_bytes(printed))
    state = "encrypted" if password else "UNENCRYPTED"
    click.echo(f"wrote {state} private key to {out}", err=True)
    click.echo(f"wrote public key to {public_pem_path} (PEM) and {public_json_path}", err=True)
    echo_json(printed)


def public_key_paths(out: Path) -> tuple[Path, Path]:
    """Where ``key generate --out OUT`` writes the public key: ``OUT.pub``, ``OUT.pub.json``."""
    return out.with_name(out.name + ".pub"), out.with_name(out.name + ".pub.json")


def _type_of_scheme(scheme: str | None) -> str:
    from tufkit.crypto import SCHEMES

    if scheme is None:
        return "ed25519"
    info = SCHEMES.get(scheme)
    if info is None:
        known = ", ".join(sorted(SCHEMES))
        raise click.BadParameter(
            f"unknown scheme {scheme!r:.80} (known: {known})", param_hint="--scheme"
        )
    return info.keytypes[0]


def _new_passphrase(passphrase_env: str | None, out: Path) -> bytes:
    from tufkit.errors import ConfigError

    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if not value:
            raise ConfigError(f"environment variable {passphrase_env} is unset or empty")
    else:
        value = prompt_passphrase(str(out), confirm=True)
    if not value:
        raise ConfigError("an empty passphrase cannot encrypt a key; use --no-encrypt")
    return value.encode()


def _write_public(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data, mode=0o644)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc


def _json_bytes(value: object) -> bytes:
    import json

    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("ascii")


@key.command("show")
@click.argument("uri")
@click.option("--passphrase-env", metavar="NAME", default=None)
def show(uri: str, passphrase_env: str | None) -> None:
    """Print the public key and keyid of a signer URI or private key file."""
    from tufkit.crypto import signer_from_uri

    if ":" not in uri or Path(uri).exists():
        uri = f"file:{uri}"
    if passphrase_env and "?" not in uri:
        uri = f"{uri}?passphrase-env={passphrase_env}"
    signer = signer_from_uri(uri, prompt=prompt_passphrase)
    public = signer.public_key
    echo_json({"keyid": public.keyid, "key": public.to_dict()})
