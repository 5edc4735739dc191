"""Hostile input: mutated metadata of every role either reads or raises FormatError, never
KeyError, TypeError, AttributeError, ValueError or RecursionError; what reads can be used."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tufkit.crypto import generate
from tufkit.errors import FormatError
from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)

SIGNER = generate("ed25519")
KEY = SIGNER.public_key
DEEP = "\x00DEEP\x00"  # replaced by deeply nested JSON in the serialised bytes


def _documents() -> dict[str, bytes]:
    kid = KEY.keyid
    roles = {n: Role([kid], 1) for n in ("root", "timestamp", "snapshot", "targets")}
    bins = Delegations({kid: KEY}, succinct_roles=SuccinctRoles([kid], 1, 6, "bin"))
    delegated = Delegations(
        {kid: KEY},
        {
            "a": DelegatedRole("a", [kid], 1, False, paths=["a/*"]),
            "b": DelegatedRole("b", [kid], 1, True, path_hash_prefixes=["0f"]),
        },
    )
    files = {
        p: TargetFile(3, {"sha256": "ab" * 32}, p, {"custom": {"x": [1]}} if p == "b" else None)
        for p in ("a/x", "b", "ü/ö")
    }
    signed = {
        "root": Root(keys={kid: KEY}, roles=roles),
        "timestamp": Timestamp(snapshot_meta=MetaFile(2, 10, {"sha256": "cd" * 32})),
        "snapshot": Snapshot(meta={"targets.json": MetaFile(1), "a.json": MetaFile(3, 5)}),
        "targets": Targets(targets=files, delegations=delegated),
        "succinct": Targets(targets={}, delegations=bins),
    }
    out = {}
    for name, content in signed.items():
        md: Metadata[Any] = Metadata(content)
        md.sign(SIGNER)
        out[name] = md.to_bytes()
    return out


DOCS = _documents()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out.extend(_paths(child, (*prefix, index)))
    return out


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63, 2**64, -(2**64), 10**100, True, False]),
    st.text(max_size=10),
    st.sampled_from(["", "root", "targets", "snapshot.json", "ed25519", "2030-01-01T00:00:00Z"]),
    st.just(DEEP),
    st.just(1.5),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(DOCS)))
    doc = json.loads(DOCS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add", "wrap"]))
        if not path:
            doc = draw(json_values) if action == "replace" else doc
            continue
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "delete":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]] if draw(st.booleans()) else {"x": parent[last]}
        elif isinstance(parent[last], dict):
            parent[last][draw(st.text(max_size=6))] = draw(json_values)
        elif isinstance(parent[last], list):
            parent[last].append(draw(json_values))
    data = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    depth = draw(st.sampled_from([3, 600, 5000]))
    nested = b"[" * depth + b"]" * depth
    return data.replace(json.dumps(DEEP).encode(), nested)


@st.composite
def byte_mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(DOCS[draw(st.sampled_from(sorted(DOCS)))])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        pos = draw(st.integers(0, len(data)))
        if action == "truncate":
            del data[pos:]
        elif action == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
    return bytes(data)


def _exercise(data: bytes) -> None:
    try:
        md = Metadata.from_bytes(data)
    except FormatError:
        return
    # what was accepted can be used without surprises
    signed = md.signed
    signed.to_dict()
    md.to_dict()
    md.to_bytes()
    assert isinstance(md.verification_payload, bytes)
    root = Metadata.from_bytes(DOCS["root"]).signed
    role = signed.type if signed.type in root.roles else "targets"
    root.get_verification_result(role, md.verification_payload, md.signatures)
    if isinstance(signed, Targets):
        for path in signed.targets:
            signed.targets[path].to_dict()
        if signed.delegations is not None:
            list(signed.delegations.get_roles_for_target("a/x"))
            for name in ("a", "b", "bin-00", "bin-3f"):
                if signed.delegations.get_role(name) is not None:
                    signed.get_verification_result(name, md.verification_payload, md.signatures)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated())
def test_structural_mutations(data: bytes) -> None:
    _exercise(data)


@FUZZ
@given(byte_mutated())
def test_byte_mutations(data: bytes) -> None:
    _exercise(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _exercise(data)


@pytest.mark.parametrize("name", sorted(DOCS))
@pytest.mark.parametrize("depth", [100, 490, 494, 495, 496, 497, 498, 499, 501, 2000, 100_000])
def test_deep_nesting_in_every_field(name: str, depth: int) -> None:
    doc = json.loads(DOCS[name])
    nested = b"[" * depth + b"]" * depth
    for path in _paths(doc)[1:]:
        changed = copy.deepcopy(doc)
        parent: Any = changed
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = DEEP
        _exercise(json.dumps(changed).encode().replace(json.dumps(DEEP).encode(), nested))
        if depth > 1000:
            break  # one deep document per role is enough for the biggest depths


@pytest.mark.parametrize("name", sorted(DOCS))
def test_unknown_field_with_deep_nesting(name: str) -> None:
    doc = json.loads(DOCS[name])
    doc["signed"]["x-deep"] = DEEP
    for depth in (400, 499, 501, 3000):
        nested = b"{" + b'"a":[{' * depth + b'"b":1' + b"}]" * depth + b"}"
        _exercise(json.dumps(doc).encode().replace(json.dumps(DEEP).encode(), nested))


@pytest.mark.parametrize("name", sorted(DOCS))
@pytest.mark.parametrize("value", [2**64, -(2**64), 10**400, 2**63 - 1])
def test_huge_numbers_everywhere(name: str, value: int) -> None:
    doc = json.loads(DOCS[name])
    for path in _paths(doc)[1:]:
        changed = copy.deepcopy(doc)
        parent: Any = changed
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        _exercise(json.dumps(changed).encode())
