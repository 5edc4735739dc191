"""Hostile layouts and links: whatever a mutated document holds, verification either decides or
raises a tufkit error, never another exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tufkit.crypto import generate
from tufkit.errors import Error
from tufkit.intoto import (
    Layout,
    Link,
    Metablock,
    Step,
    VerifyOptions,
    get_verification_result,
    key_to_layout_dict,
    link_filename,
    load_metadata,
    sign_metadata,
)

OWNER, BUILDER = generate("ed25519"), generate("ecdsa")
LAYOUT = Metablock(
    Layout(
        steps=[
            Step(
                name="build",
                pubkeys=[BUILDER.public_key.keyid],
                expected_materials=[["ALLOW", "src/*"], ["DISALLOW", "*"]],
                expected_products=[["CREATE", "app"], ["DISALLOW", "*"]],
            )
        ],
        keys={BUILDER.public_key.keyid: key_to_layout_dict(BUILDER.public_key)},
        expires="2099-01-01T00:00:00Z",
    )
)
sign_metadata(LAYOUT, [OWNER])
LINK = Metablock(
    Link(
        name="build",
        materials={"src/a": {"sha256": "ab" * 32}},
        products={"app": {"sha256": "cd" * 32}},
    )
)
sign_metadata(LINK, [BUILDER])
LAYOUT_DOC: dict[str, Any] = json.loads(LAYOUT.to_bytes())
LINK_DOC: dict[str, Any] = json.loads(LINK.to_bytes())
LINK_NAME = link_filename("build", BUILDER.public_key.keyid)

VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        2**70,
        "",
        "x",
        "../x",
        [],
        {},
        [[]],
        {"a": 1},
        ["ALLOW"],
        ["MATCH", "*", "WITH"],
        ["CREATE"],
        "1970-01-01T00:00:00Z",
        {"keyid": {}},
        [{"keyid": []}],
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(VALUES))
        if not _paths(doc)[1:]:
            break
    return doc


def _verify(layout: dict[str, Any], link: dict[str, Any], link_dir: Path) -> None:
    (link_dir / LINK_NAME).write_text(json.dumps(link))
    try:
        metadata = load_metadata(json.dumps(layout).encode())
        get_verification_result(metadata, [OWNER.public_key], VerifyOptions(link_dir=link_dir))
    except Error:
        pass


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutated(LAYOUT_DOC))
def test_mutated_layouts(tmp_path: Path, layout: dict[str, Any]) -> None:
    _verify(layout, LINK_DOC, tmp_path)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutated(LINK_DOC))
def test_mutated_links(tmp_path: Path, link: dict[str, Any]) -> None:
    _verify(LAYOUT_DOC, link, tmp_path)


def test_the_unmutated_chain_verifies(tmp_path: Path) -> None:
    (tmp_path / LINK_NAME).write_text(json.dumps(LINK_DOC))
    metadata = load_metadata(json.dumps(LAYOUT_DOC).encode())
    result = get_verification_result(metadata, [OWNER.public_key], VerifyOptions(link_dir=tmp_path))
    assert result.ok, result.error
