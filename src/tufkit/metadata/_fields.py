"""Field validation shared by the metadata classes: types, versions, dates, spec_version.

Every check raises :class:`~tufkit.errors.FormatError` with a message naming the field and the
problem. Booleans are never accepted where integers are required. This module holds no state.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from tufkit.errors import FormatError

__all__ = [
    "SPEC_VERSION",
    "check_spec_version",
    "format_expires",
    "get_bool",
    "get_dict",
    "get_int",
    "get_list",
    "get_str",
    "get_str_list",
    "parse_expires",
    "type_name",
]

#: The specification version tufkit writes.
SPEC_VERSION = "1.0.34"

# ASCII digits only: in a str pattern \d also matches other scripts' digits, which int() accepts.
_EXPIRES = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_SPEC_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?", re.ASCII)

T = TypeVar("T")


def type_name(value: object) -> str:
    """The JSON name of *value*'s type, for error messages."""
    names = {dict: "object", list: "array", str: "string", int: "integer", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _missing_or_wrong(data: dict[str, Any], field: str, where: str, wanted: str) -> FormatError:
    if field not in data:
        return FormatError(f"{where}: required field '{field}' is missing")
    found = type_name(data[field])
    return FormatError(f"{where}: '{field}' must be {wanted}, not {found}")


def get_str(data: dict[str, Any], field: str, where: str) -> str:
    """Return the string *field* of *data*."""
    value = data.get(field)
    if type(value) is not str:
        raise _missing_or_wrong(data, field, where, "a string")
    return value


def get_int(data: dict[str, Any], field: str, where: str, *, minimum: int = 0) -> int:
    """Return the integer *field* (not a boolean), at least *minimum*."""
    value = data.get(field)
    if type(value) is not int:
        raise _missing_or_wrong(data, field, where, "an integer")
    if value < minimum:
        raise FormatError(f"{where}: '{field}' must be at least {minimum}, not {value}")
    return value


def get_bool(data: dict[str, Any], field: str, where: str) -> bool:
    """Return the boolean *field*."""
    value = data.get(field)
    if type(value) is not bool:
        raise _missing_or_wrong(data, field, where, "a boolean")
    return value


def get_dict(data: dict[str, Any], field: str, where: str) -> dict[str, Any]:
    """Return the object *field*."""
    value = data.get(field)
    if type(value) is not dict:
        raise _missing_or_wrong(data, field, where, "an object")
    return value


def get_list(data: dict[str, Any], field: str, where: str) -> list[Any]:
    """Return the array *field*."""
    value = data.get(field)
    if type(value) is not list:
        raise _missing_or_wrong(data, field, where, "an array")
    return value


def get_str_list(data: dict[str, Any], field: str, where: str, *, unique: bool) -> list[str]:
    """Return the array of strings *field*; with *unique*, duplicates are an error."""
    items = get_list(data, field, where)
    for item in items:
        if type(item) is not str:
            raise FormatError(f"{where}: '{field}' must hold strings, not {type_name(item)}")
    if unique and len(set(items)) != len(items):
        dupes = sorted({i for i in items if items.count(i) > 1})
        raise FormatError(f"{where}: '{field}' lists {dupes[0][:64]!r} more than once")
    return items


def parse_expires(value: object, where: str) -> datetime:
    """Parse a TUF date-time: exactly ``YYYY-MM-DDTHH:MM:SSZ``, in UTC."""
    if type(value) is not str:
        raise FormatError(f"{where}: 'expires' must be a string, not {type_name(value)}")
    match = _EXPIRES.fullmatch(value)
    if match is None:
        raise FormatError(
            f"{where}: 'expires' {value[:40]!r} is not of the form YYYY-MM-DDTHH:MM:SSZ"
        )
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise FormatError(f"{where}: 'expires' {value!r} is not a valid date: {exc}") from exc


def format_expires(value: datetime) -> str:
    """Format *value* (aware, converted to UTC; or naive, taken as UTC) as a TUF date-time."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_spec_version(value: object, where: str) -> str:
    """Accept ``1.N`` and ``1.N.M``; refuse other majors and malformed versions."""
    if type(value) is not str:
        raise FormatError(f"{where}: 'spec_version' must be a string, not {type_name(value)}")
    match = _SPEC_VERSION.fullmatch(value)
    if match is None:
        raise FormatError(f"{where}: 'spec_version' {value[:40]!r} is not a version like 1.0.31")
    if match.group(1) != "1":
        raise FormatError(f"{where}: spec_version {value!r} has major version other than 1")
    return value
