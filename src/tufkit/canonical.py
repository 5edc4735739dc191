"""Canonical JSON (the OLPC form TUF signs) and the strict JSON parser.

Canonical form: object keys sorted by code point, no whitespace, integers only (no floats),
and only two escapes inside strings, backslash and double quote; every other character, control
characters included, is written as its raw UTF-8 bytes.

:func:`encode_canonical` takes a fast path through a C encoder with sorted keys (the standard
library's for plain values, msgspec's for trusted values that may hold msgspec structs) and
rewrites their extra escapes (``\\n``, ``\\u0000``...) back to raw bytes; the hypothesis tests prove
the result identical to the exact encoder :func:`encode_canonical_exact`, which handles what the
fast path cannot. Documents up to 1 MiB are parsed by the standard library's C parser, larger ones
by msgspec; both are held to the same rules, and msgspec is imported only when needed (it costs
25 ms to import). See docs/adr/0002-json-with-msgspec.md.

:func:`loads` parses hostile bytes: floats, NaN, non-object roots and invalid UTF-8 are rejected
with :class:`~tufkit.errors.FormatError`. Duplicate object keys keep the last value (as every
mainstream JSON parser does); signatures cover the parsed value, so they cannot hide a second one.

This module does not know TUF: it neither validates metadata nor computes hashes.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from typing import Any

from tufkit.errors import FormatError

__all__ = [
    "check_json",
    "encode_canonical",
    "encode_canonical_exact",
    "encode_canonical_parsed",
    "encode_compact",
    "loads",
    "loads_object",
]

_SMALL_DOCUMENT = 1 << 20  # bytes: up to this size the standard library parses
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_ENCODER_ESCAPE = re.compile(rb"\\(u[0-9a-fA-F]{4}|.)")
_SIMPLE_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_MAX_DEPTH = 500  # deeper documents are refused rather than risking recursion limits


def _unescape(match: re.Match[bytes]) -> bytes:
    token = match.group(1)
    if token in (b'"', b"\\"):
        return match.group(0)
    simple = _SIMPLE_ESCAPES.get(token)
    if simple is not None:
        return simple
    return chr(int(token[1:], 16)).encode("utf-8")


def _reject_float(text: str) -> Any:
    raise FormatError(f"floating point number {text[:40]!r} is not allowed in TUF metadata")


def _check_json_types(value: object) -> None:
    """Raise ``TypeError``/``ValueError`` unless *value* is canonical-JSON encodable."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if depth >= _MAX_DEPTH:
            raise ValueError(f"JSON nesting deeper than {_MAX_DEPTH} levels")
        if kind is dict:
            for key, child in item.items():  # type: ignore[attr-defined]
                if type(key) is not str:
                    raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
                stack.append((child, depth + 1))
        elif kind is list or kind is tuple:
            stack.extend((child, depth + 1) for child in item)  # type: ignore[attr-defined]
        elif kind is float:
            raise TypeError("floats cannot be encoded as canonical JSON")
        else:
            raise TypeError(f"{kind.__name__} cannot be encoded as canonical JSON")


def check_json(value: object) -> None:
    """Check that *value* can be encoded as canonical JSON (no floats, str keys, bounded depth).

    Raises:
        TypeError: *value* holds a float or a type JSON cannot express.
        ValueError: nesting deeper than the supported limit.
    """
    _check_json_types(value)


def encode_canonical(value: object, *, trusted: bool = False) -> bytes:
    """Return the canonical JSON bytes of *value*.

    Args:
        value: dicts with str keys, lists/tuples, str, int, bool and None.
        trusted: skip the type walk; only for values produced by :func:`loads` or by code that
            already checked them (the fast path for million-entry documents). Trusted values
            may also hold msgspec structs, encoded as objects with their fields sorted.

    Raises:
        TypeError: *value* holds a float or a type JSON cannot express.
        ValueError: nesting deeper than the supported limit.
    """
    out = _encode_sorted(value, trusted=trusted)
    if out is None:
        # Integers beyond 64 bits, lone surrogates, or nesting beyond the encoder's own limit: the
        # exact encoder either handles them or raises the documented error.
        return encode_canonical_exact(value)
    if b"\\" in out:
        out = _ENCODER_ESCAPE.sub(_unescape, out)
    return out


def encode_canonical_parsed(value: object) -> bytes:
    """Return the canonical JSON bytes of a value :func:`loads` returned.

    :func:`loads` already checked the types and depth, so they are not walked again.

    Raises:
        TypeError: *value* holds a float or a type JSON cannot express (not from loads).
        ValueError: nesting deeper than the supported limit (not from loads).
    """
    out = _encode_plain(value)
    if out is None:
        return encode_canonical_exact(value)
    if b"\\" in out:
        out = _ENCODER_ESCAPE.sub(_unescape, out)
    return out


def _encode_plain(value: object) -> bytes | None:
    import json

    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeError, RecursionError):
        return None


def _encode_sorted(value: object, *, trusted: bool) -> bytes | None:
    """Compact JSON with sorted keys and standard escapes, or None where the C encoders cannot
    encode *value*. Trusted values (which may hold msgspec structs) go through msgspec, others
    through the standard library."""
    if not trusted:
        _check_json_types(value)
        return _encode_plain(value)
    try:
        out: bytes = _codec()[1].encode(value)
    except (TypeError, OverflowError, ValueError, UnicodeError):
        return None
    return out


def encode_compact(value: object, *, trusted: bool = False) -> bytes:
    """Return *value* as compact JSON with sorted keys and standard escapes.

    Unlike canonical JSON this is always valid JSON (control characters are escaped), so it is
    the form for files and HTTP bodies; it equals the canonical bytes when no string holds a
    control character.

    Raises:
        TypeError: *value* holds a float or a type JSON cannot express.
        ValueError: nesting deeper than the supported limit.
    """
    out = _encode_sorted(value, trusted=trusted)
    if out is None:
        encode_canonical_exact(value)  # raises the precise TypeError/ValueError
        raise ValueError("value cannot be encoded as JSON")  # pragma: no cover
    return out


def encode_canonical_exact(value: object) -> bytes:
    """Return the canonical JSON bytes of *value*, computed in pure Python.

    The reference the fast path is tested against.

    Raises:
        TypeError: *value* holds a float or a type JSON cannot express.
        ValueError: nesting deeper than the supported limit.
    """
    _check_json_types(value)
    parts: list[str] = []
    _encode_into(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("string holds a lone surrogate, which UTF-8 cannot encode") from exc


def _encode_into(value: object, parts: list[str]) -> None:
    if value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif value is None:
        parts.append("null")
    elif isinstance(value, str):
        parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, child in enumerate(value):
            if index:
                parts.append(",")
            _encode_into(child, parts)
        parts.append("]")
    elif isinstance(value, dict):
        parts.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                parts.append(",")
            _encode_into(key, parts)
            parts.append(":")
            _encode_into(value[key], parts)
        parts.append("}")
    else:  # pragma: no cover - _check_json_types already refused it
        raise TypeError(f"{type(value).__name__} cannot be encoded as canonical JSON")


@functools.cache
def _codec() -> tuple[Any, Any]:
    """The msgspec decoder and encoder, built on first use (keeps ``import`` fast)."""
    import msgspec

    return msgspec.json.Decoder(float_hook=_reject_float), msgspec.json.Encoder(order="sorted")


def loads(data: bytes | str) -> Any:
    """Parse JSON from an untrusted source.

    The text must be UTF-8. Floats, NaN/Infinity, lone surrogates, control characters inside
    strings and nesting deeper than the supported limit are refused.

    Raises:
        FormatError: the data is not acceptable JSON.
    """
    small = len(data) <= _SMALL_DOCUMENT
    value = _loads_stdlib(data) if small else _loads_msgspec(data)
    try:
        _check_json_types(value) if _may_be_deep(data) else None
    except ValueError as exc:
        raise FormatError(f"invalid JSON: {exc}") from exc
    return value


def _loads_msgspec(data: bytes | str) -> Any:
    try:
        return _codec()[0].decode(data)
    except FormatError:
        raise
    except (UnicodeError, RecursionError, ValueError) as exc:  # msgspec.DecodeError is a ValueError
        raise FormatError(f"invalid JSON: {exc}") from exc


def _reject_constant(text: str) -> Any:
    raise FormatError(f"{text} is not allowed in JSON")


def _loads_stdlib(data: bytes | str) -> Any:
    import json

    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        value = json.loads(text, parse_float=_reject_float, parse_constant=_reject_constant)
    except FormatError:
        raise
    except (UnicodeError, RecursionError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise FormatError(f"invalid JSON: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text) and _holds_surrogate(value):
        raise FormatError("invalid JSON: a string holds a lone surrogate")
    return value


def _holds_surrogate(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif type(item) is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


_BRACKETS_ONLY = bytes(b for b in range(256) if b not in b"[]{}")
_OPENER_TWO_CLOSER_ZERO = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def _may_be_deep(data: bytes | str) -> bool:
    """Cheap upper bound on the nesting depth, computed at C speed: True if it may reach the limit.

    Counts brackets inside strings too, so it can only overestimate; a True answer is then
    settled by the exact walk.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") < _MAX_DEPTH:
        return False
    # opener -> 2, closer -> 0; running sum minus position = openers - closers so far
    steps = raw.translate(None, _BRACKETS_ONLY).translate(_OPENER_TWO_CLOSER_ZERO)
    depths = map(operator.sub, itertools.accumulate(steps), range(1, len(steps) + 1))
    return max(depths, default=0) >= _MAX_DEPTH


def loads_object(data: bytes | str, *, what: str = "document") -> dict[str, Any]:
    """Parse JSON that must be an object.

    Raises:
        FormatError: the data is not acceptable JSON, or not an object.
    """
    value = loads(data)
    if type(value) is not dict:
        raise FormatError(f"{what} must be a JSON object, not {_json_type_name(value)}")
    return value


def _json_type_name(value: object) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        int: "a number",
        bool: "a boolean",
    }
    return names.get(type(value), "null")
