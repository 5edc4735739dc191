"""Large link files (over 1 MiB) take a typed fast path; it must read exactly what the general path
reads, and refuse exactly what it refuses, with the same error class.

Each case is a whole link file made large by 12,000 artifacts, then altered in one place.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from tufkit.errors import Error
from tufkit.intoto import InvalidMetadataError, Metablock, load_metadata
from tufkit.intoto._fastlink import load_fast_link

HEX = "0123456789abcdef" * 4


def _document() -> dict[str, Any]:
    artifacts = {f"src/d{i // 100:03d}/f{i:05d}.txt": {"sha256": HEX} for i in range(12_000)}
    return {
        "signatures": [{"keyid": "ab" * 32, "sig": "cd" * 64}],
        "signed": {
            "_type": "link",
            "name": "build",
            "materials": artifacts,
            "products": {"out/a.bin": {"sha256": HEX, "sha512": HEX * 2}},
            "byproducts": {"return-value": 0, "stdout": ""},
            "command": ["make", "all"],
            "environment": {},
        },
    }


BASE = json.dumps(_document(), indent=1, sort_keys=True)
FIRST = '"src/d000/f00000.txt": {\n    "sha256": "' + HEX + '"\n   }'


class Case(NamedTuple):
    name: str
    old: str  # replaced once in BASE
    new: str
    fast: bool  # the fast path reads it (else it must hand over to the general path)


CASES = [
    Case("unchanged", "", "", True),
    Case("unicode name", '"name": "build"', '"name": "b\\u00e9uild \\u2028"', True),
    Case("duplicate name, last wins", '"name": "build",', '"name": "x", "name": "build",', True),
    Case("duplicate artifact, last wins", FIRST, FIRST + ", " + FIRST.replace(HEX, "ff"), True),
    Case(
        "big integer", '"return-value": 0', '"return-value": 123456789012345678901234567890', True
    ),
    Case("float in byproducts", '"return-value": 0', '"return-value": 0.5', True),
    Case("upper-case hex", f'"sha256": "{HEX}"', f'"sha256": "{HEX.upper()}"', True),
    Case("NaN", '"return-value": 0', '"return-value": NaN', False),
    Case("lone surrogate", '"name": "build"', '"name": "\\ud800"', False),
    Case("unknown member", '"name": "build",', '"name": "build", "extra": 1,', False),
    Case("missing command", '"command": [\n   "make",\n   "all"\n  ],', "", False),
    Case("name not a string", '"name": "build"', '"name": 5', False),
    Case("name null", '"name": "build"', '"name": null', False),
    Case("digest not hex", f'"sha256": "{HEX}"', '"sha256": "xyz"', False),
    Case("digest empty", f'"sha256": "{HEX}"', '"sha256": ""', False),
    Case("digest with newline", f'"sha256": "{HEX}"', f'"sha256": "{HEX}\\n"', False),
    Case("digest a number", f'"sha256": "{HEX}"', '"sha256": 12', False),
    Case("hashes a list", FIRST, '"src/d000/f00000.txt": []', False),
    Case("command an object", '"command": [', '"command": {"a": [', False),
    Case("byproducts a list", '"byproducts": {', '"byproducts": [{', False),
    Case("signatures an object", '"signatures": [', '"signatures": {"a": [', False),
    Case("signature without keyid", '"keyid"', '"key"', True),
    Case("a layout", '"_type": "link"', '"_type": "layout"', False),
    Case("trailing data", "", "", False),
    Case("DSSE member too", '"signatures": [', '"payload": "", "signatures": [', False),
]


def _text(case: Case) -> str:
    if case.name == "trailing data":
        return BASE + " {}"
    if case.name == "command an object":
        return BASE.replace('"make",\n   "all"\n  ],', '"make",\n   "all"\n  ]},', 1).replace(
            case.old, case.new, 1
        )
    if case.name in ("byproducts a list", "signatures an object"):
        start = BASE.index(case.old)
        end = BASE.index("}", start) if case.name == "byproducts a list" else BASE.index("]", start)
        closer = "}]" if case.name == "byproducts a list" else "]}"
        return (
            BASE[:start]
            + case.new
            + BASE[start + len(case.old) : end + 1]
            + closer
            + BASE[end + 1 :]
        )
    assert case.old in BASE, case.name
    return BASE.replace(case.old, case.new, 1)


def _general(data: bytes) -> tuple[str, object]:
    """The general path: the standard library's parser and Metablock.from_dict."""
    try:
        obj = json.loads(data.decode("utf-8"))
        if type(obj) is not dict or "payload" in obj:
            raise InvalidMetadataError("not a plain Metablock")
        block = Metablock.from_dict(obj)
    except (ValueError, Error) as exc:
        return ("error", type(exc).__name__)
    return ("ok", block.to_dict())


def _loaded(data: bytes) -> tuple[str, object]:
    try:
        block = load_metadata(data)
    except InvalidMetadataError:
        return ("error", "InvalidMetadataError")
    assert isinstance(block, Metablock)
    return ("ok", block.to_dict())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_large_links_read_as_the_general_path_reads_them(case: Case) -> None:
    data = _text(case).encode("utf-8")
    assert len(data) > 1 << 20
    fast = load_fast_link(data.decode("utf-8"))
    assert (fast is not None) == case.fast
    outcome, general = _loaded(data), _general(data)
    if general[0] == "error":
        assert outcome == ("error", "InvalidMetadataError")
    else:
        assert outcome == general


class _Name(str):
    """A str subclass: canonical JSON takes exact types only."""


SIGNABLE: list[tuple[str, object, bool]] = [
    ("plain", {"a": {"sha256": "ab"}}, True),
    ("two algorithms", {"a": {"sha256": "ab", "sha512": "cd"}}, True),
    ("empty", {}, True),
    ("integer name", {1: {"sha256": "ab"}}, False),
    ("str subclass name", {_Name("a"): {"sha256": "ab"}}, False),
    ("list of hashes", {"a": [["sha256", "ab"]]}, True),  # odd, but canonical JSON
    ("integer algorithm", {"a": {1: "ab"}}, False),
    ("float digest", {"a": {"sha256": 1.5}}, False),
    ("str subclass digest", {"a": {"sha256": _Name("ab")}}, False),
]


@pytest.mark.parametrize(
    ("materials", "signable"),
    [(value, ok) for _, value, ok in SIGNABLE],
    ids=[name for name, _, _ in SIGNABLE],
)
def test_signing_checks_every_artifact_type(materials: Any, signable: bool) -> None:
    from tufkit.canonical import encode_canonical_exact
    from tufkit.intoto import Link

    block = Metablock(Link(name="step", materials=materials))
    if signable:
        assert block.signed_bytes() == encode_canonical_exact(block.payload().to_dict())
    else:
        with pytest.raises(InvalidMetadataError, match="cannot be canonicalised"):
            block.signed_bytes()
