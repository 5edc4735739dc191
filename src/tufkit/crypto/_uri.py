"""Signer URIs: where a private key lives, as a string.

* ``file:PATH`` — a PKCS#8 PEM file; if encrypted, its passphrase comes from the environment
  variable named by ``?passphrase-env=NAME`` or, failing that, from the caller's prompt.
* ``env:NAME`` — the PEM text of an unencrypted private key in environment variable NAME.

Other schemes (``hsm:``, cloud KMS) are added to a :class:`SignerRegistry` by optional extras.
A registry is an ordinary object: nothing here is global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from tufkit.crypto._key import Key
from tufkit.crypto._signer import CryptoSigner, Signer
from tufkit.errors import ConfigError

__all__ = ["PassphrasePrompt", "SignerFactory", "SignerRegistry", "signer_from_uri"]

#: Called with a description of the key when a passphrase is needed; returns it.
PassphrasePrompt = Callable[[str], str]
#: Builds a signer from (the URI without its scheme, the public key or None, a prompt or None).
SignerFactory = Callable[[str, Key | None, PassphrasePrompt | None], Signer]

MAX_KEY_FILE_BYTES = 64 * 1024  # a PEM private key is a few KiB at most


def _split_query(rest: str) -> tuple[str, dict[str, str]]:
    from urllib.parse import parse_qs, unquote

    path, _, query = rest.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(options) - {"passphrase-env"}
    if unknown:
        raise ConfigError(f"unknown signer URI option(s): {', '.join(sorted(unknown))}")
    return unquote(path), options


def _file_signer(rest: str, public_key: Key | None, prompt: PassphrasePrompt | None) -> Signer:
    from pathlib import Path

    path_text, options = _split_query(rest)
    if path_text.startswith("//"):
        path_text = path_text[2:]
    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            pem = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror or exc}") from exc
    if len(pem) > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    password = None
    if b"ENCRYPTED" in pem:
        password = _passphrase(options.get("passphrase-env"), prompt, str(path)).encode()
    return CryptoSigner.from_private_pem(pem, password, public_key=public_key)


def _passphrase(env_name: str | None, prompt: PassphrasePrompt | None, what: str) -> str:
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise ConfigError(f"environment variable {env_name} (passphrase of {what}) is unset")
        return value
    if prompt is None:
        raise ConfigError(f"{what} is encrypted; give ?passphrase-env=NAME or run interactively")
    return prompt(what)


def _env_signer(rest: str, public_key: Key | None, _prompt: PassphrasePrompt | None) -> Signer:
    name = rest.strip()
    value = os.environ.get(name)
    if not name or value is None:
        raise ConfigError(f"environment variable {name!r} holding a private key is unset")
    if len(value) > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"environment variable {name} is larger than {MAX_KEY_FILE_BYTES} bytes")
    return CryptoSigner.from_private_pem(value.encode(), None, public_key=public_key)


class SignerRegistry:
    """Maps URI schemes to signer factories."""

    def __init__(self, factories: Mapping[str, SignerFactory] | None = None) -> None:
        self._factories: dict[str, SignerFactory] = dict(factories or {})

    @classmethod
    def default(cls) -> SignerRegistry:
        """A registry with the built-in ``file:`` and ``env:`` schemes."""
        return cls({"file": _file_signer, "env": _env_signer})

    def register(self, scheme: str, factory: SignerFactory) -> None:
        """Add or replace the factory for *scheme*."""
        self._factories[scheme] = factory

    @property
    def schemes(self) -> list[str]:
        """The URI schemes this registry resolves."""
        return sorted(self._factories)

    def signer(
        self, uri: str, public_key: Key | None = None, *, prompt: PassphrasePrompt | None = None
    ) -> Signer:
        """Resolve *uri* to a signer.

        Raises:
            ConfigError: unknown scheme, unreadable key, wrong passphrase, key mismatch.
        """
        scheme, sep, rest = uri.partition(":")
        factory = self._factories.get(scheme) if sep else None
        if factory is None:
            known = ", ".join(f"{s}:" for s in self.schemes)
            raise ConfigError(f"signer URI {uri!r} has no known scheme (known: {known})")
        return factory(rest, public_key, prompt)


def signer_from_uri(
    uri: str, public_key: Key | None = None, *, prompt: PassphrasePrompt | None = None
) -> Signer:
    """Resolve *uri* with the default registry (see :class:`SignerRegistry`).

    Raises:
        ConfigError: unknown scheme, unreadable key, wrong passphrase, key mismatch.
    """
    return SignerRegistry.default().signer(uri, public_key, prompt=prompt)
