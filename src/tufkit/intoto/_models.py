"""The in-toto payloads: :class:`Link`, :class:`Layout` and its :class:`Step`/:class:`Inspection`.

Reading validates as the reference implementation does: a missing optional field takes its
default, unknown fields are dropped, rules are parsed, keys and hashes are checked for shape.
``to_dict`` gives the exact object the reference signs in the legacy envelope. This module does
not sign, verify or touch files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tufkit.errors import FormatError
from tufkit.intoto._rules import ArtifactRule, parse_rule

__all__ = [
    "Inspection",
    "Layout",
    "Link",
    "Step",
    "format_layout_expires",
    "parse_layout_expires",
]

_HEX = re.compile(r"[0-9a-fA-F]+")
_EXPIRES = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _get(data: dict[str, Any], name: str, kind: type, default: Any, where: str) -> Any:
    value = data.get(name, default)
    if not isinstance(value, kind):
        raise FormatError(f"{where}: '{name}' must be a {kind.__name__}, not {_kind(value)}")
    return value


def _check_hex(value: object, what: str) -> str:
    if type(value) is not str or _HEX.fullmatch(value) is None:
        raise FormatError(f"{what} must be a hex string, got {value!r:.80}")
    return value


def _check_artifacts(value: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    for name, hashes in value.items():
        if type(hashes) is not dict:
            raise FormatError(f"{where} {name!r:.120}: hash object must be an object")
        for algorithm, digest in hashes.items():
            if type(algorithm) is not str:
                raise FormatError(f"{where} {name!r:.120}: hash algorithm must be a string")
            _check_hex(digest, f"{where} {name!r:.120} {algorithm}")
    return value


def parse_layout_expires(text: object) -> datetime:
    """Parse a layout's ``expires`` (exactly ``YYYY-MM-DDTHH:MM:SSZ``) as an aware UTC datetime.

    Raises:
        FormatError: another format, or a date that does not exist.
    """
    if type(text) is not str or _EXPIRES.fullmatch(text) is None:
        raise FormatError(f"layout 'expires' must look like 2030-01-31T00:00:00Z, got {text!r:.60}")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise FormatError(f"layout 'expires' {text!r} is not a real date: {exc}") from exc


def format_layout_expires(when: datetime) -> str:
    """Format an aware datetime as a layout ``expires`` string (UTC, seconds, ``Z``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Link:
    """Evidence of one performed step (or inspection).

    Attributes:
        name: the step name; None only when the payload has none (the reference does not
            require a string; tufkit refuses any other type rather than sign its ``str()``).
        materials: artifact name -> hash object, recorded before the command.
        products: artifact name -> hash object, recorded after the command.
        byproducts: opaque; the reference writes stdout, stderr and return-value.
        command: the argv that was run.
        environment: opaque.
    """

    name: str | None
    materials: dict[str, dict[str, str]] = field(default_factory=dict)
    products: dict[str, dict[str, str]] = field(default_factory=dict)
    byproducts: dict[str, Any] = field(default_factory=dict)
    command: list[Any] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Link:
        """Read a link payload (its ``_type`` is not re-checked here).

        Raises:
            FormatError: a field has the wrong type (a ``name`` that is not a string included)
                or a hash is not hex.
        """
        where = "link"
        name = data.get("name")
        if "name" in data and type(name) is not str:
            raise FormatError(f"link: 'name' must be a string, not {_kind(name)}")
        return cls(
            name=name,
            materials=_check_artifacts(_get(data, "materials", dict, {}, where), "material"),
            products=_check_artifacts(_get(data, "products", dict, {}, where), "product"),
            byproducts=_get(data, "byproducts", dict, {}, where),
            command=_get(data, "command", list, [], where),
            environment=_get(data, "environment", dict, {}, where),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the payload as the reference serialises it."""
        return {
            "_type": "link",
            "name": self.name,
            "materials": self.materials,
            "products": self.products,
            "byproducts": self.byproducts,
            "command": self.command,
            "environment": self.environment,
        }


def _rules(data: dict[str, Any], name: str, where: str) -> list[list[str]]:
    raw: list[Any] = _get(data, name, list, [], where)
    for rule in raw:
        parse_rule(rule)
    return raw


def _item_name(data: dict[str, Any], where: str) -> str:
    name = data.get("name")
    if type(name) is not str:
        raise FormatError(f"{where}: 'name' must be a string, not {_kind(name)}")
    return name


class _RulesMixin:
    """Parsed access to the raw rules of a step or inspection."""

    expected_materials: list[list[str]]
    expected_products: list[list[str]]

    def material_rules(self) -> list[ArtifactRule]:
        """The parsed material rules."""
        return [parse_rule(rule) for rule in self.expected_materials]

    def product_rules(self) -> list[ArtifactRule]:
        """The parsed product rules."""
        return [parse_rule(rule) for rule in self.expected_products]


@dataclass
class Step(_RulesMixin):
    """A step of the supply chain: who may perform it and what it may change.

    Attributes:
        name: the step name; link files are ``<name>.<keyid[:8]>.link``.
        pubkeys: keyids of the functionaries allowed to sign its links.
        threshold: distinct functionaries whose agreeing links are required.
        expected_command: only compared for a warning.
        expected_materials: raw material rules (lists of strings).
        expected_products: raw product rules.
    """

    name: str
    pubkeys: list[str] = field(default_factory=list)
    threshold: int = 1
    expected_command: list[Any] = field(default_factory=list)
    expected_materials: list[list[str]] = field(default_factory=list)
    expected_products: list[list[str]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: object) -> Step:
        """Read a step object.

        Raises:
            FormatError: wrong types, a bad rule or a non-hex keyid.
        """
        if type(data) is not dict:
            raise FormatError(f"step must be an object, not {_kind(data)}")
        name = _item_name(data, "step")
        where = f"step {name!r:.80}"
        pubkeys = _get(data, "pubkeys", list, [], where)
        for keyid in pubkeys:
            _check_hex(keyid, f"{where} pubkey")
        return cls(
            name=name,
            pubkeys=pubkeys,
            threshold=_get(data, "threshold", int, 1, where),
            expected_command=_get(data, "expected_command", list, [], where),
            expected_materials=_rules(data, "expected_materials", where),
            expected_products=_rules(data, "expected_products", where),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the step object as the reference serialises it."""
        return {
            "_type": "step",
            "name": self.name,
            "expected_materials": self.expected_materials,
            "expected_products": self.expected_products,
            "pubkeys": self.pubkeys,
            "expected_command": self.expected_command,
            "threshold": self.threshold,
        }


@dataclass
class Inspection(_RulesMixin):
    """A command the verifier runs itself, with rules over what it recorded.

    Attributes:
        name: unique among steps and inspections.
        run: argv executed without a shell.
        expected_materials: raw material rules.
        expected_products: raw product rules.
    """

    name: str
    run: list[Any] = field(default_factory=list)
    expected_materials: list[list[str]] = field(default_factory=list)
    expected_products: list[list[str]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: object) -> Inspection:
        """Read an inspection object.

        Raises:
            FormatError: wrong types or a bad rule.
        """
        if type(data) is not dict:
            raise FormatError(f"inspection must be an object, not {_kind(data)}")
        name = _item_name(data, "inspection")
        where = f"inspection {name!r:.80}"
        return cls(
            name=name,
            run=_get(data, "run", list, [], where),
            expected_materials=_rules(data, "expected_materials", where),
            expected_products=_rules(data, "expected_products", where),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the inspection object as the reference serialises it."""
        return {
            "_type": "inspection",
            "name": self.name,
            "expected_materials": self.expected_materials,
            "expected_products": self.expected_products,
            "run": self.run,
        }


_ECDSA = ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
_KEY_KINDS = frozenset(
    [("ed25519", "ed25519")]
    + [("ecdsa", scheme) for scheme in _ECDSA]
    + [(scheme, scheme) for scheme in _ECDSA]
    + [
        ("rsa", f"{pad}-{h}")
        for pad in ("rsassa-pss", "rsa-pkcs1v15")
        for h in ("sha256", "sha384", "sha512")
    ]
    + [("ml-dsa", f"ml-dsa-{n}/1") for n in ("44", "65", "87")]
)
_GPG_FIELDS = ("type", "method", "hashes", "keyval")


def _check_key_dict(keyid: object, key: object) -> None:
    """Accept what the reference accepts: an OpenPGP key dict, or a key of a known type/scheme."""
    _check_hex(keyid, "layout key id")
    if type(key) is not dict or "keyid" not in key:
        raise FormatError(f"layout key {keyid!s:.16} must be an object with a 'keyid' member")
    if all(member in key for member in _GPG_FIELDS):
        return
    kind = (key.get("keytype"), key.get("scheme"))
    if not all(isinstance(part, str) for part in kind) or kind not in _KEY_KINDS:
        raise FormatError(f"layout key {keyid!s:.16}: unsupported key type/scheme {kind!r:.80}")
    keyval = key.get("keyval")
    if type(keyval) is not dict or type(keyval.get("public")) is not str:
        raise FormatError(f"layout key {keyid!s:.16}: 'keyval' must hold a string 'public'")


@dataclass
class Layout:
    """What the project owner requires of the supply chain.

    Attributes:
        steps: in order; the first and last feed a sublayout's summary.
        inspect: inspections, run by the verifier after the step rules.
        keys: keyid -> key dict (each with its own ``keyid`` member), trusted as given.
        expires: ``YYYY-MM-DDTHH:MM:SSZ``; a new layout built in Python defaults to 30 days from
            now, but a layout read from a file must carry it (the reference defaults to one
            month from the time of reading, so such a layout never expires).
        readme: free text.
    """

    steps: list[Step] = field(default_factory=list)
    inspect: list[Inspection] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    expires: str = field(
        default_factory=lambda: format_layout_expires(datetime.now(UTC) + timedelta(days=30))
    )
    readme: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        """Read a layout payload and validate it.

        Raises:
            FormatError: wrong types, bad rules, malformed keys or dates, no ``expires``, or a
                name used twice.
        """
        raw_steps = data.get("steps")
        raw_inspect = data.get("inspect")
        if type(raw_steps) is not list or type(raw_inspect) is not list:
            raise FormatError("layout: 'steps' and 'inspect' must be lists")
        expires = data.get("expires")
        if expires is None or expires == "":
            raise FormatError(
                "layout has no 'expires': a layout must say until when it is valid "
                "(e.g. 2030-01-31T00:00:00Z)"
            )
        parse_layout_expires(expires)
        keys = _get(data, "keys", dict, {}, "layout")
        for keyid, key in keys.items():
            _check_key_dict(keyid, key)
        layout = cls(
            steps=[Step.from_dict(step) for step in raw_steps],
            inspect=[Inspection.from_dict(item) for item in raw_inspect],
            keys=keys,
            expires=str(expires),
            readme=_get(data, "readme", str, "", "layout"),
        )
        layout.check_names()
        return layout

    def check_names(self) -> None:
        """Check that no name is used by two steps or inspections.

        Raises:
            FormatError: a name appears twice.
        """
        seen: set[str] = set()
        items: list[Step | Inspection] = [*self.steps, *self.inspect]
        for item in items:
            if item.name in seen:
                raise FormatError(f"layout: the name {item.name!r} is used twice")
            seen.add(item.name)

    def to_dict(self) -> dict[str, Any]:
        """Return the payload as the reference serialises it."""
        return {
            "_type": "layout",
            "steps": [step.to_dict() for step in self.steps],
            "inspect": [item.to_dict() for item in self.inspect],
            "keys": self.keys,
            "expires": self.expires,
            "readme": self.readme,
        }
