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

The schema is strict, because a layout that silently lacks a rule lets through what it was meant
to stop: a key this module does not know (``prodcuts``) is an error naming the nearest valid one;
a description without steps or inspections, an unknown functionary, a threshold no set of
functionaries can meet, and a rule that does not parse are errors too. Rules and commands are
strings split like a shell would (``shlex``). This module does not sign or write files, and reads
no clock unless the caller leaves ``now`` unset.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tufkit.errors import ConfigError, FormatError
from tufkit.intoto._keys import key_to_layout_dict, load_public_key_pem
from tufkit.intoto._models import (
    Inspection,
    Layout,
    Step,
    format_layout_expires,
    parse_layout_expires,
)
from tufkit.intoto._rules import parse_rule

__all__ = ["expiry_warning", "layout_from_description"]

_TOP_KEYS = ("readme", "expires", "expires_days", "keys", "step", "inspect")
_STEP_KEYS = ("name", "functionaries", "threshold", "command", "materials", "products")
_INSPECT_KEYS = ("name", "run", "materials", "products")
_DEFAULT_DAYS = 30
_WARNING_PERIOD = timedelta(days=7)  # a layout expiring sooner than this is warned about


def _nearest(word: str, choices: Iterable[str]) -> str:
    """``(did you mean 'x'?)`` for the closest choice, or the list of choices."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"(did you mean {close[0]!r}?)"
    return f"(valid: {', '.join(options)})" if options else "(none are defined)"


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} {_nearest(key, allowed)}")


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
    if "expires" in data and "expires_days" in data:
        raise ConfigError("give either 'expires' or 'expires_days', not both")
    if isinstance(data.get("expires"), datetime):  # a TOML date-time, unquoted
        moment: datetime = data["expires"]
        return format_layout_expires(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if "expires" in data:
        try:
            parse_layout_expires(data["expires"])
        except FormatError as exc:
            raise ConfigError(str(exc)) from exc
        return str(data["expires"])
    days = data.get("expires_days", _DEFAULT_DAYS)
    if type(days) is not int or days < 1:
        raise ConfigError("expires_days must be a positive integer")
    try:
        return format_layout_expires(now + timedelta(days=days))
    except OverflowError as exc:
        raise ConfigError(f"expires_days {days} reaches past the year 9999") from exc


def _readme(value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError("readme must be a string")
    return value


def _tables(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"'{key}' must be an array of tables ([[{key}]])")
    return value


def _named(raw: Any, table: str, allowed: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ConfigError(f"each [[{table}]] needs a string 'name'")
    where = f"{'step' if table == 'step' else 'inspection'} {raw['name']!r}"
    _check_keys(raw, allowed, where)
    return raw, where


def _functionaries(raw: dict[str, Any], where: str, keyids: dict[str, str]) -> list[str]:
    names = raw.get("functionaries", [])
    if not isinstance(names, list) or any(not isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: 'functionaries' must be a list of names from [keys]")
    seen: set[str] = set()
    for name in names:
        if name not in keyids:
            raise ConfigError(
                f"{where}: functionary {name!r} is not in [keys] {_nearest(name, keyids)}"
            )
        if name in seen:
            raise ConfigError(f"{where}: functionary {name!r} is listed twice")
        seen.add(name)
    return [keyids[n] for n in names]


def _step(raw_table: Any, keyids: dict[str, str]) -> Step:
    raw, where = _named(raw_table, "step", _STEP_KEYS)
    pubkeys = _functionaries(raw, where, keyids)
    threshold = raw.get("threshold", 1)
    if type(threshold) is not int or threshold < 1:
        raise ConfigError(f"{where}: 'threshold' must be a positive integer")
    step = Step(
        name=raw["name"],
        pubkeys=pubkeys,
        threshold=threshold,
        expected_command=_words(raw.get("command", []), f"{where} command"),
        expected_materials=_rules(raw.get("materials", []), f"{where} materials"),
        expected_products=_rules(raw.get("products", []), f"{where} products"),
    )
    if threshold > len(set(pubkeys)):
        raise ConfigError(
            f"{where}: threshold {threshold} can never be met by "
            f"{len(set(pubkeys))} distinct functionary key(s)"
        )
    return step


def _inspection(raw_table: Any) -> Inspection:
    raw, where = _named(raw_table, "inspect", _INSPECT_KEYS)
    return Inspection(
        name=raw["name"],
        run=_words(raw.get("run", []), f"{where} run"),
        expected_materials=_rules(raw.get("materials", []), f"{where} materials"),
        expected_products=_rules(raw.get("products", []), f"{where} products"),
    )


def _load_keys(
    raw_keys: object, base_dir: Path
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    if not isinstance(raw_keys, dict):
        raise ConfigError("[keys] must map names to public key files")
    keys: dict[str, dict[str, Any]] = {}
    keyids: dict[str, str] = {}
    for name, path in raw_keys.items():
        if not isinstance(path, str):
            raise ConfigError(f"key {name!r}: the value must be a public key file name")
        file = base_dir / path
        try:
            key = load_public_key_pem(file.read_bytes(), what=str(file))
        except OSError as exc:
            raise ConfigError(f"key {name!r}: cannot read {file}: {exc.strerror}") from exc
        keys[key.keyid] = key_to_layout_dict(key)
        keyids[name] = key.keyid
    return keys, keyids


def layout_from_description(
    text: str, *, base_dir: str | Path = ".", now: datetime | None = None
) -> Layout:
    """Build a layout from a TOML description, refusing anything it does not understand.

    Args:
        text: the TOML text.
        base_dir: directory key file paths are relative to.
        now: reference time for ``expires_days``; the current time if None.

    Raises:
        ConfigError: bad TOML; an unknown key (the message names the nearest valid one); no
            step and no inspection; an unknown or repeated functionary; a threshold the
            functionaries cannot meet; a bad rule, command or expiry; an unreadable key file;
            a name used twice.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"layout description is not valid TOML: {exc}") from exc
    _check_keys(data, _TOP_KEYS, "layout description")
    keys, keyids = _load_keys(data.get("keys", {}), Path(base_dir))
    steps = [_step(raw, keyids) for raw in _tables(data, "step")]
    inspections = [_inspection(raw) for raw in _tables(data, "inspect")]
    if not steps and not inspections:
        raise ConfigError(
            "layout description has no [[step]] and no [[inspect]]: "
            "a layout without them would accept any product"
        )
    layout = Layout(
        steps=steps,
        inspect=inspections,
        keys=keys,
        expires=_expires(data, now or datetime.now(UTC)),
        readme=_readme(data.get("readme", "")),
    )
    try:
        layout.check_names()
    except FormatError as exc:
        raise ConfigError(str(exc)) from exc
    return layout


def expiry_warning(
    layout: Layout, now: datetime, *, period: timedelta = _WARNING_PERIOD
) -> str | None:
    """Return a warning if *layout* has expired at *now* or expires within *period*, else None.

    Raises:
        FormatError: the layout's ``expires`` is malformed.
    """
    expires = parse_layout_expires(layout.expires)
    if expires <= now:
        return f"the layout expired at {layout.expires}: verification will refuse it"
    if expires - now < period:
        left = expires - now
        hours = left.days * 24 + left.seconds // 3600
        return f"the layout expires at {layout.expires}, in {hours} hours"
    return None
