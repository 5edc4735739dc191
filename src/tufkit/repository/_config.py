"""A repository's configuration: one human-editable TOML file beside its metadata.

``<repository>/tufkit-repo.toml`` says how the repository is run: per role its threshold, how
long a new version stays valid, whether it is signed online (unattended, by cron) and the signer
URIs this repository may use for it; and the hashed bins it was set up with. It never holds a
private key: only URIs (``file:keys/online.pem?passphrase-env=NAME``, ``env:NAME``) that
:func:`tufkit.crypto.signer_from_uri` resolves, so passphrases for unattended use come from
environment variables. Keys and thresholds that clients trust live in the signed metadata; the
thresholds here are what ``tufkit repo init`` and ``delegate`` set up and what ``status``
compares against.

Reading is strict: every key is checked for its type and range, an unknown key is refused with
the nearest valid one suggested, role names follow :func:`check_role_name`. Writing is atomic:
readers see the old file or the new one.

Example::

    format = 1

    [expiry]          # days a newly signed version stays valid
    root = 365
    targets = 90
    snapshot = 7
    timestamp = 1
    delegated = 90

    [roles.timestamp]
    threshold = 1
    online = true
    signers = ["file:keys/online.pem?passphrase-env=TUFKIT_ONLINE_PASSPHRASE"]

    [roles.bin]       # a delegated role, or a set of hashed bins by its name prefix
    online = true
    signers = ["file:keys/bins.pem"]

    [[bins]]          # hashed bins below one role (repeatable)
    delegator = "targets"
    name_prefix = "bin"
    bit_length = 8
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tufkit._atomic import write_atomically
from tufkit.errors import ConfigError
from tufkit.repository._names import check_role_name
from tufkit.repository._policy import ExpiryPolicy

__all__ = ["CONFIG_FILENAME", "BinsConfig", "RepositoryConfig", "RoleConfig"]

CONFIG_FILENAME = "tufkit-repo.toml"
FORMAT = 1
_MAX_CONFIG = 1024 * 1024  # bytes: a configuration is a few KiB
_MAX_DAYS = 100 * 366
_TOP_LEVEL = ("root", "targets", "snapshot", "timestamp")
_EXPIRY_KEYS = (*_TOP_LEVEL, "delegated", "roles")
_ROLE_KEYS = ("threshold", "online", "signers")
_BINS_KEYS = ("delegator", "name_prefix", "bit_length")
_TOP_KEYS = ("format", "expiry", "roles", "bins")


@dataclass(frozen=True)
class RoleConfig:
    """How one role (or one set of hashed bins, by name prefix) is signed.

    Attributes:
        threshold: how many distinct keys must sign it.
        online: signed unattended by this repository (``bump`` refreshes it).
        signers: signer URIs this repository may use for it (never private keys).
    """

    threshold: int = 1
    online: bool = False
    signers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BinsConfig:
    """Succinct hashed bins below *delegator*: ``2**bit_length`` roles ``<prefix>-<hex>``."""

    delegator: str
    name_prefix: str
    bit_length: int


@dataclass(frozen=True)
class RepositoryConfig:
    """A repository's configuration (see the module docs for the file format).

    Attributes:
        expiry: lifetimes of new versions, per role.
        roles: role name (or bins name prefix) -> how it is signed.
        bins: the hashed bins set up, if any.
    """

    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)
    roles: Mapping[str, RoleConfig] = field(default_factory=dict)
    bins: tuple[BinsConfig, ...] = ()

    # -- lookups -----------------------------------------------------------------------------

    def role(self, name: str) -> RoleConfig | None:
        """The configuration of role *name*: its own entry, else that of the bins (longest
        configured name prefix ``P`` with *name* = ``P-...``) it belongs to."""
        entry = self.roles.get(name)
        if entry is not None:
            return entry
        prefixes = [p for p in self.roles if name.startswith(f"{p}-")]
        return self.roles[max(prefixes, key=len)] if prefixes else None

    def online_roles(self) -> list[str]:
        """Names of the roles (and bins prefixes) marked online."""
        return [name for name, entry in self.roles.items() if entry.online]

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RepositoryConfig:
        """Read and check a configuration file.

        Raises:
            ConfigError: unreadable, not TOML, or a key that is unknown, of the wrong type or
                out of range; the message names the file and the key.
        """
        where = os.fspath(path)
        try:
            with open(where, "rb") as handle:
                data = handle.read(_MAX_CONFIG + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read {where}: {exc.strerror or exc}") from exc
        if len(data) > _MAX_CONFIG:
            raise ConfigError(f"{where} is larger than {_MAX_CONFIG} bytes")
        return cls.from_toml(data, where)

    @classmethod
    def from_toml(cls, data: bytes, where: str = CONFIG_FILENAME) -> RepositoryConfig:
        """Parse configuration *data* (TOML); *where* names it in errors.

        Raises:
            ConfigError: see :meth:`load`.
        """
        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{where} is not UTF-8 text: {exc.reason}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where} is not valid TOML: {exc}") from exc
        try:
            return _parse(doc)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    # -- writing -----------------------------------------------------------------------------

    def to_toml(self) -> str:
        """The configuration as TOML text that :meth:`from_toml` reads back equal."""
        lines = [
            "# tufkit repository configuration (docs/repository.md, `tufkit repo --help`).",
            "# Signer URIs only, never private keys; keys and thresholds clients trust are in",
            "# the signed metadata.",
            f"format = {FORMAT}",
            "",
            "[expiry]  # days a newly signed version stays valid",
        ]
        policy = self.expiry
        for name in (*_TOP_LEVEL, "delegated"):
            lines.append(f"{name} = {_days(getattr(policy, name))}")
        if policy.overrides:
            lines += ["", "[expiry.roles]  # per delegated role"]
            for name, lifetime in sorted(policy.overrides.items()):
                lines.append(f"{_string(name)} = {_days(lifetime)}")
        for name, entry in self.roles.items():
            signers = ", ".join(_string(uri) for uri in entry.signers)
            lines += [
                "",
                f"[roles.{_string(name)}]",
                f"threshold = {entry.threshold}",
                f"online = {'true' if entry.online else 'false'}",
                f"signers = [{signers}]",
            ]
        for bins in self.bins:
            lines += [
                "",
                "[[bins]]",
                f"delegator = {_string(bins.delegator)}",
                f"name_prefix = {_string(bins.name_prefix)}",
                f"bit_length = {bins.bit_length}",
            ]
        return "\n".join(lines) + "\n"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the configuration to *path* atomically (mode 0644: it holds no secrets)."""
        write_atomically(Path(path), self.to_toml().encode(), mode=0o644)


def _string(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes, ASCII only)."""
    return json.dumps(value, ensure_ascii=True)


def _days(lifetime: timedelta) -> int | float:
    days = lifetime / timedelta(days=1)
    return int(days) if days == int(days) else days


def _refuse_unknown(table: Mapping[str, Any], valid: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in valid:
            near = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else f"; valid: {', '.join(valid)}"
            raise ConfigError(f"unknown key {where}{key!r}{hint}")


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table, not {type(value).__name__}")
    return value


def _lifetime(value: object, where: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number of days, not {type(value).__name__}")
    if not 0 < value <= _MAX_DAYS:
        raise ConfigError(f"{where} must be more than 0 and at most {_MAX_DAYS} days")
    return timedelta(days=value)


def _parse(doc: dict[str, Any]) -> RepositoryConfig:
    _refuse_unknown(doc, _TOP_KEYS, "")
    if doc.get("format", FORMAT) != FORMAT:
        raise ConfigError(f"'format' must be {FORMAT}, not {doc.get('format')!r}")
    expiry = _parse_expiry(_table(doc.get("expiry", {}), "[expiry]"))
    roles: dict[str, RoleConfig] = {}
    for name, value in _table(doc.get("roles", {}), "[roles]").items():
        check_role_name(name)
        roles[name] = _parse_role(_table(value, f"[roles.{name}]"), f"roles.{name}.")
    raw_bins = doc.get("bins", [])
    if not isinstance(raw_bins, list):
        raise ConfigError("'bins' must be an array of tables ([[bins]])")
    bins = tuple(_parse_bins(_table(b, "[[bins]]")) for b in raw_bins)
    return RepositoryConfig(expiry, roles, bins)


def _parse_expiry(table: dict[str, Any]) -> ExpiryPolicy:
    _refuse_unknown(table, _EXPIRY_KEYS, "expiry.")
    lifetimes = {
        name: _lifetime(table[name], f"expiry.{name}")
        for name in (*_TOP_LEVEL, "delegated")
        if name in table
    }
    overrides = {}
    for name, value in _table(table.get("roles", {}), "[expiry.roles]").items():
        check_role_name(name)
        overrides[name] = _lifetime(value, f"expiry.roles.{name}")
    return ExpiryPolicy(**lifetimes, overrides=overrides)


def _parse_role(table: dict[str, Any], where: str) -> RoleConfig:
    _refuse_unknown(table, _ROLE_KEYS, where)
    threshold = table.get("threshold", 1)
    if type(threshold) is not int or not 1 <= threshold <= 1000:
        raise ConfigError(f"{where}threshold must be an integer from 1 to 1000")
    online = table.get("online", False)
    if type(online) is not bool:
        raise ConfigError(f"{where}online must be true or false")
    signers = table.get("signers", [])
    if not isinstance(signers, list) or not all(isinstance(s, str) for s in signers):
        raise ConfigError(f"{where}signers must be an array of signer URI strings")
    for uri in signers:
        scheme, sep, _ = uri.partition(":")
        if not sep or not scheme or not uri.isprintable():
            raise ConfigError(f"{where}signers: {uri[:80]!r} is not a signer URI (file:, env:)")
        if scheme == "file" and "BEGIN" in uri:
            raise ConfigError(f"{where}signers must be URIs, never private keys")
    return RoleConfig(threshold, online, tuple(signers))


def _parse_bins(table: dict[str, Any]) -> BinsConfig:
    _refuse_unknown(table, _BINS_KEYS, "bins.")
    delegator = check_role_name(table.get("delegator", "targets"))
    prefix = table.get("name_prefix")
    if not isinstance(prefix, str):
        raise ConfigError("bins.name_prefix must be a string")
    check_role_name(f"{prefix}-0")
    bit_length = table.get("bit_length")
    if type(bit_length) is not int or not 1 <= bit_length <= 32:
        raise ConfigError("bins.bit_length must be an integer from 1 to 32")
    return BinsConfig(delegator, prefix, bit_length)
