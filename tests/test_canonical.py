"""Canonical JSON: the fast encoder equals the exact one, both equal the reference, and the
strict parser refuses what TUF metadata must not contain. The two JSON backends (the standard
library for small documents and plain values, msgspec for large documents and trusted structs)
are indistinguishable: same bytes out, same values in, same refusals."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical as _sslib_encode_canonical

from tufkit import canonical
from tufkit.canonical import encode_canonical, encode_canonical_exact, loads, loads_object
from tufkit.errors import FormatError

# Text with the characters the fast path must rewrite: controls, DEL, line separators, quotes,
# backslashes, non-ASCII and astral characters (lone surrogates excluded: UTF-8 cannot hold them).
_TRICKY = (
    '\x00\x01\x08\t\n\x0b\x0c\r\x1b\x1f\x7f\x80\x85\xa0\u2028\u2029\ufeff\uffff"\\/ aé€😀\U0010ffff'
)
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(_TRICKY),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=12,
)


def reference_encode(doc: Any) -> str:
    """securesystemslib's canonical JSON as text (it returns None only with an output function)."""
    encoded = _sslib_encode_canonical(doc)
    assert encoded is not None
    return encoded


integers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64),
    st.integers(),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**40]),
)
scalars = st.one_of(st.none(), st.booleans(), integers, texts)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(texts, children, max_size=5),
    ),
    max_leaves=40,
)


@given(documents)
def test_fast_path_equals_exact_encoder(doc: Any) -> None:
    assert encode_canonical(doc) == encode_canonical_exact(doc)


@given(documents)
def test_exact_encoder_equals_reference(doc: Any) -> None:
    assert encode_canonical_exact(doc) == reference_encode(doc).encode("utf-8")


_printable = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)
_parseable = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), _printable),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_printable, children, max_size=4)
    ),
    max_leaves=20,
)


@given(_parseable)
def test_canonical_bytes_parse_back_to_the_same_value(doc: Any) -> None:
    # Raw control characters are not valid JSON, so this holds only without them.
    assert loads(encode_canonical(doc)) == doc


@given(st.dictionaries(texts, st.integers(), min_size=2, max_size=8))
def test_keys_sorted_by_code_point(doc: dict[str, int]) -> None:
    encoded = encode_canonical(doc).decode("utf-8")
    positions = [
        encoded.index('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '":') for k in doc
    ]
    ordered = [k for _, k in sorted(zip(positions, doc, strict=True))]
    assert ordered == sorted(doc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, False, None]}, b'{"a":[true,false,null],"b":1}'),
        ('a"b\\c', b'"a\\"b\\\\c"'),
        ("\n\t\x00\x7f", b'"\n\t\x00\x7f"'),
        ("\u2028é😀", '"\u2028é😀"'.encode()),
        ({"\uffff": 1, "\U00010000": 2}, '{"\uffff":1,"\U00010000":2}'.encode()),
        ([2**64, -(2**63) - 1, 0], b"[18446744073709551616,-9223372036854775809,0]"),
        ((1, "x"), b'[1,"x"]'),
        ({}, b"{}"),
        ([], b"[]"),
    ],
)
def test_known_encodings(value: Any, expected: bytes) -> None:
    assert encode_canonical(value) == expected
    assert encode_canonical_exact(value) == expected


def _nested(depth: int) -> Any:
    doc: Any = "leaf\n"
    for level in range(depth):
        doc = [doc] if level % 2 else {"k\u2028": doc}
    return doc


@pytest.mark.parametrize("depth", [1, 64, 200, 499])
def test_deep_nesting_within_limit(depth: int) -> None:
    doc = _nested(depth)
    assert encode_canonical(doc) == encode_canonical_exact(doc)


def test_nesting_beyond_limit_is_value_error() -> None:
    with pytest.raises(ValueError, match="nesting"):
        encode_canonical(_nested(5000))
    with pytest.raises(ValueError, match="nesting"):
        encode_canonical_exact(_nested(5000))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.0, TypeError),
        ({"a": [0.5]}, TypeError),
        (math.nan, TypeError),
        (math.inf, TypeError),
        ({1: "x"}, TypeError),
        ({("a",): "x"}, TypeError),
        ({None: "x"}, TypeError),
        (b"bytes", TypeError),
        ({"a": {1, 2}}, TypeError),
        (object(), TypeError),
        ("\ud800", ValueError),
        ({"\udfff": 1}, ValueError),
        (["ok", "x\ud83d"], ValueError),
    ],
)
@pytest.mark.parametrize("encoder", [encode_canonical, encode_canonical_exact])
def test_unencodable_values_rejected(value: Any, error: type[Exception], encoder: Any) -> None:
    with pytest.raises(error):
        encoder(value)


@pytest.mark.parametrize(
    "data",
    [
        b"1.0",
        b'{"a": 1.5}',
        b'{"a": 1e3}',
        b'{"a": 1E-3}',
        b'{"a": -0.0}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": "\xff"}',
        b'{"a": "\xc3"}',
        b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate is not UTF-8
        b"\xef\xbb",
        b"",
        b"{",
        b'{"a": 1,}',
        b"[1] [2]",
        b"{'a': 1}",
        b"[" * 10000 + b"]" * 10000,
    ],
)
def test_loads_rejects(data: bytes) -> None:
    with pytest.raises(FormatError):
        loads(data)


def test_loads_names_floats() -> None:
    with pytest.raises(FormatError, match="floating point"):
        loads(b'{"version": 1.5}')


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a": [1, "\\u00e9", true, null]}', {"a": [1, "é", True, None]}),
        ('{"k": "é"}', {"k": "é"}),
        (b' {"b": -3} \n', {"b": -3}),
        (b'"\\ud83d\\ude00"', "😀"),
    ],
)
def test_loads_accepts(data: bytes | str, expected: Any) -> None:
    assert loads(data) == expected


@pytest.mark.parametrize("data", [b"[]", b'"x"', b"1", b"null", b"true"])
def test_loads_object_requires_an_object(data: bytes) -> None:
    with pytest.raises(FormatError, match="must be a JSON object"):
        loads_object(data, what="metadata")


@pytest.mark.parametrize("data", [b'{"a": "\\ud800"}', b'{"a": "\\udc00x"}', b'["\\ude00\\ud83d"]'])
def test_loads_rejects_lone_surrogate_escapes(data: bytes) -> None:
    # A parsed lone surrogate could never be re-encoded for signature checks.
    with pytest.raises(FormatError):
        loads(data)


# -- the two backends ----------------------------------------------------------------------

BACKENDS = [canonical._loads_stdlib, canonical._loads_msgspec]


@given(documents)
def test_both_encoders_give_the_same_canonical_bytes(doc: Any) -> None:
    via_stdlib = canonical.encode_canonical(doc)
    via_msgspec = canonical.encode_canonical(doc, trusted=True)
    assert via_stdlib == via_msgspec == canonical.encode_canonical_exact(doc)


@given(documents)
def test_both_encoders_give_the_same_compact_json(doc: Any) -> None:
    assert canonical.encode_compact(doc) == canonical.encode_compact(doc, trusted=True)


def _outcome(parse: Any, data: bytes) -> Any:
    try:
        return ("ok", parse(data))
    except FormatError:
        return ("refused",)


_JSON_NOISE = st.sampled_from(
    [
        b"1.5",
        b"1e3",
        b"NaN",
        b"-0",
        b"01",
        b'"\\ud800"',
        b'"\\u00e9"',
        b"\t",
        b"\x00",
        b"\xff",
        b"\xef\xbb\xbf",
        b",",
        b"]",
        b"}",
        b'"',
        b"\\",
        b"true",
        b"nul",
        b" ",
        b"\n",
        b"[",
        b"{",
    ]
)


@st.composite
def near_json(draw: st.DrawFn) -> bytes:
    doc = draw(documents)
    text = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_JSON_NOISE) + text[at:]
    return text


@given(near_json())
def test_both_parsers_agree(data: bytes) -> None:
    stdlib, msgspec = (_outcome(parse, data) for parse in BACKENDS)
    assert stdlib == msgspec


@pytest.mark.parametrize("parse", BACKENDS, ids=["stdlib", "msgspec"])
@pytest.mark.parametrize(
    "data",
    [
        b"[1.0]",
        b"[NaN]",
        b"[-Infinity]",
        b'["\\ud800"]',
        b'["a\tb"]',
        b"\xef\xbb\xbf[]",
        "[]".encode("utf-16"),
        b'["\xed\xa0\x80"]',
        b"[1] x",
        b"",
    ],
)
def test_each_parser_refuses(parse: Any, data: bytes) -> None:
    with pytest.raises(FormatError):
        parse(data)


def test_large_documents_take_the_msgspec_parser_with_the_same_rules() -> None:
    entries = {
        f"files/pkg-{i:07d}.bin": {"length": i, "hashes": {"sha256": "ab" * 32}}
        for i in range(12_000)
    }
    big = json.dumps(entries).encode()
    assert len(big) > canonical._SMALL_DOCUMENT
    assert canonical.loads(big) == entries
    with pytest.raises(FormatError, match="floating point"):
        canonical.loads(big[:-1] + b', "x": 1.5}')
