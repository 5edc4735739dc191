"""Building a layout from a short TOML description (for ``tufkit intoto layout``).

Example::

    readme = "demo supply chain"
    expires_days = 365                 # or: expires = "2030-01-01T00:00:00Z"
    [keys]
    bob = "bob.pub"                    # PEM public key files, relative to the description
    [[step]]
    name = "clone"
    functionaries = ["bob"]            # names from [keys]
    threshold = 1
    command = "git clone https://example.com/demo-project.git"
    materials = []
    products = ["CREATE demo-project/foo.py", "DISALLOW *"]
    [[inspect]]
    name = "untar"
    run = "tar xzf demo-project.tar.gz"
    materials = ["MATCH demo-project.tar.gz WITH PRODUCTS FROM package", "DISALLOW *"]

Rules and commands are strings split like a shell would (``shlex``). Every rule is checked.
This module does not sign or write files.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tufkit.errors import ConfigError, FormatError
from tufkit.intoto._keys import key_to_layout_dict, load_public_key_pem
from tufkit.intoto._models import Inspection, Layout, Step
from tufkit.intoto._models import format_layout_expires as format_expires
from tufkit.intoto._models import parse_layout_expires as parse_expires
from tufkit.intoto._rules import parse_rule

__all__ = ["layout_from_description"]


def _words(value: object, what: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"{what}: {exc}") from exc
    raise ConfigError(f"{what} must be a string or a list of strings")


def _rules(value: object, what: str) -> list[list[str]]:
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list of rules")
    rules = [_words(rule, what) for rule in value]
    for rule in rules:
        try:
            parse_rule(rule)
        except FormatError as exc:
            raise ConfigError(f"{what}: {exc}") from exc
    return rules


def _expires(data: dict[str, Any], now: datetime) -> str:
    if isinstance(data.get("expires"), datetime):  # a TOML date-time, unquoted
        moment: datetime = data["expires"]
        return format_expires(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if "expires" in data:
        try:
            parse_expires(data["expires"])
        except FormatError as exc:
            raise ConfigError(str(exc)) from exc
        return str(data["expires"])
    days = data.get("expires_days", 30)
    if type(days) is not int or days < 1:
        raise ConfigError("expires_days must be a positive integer")
    return format_expires(now + timedelta(days=days))


def _readme(value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError("readme must be a string")
    return value


def _tables(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"'{key}' must be an array of tables ([[{key}]])")
    return value


def _step(raw: Any, keyids: dict[str, str]) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ConfigError("each [[step]] needs a string 'name'")
    where = f"step {raw['name']!r}"
    names = raw.get("functionaries", [])
    if not isinstance(names, list) or any(not isinstance(n, str) or n not in keyids for n in names):
        raise ConfigError(f"{where}: 'functionaries' must name keys from [keys]")
    threshold = raw.get("threshold", 1)
    if type(threshold) is not int or threshold < 1:
        raise ConfigError(f"{where}: 'threshold' must be a positive integer")
    return Step(
        name=raw["name"],
        pubkeys=[keyids[n] for n in names],
        threshold=threshold,
        expected_command=_words(raw.get("command", []), f"{where} command"),
        expected_materials=_rules(raw.get("materials", []), f"{where} materials"),
        expected_products=_rules(raw.get("products", []), f"{where} products"),
    )


def _inspection(raw: Any) -> Inspection:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ConfigError("each [[inspect]] needs a string 'name'")
    where = f"inspection {raw['name']!r}"
    return Inspection(
        name=raw["name"],
        run=_words(raw.get("run", []), f"{where} run"),
        expected_materials=_rules(raw.get("materials", []), f"{where} materials"),
        expected_products=_rules(raw.get("products", []), f"{where} products"),
    )


def layout_from_description(
    text: str, *, base_dir: str | Path = ".", now: datetime | None = None
) -> Layout:
    """Build a layout from a TOML description.

    Args:
        text: the TOML text.
        base_dir: directory key file paths are relative to.
        now: reference time for ``expires_days``; the current time if None.

    Raises:
        ConfigError: bad TOML, unknown functionary, bad rule, unreadable key file, duplicate
            names.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"layout description is not valid TOML: {exc}") from exc
    raw_keys = data.get("keys", {})
    if not isinstance(raw_keys, dict):
        raise ConfigError("[keys] must map names to public key files")
    keys: dict[str, dict[str, Any]] = {}
    keyids: dict[str, str] = {}
    for name, path in raw_keys.items():
        file = Path(base_dir) / str(path)
        try:
            key = load_public_key_pem(file.read_bytes(), what=str(file))
        except OSError as exc:
            raise ConfigError(f"key {name!r}: cannot read {file}: {exc.strerror}") from exc
        keys[key.keyid] = key_to_layout_dict(key)
        keyids[name] = key.keyid
    layout = Layout(
        steps=[_step(raw, keyids) for raw in _tables(data, "step")],
        inspect=[_inspection(raw) for raw in _tables(data, "inspect")],
        keys=keys,
        expires=_expires(data, now or datetime.now(UTC)),
        readme=_readme(data.get("readme", "")),
    )
    try:
        layout.check_names()
    except FormatError as exc:
        raise ConfigError(str(exc)) from exc
    return layout
