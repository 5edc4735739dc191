"""``tufkit key``: generate private keys and show public keys."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tufkit.cli._io import echo_json, prompt_passphrase, write_private_file

__all__ = ["key"]


@click.group()
def key() -> None:
    """Generate and inspect signing keys."""


@key.command()
@click.option(
    "--type",
    "keytype",
    type=click.Choice(["ed25519", "ecdsa", "rsa"]),
    default="ed25519",
    show_default=True,
    help="Key type.",
)
@click.option(
    "--scheme",
    default=None,
    help="Signature scheme (e.g. ecdsa-sha2-nistp384); the type's usual one if unset.",
)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--no-encrypt", is_flag=True, help="Write the private key unencrypted.")
@click.option(
    "--passphrase-env",
    metavar="NAME",
    default=None,
    help="Read the passphrase from environment variable NAME instead of prompting.",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def generate(
    keytype: str,
    scheme: str | None,
    out: Path,
    no_encrypt: bool,
    passphrase_env: str | None,
    force: bool,
) -> None:
    """Generate a private key in OUT (mode 0600) and print its public key and keyid."""
    from tufkit.crypto import generate as generate_key
    from tufkit.errors import ConfigError

    if no_encrypt and passphrase_env:
        raise click.UsageError("--no-encrypt and --passphrase-env contradict each other")
    password: bytes | None = None
    if not no_encrypt:
        if passphrase_env:
            value = os.environ.get(passphrase_env)
            if not value:
                raise ConfigError(f"environment variable {passphrase_env} is unset or empty")
        else:
            value = prompt_passphrase(str(out), confirm=True)
        if not value:
            raise ConfigError("an empty passphrase cannot encrypt a key; use --no-encrypt")
        password = value.encode()
    try:
        signer = generate_key(keytype, scheme=scheme)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--scheme") from exc
    write_private_file(out, signer.private_pem(password), overwrite=force)
    public = signer.public_key
    click.echo(f"wrote {'encrypted' if password else 'UNENCRYPTED'} private key to {out}", err=True)
    echo_json({"keyid": public.keyid, "key": public.to_dict()})


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
