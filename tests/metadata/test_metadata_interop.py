"""Interoperability with python-tuf 7.0.1: the same content built and signed by either library
reads and verifies in the other, with identical keyids, canonical bytes and ed25519 signatures.

Both libraries' model classes take the same constructor arguments, so one builder describes the
content once and builds it with either namespace.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import tuf.api.metadata as ref
from securesystemslib.formats import encode_canonical as _sslib_encode_canonical
from securesystemslib.signer import SSlibKey
from tuf.api.serialization.json import CanonicalJSONSerializer, JSONSerializer

import tufkit.crypto as tk_crypto
import tufkit.metadata as tk


def reference_encode(doc: Any) -> str:
    """securesystemslib's canonical JSON as text (it returns None only with an output function)."""
    encoded = _sslib_encode_canonical(doc)
    assert encoded is not None
    return encoded


EXPIRES = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
SPEC = "1.0.31"  # what python-tuf writes; tufkit is told to write the same

TUFKIT = SimpleNamespace(
    Key=tk_crypto.Key,
    Metadata=tk.Metadata,
    Root=tk.Root,
    Role=tk.Role,
    Timestamp=tk.Timestamp,
    Snapshot=tk.Snapshot,
    MetaFile=tk.MetaFile,
    Targets=tk.Targets,
    TargetFile=tk.TargetFile,
    DelegatedRole=tk.DelegatedRole,
    SuccinctRoles=tk.SuccinctRoles,
    Delegations=tk.Delegations,
)
PYTHON_TUF = SimpleNamespace(
    Key=SSlibKey,
    Metadata=ref.Metadata,
    Root=ref.Root,
    Role=ref.Role,
    Timestamp=ref.Timestamp,
    Snapshot=ref.Snapshot,
    MetaFile=ref.MetaFile,
    Targets=ref.Targets,
    TargetFile=ref.TargetFile,
    DelegatedRole=ref.DelegatedRole,
    SuccinctRoles=ref.SuccinctRoles,
    Delegations=ref.Delegations,
)

ODD_PATHS = [
    "plain.txt",
    "dir/sub dir/with space.tar.gz",
    'quote"in/name',
    "back\\slash\\path",
    "ctl\x01\x1f\x7f\t\n/file",
    "ünïcødé/файл/文件",
    "astral/😀\U0010fffd",
    "sep\u2028\u2029",
    "",
    "/leading/slash",
    "trailing/",
]

SUCCINCT_BITS = 5


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _keys(ns: Any, signing_key: dict[str, Any], signing_keyid: str) -> dict[str, Any]:
    """The signing key plus an unused key with extra fields (keyid computed over them)."""
    extra = {
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": {"public": "ab" * 32},
        "keyid_hash_algorithms": ["sha256", "sha512"],
        "x-tuf-on-ci-keyowner": "@ünï",
        "x-nested": {"list": [1, None, True, "\x00"]},
    }
    extra_id = hashlib.sha256(reference_encode(extra).encode()).hexdigest()

    def make(kid: str, data: dict[str, Any]) -> Any:
        others = {k: v for k, v in data.items() if k not in ("keytype", "scheme", "keyval")}
        return ns.Key(kid, data["keytype"], data["scheme"], dict(data["keyval"]), others)

    return {signing_keyid: make(signing_keyid, signing_key), extra_id: make(extra_id, extra)}


def build_roles(ns: Any, signing_key: dict[str, Any], kid: str) -> dict[str, Any]:
    """Every role, with unrecognised fields at every level, as *ns*'s Metadata objects."""
    keys = _keys(ns, signing_key, kid)
    roles = {
        name: ns.Role([kid], 1, {"x-role": name} if name == "root" else None)
        for name in ("root", "timestamp", "snapshot", "targets")
    }
    root = ns.Root(
        version=1,
        spec_version=SPEC,
        expires=EXPIRES,
        keys=dict(keys),
        roles=roles,
        consistent_snapshot=True,
        unrecognized_fields={"x-top": {"nested": ["é", 1]}},
    )
    timestamp = ns.Timestamp(
        version=7,
        spec_version=SPEC,
        expires=EXPIRES,
        snapshot_meta=ns.MetaFile(3, 1234, {"sha256": _h("s"), "sha512": "ab" * 64}, {"x-m": 1}),
        unrecognized_fields={"x-ts": None},
    )
    snapshot = ns.Snapshot(
        version=3,
        spec_version=SPEC,
        expires=EXPIRES,
        meta={
            "targets.json": ns.MetaFile(2),
            "role-a.json": ns.MetaFile(1, 10, {"sha256": _h("a")}),
            "role-b.json": ns.MetaFile(4, None, None, {"x-meta": [True]}),
            "bin-0a.json": ns.MetaFile(1),
        },
    )
    targets = ns.Targets(
        version=2,
        spec_version=SPEC,
        expires=EXPIRES,
        targets={
            path: ns.TargetFile(
                len(path),
                {"sha256": _h(path), "sha512": "cd" * 64},
                path,
                {"custom": {"note": path, "n": 2**70}} if i % 2 else None,
            )
            for i, path in enumerate(ODD_PATHS)
        },
        delegations=ns.Delegations(
            keys=dict(keys),
            roles={
                "role-a": ns.DelegatedRole(
                    "role-a",
                    [kid],
                    1,
                    True,
                    paths=["files/*", "a/?/[!x]*", "ünï/*"],
                    unrecognized_fields={"x-dr": {"a": 1}},
                ),
                "role-b": ns.DelegatedRole(
                    "role-b", [kid], 1, False, path_hash_prefixes=["0", "8f", "abc"]
                ),
                'odd "name"/ü': ns.DelegatedRole('odd "name"/ü', [kid], 1, False, paths=["*"]),
            },
            unrecognized_fields={"x-dl": "é"},
        ),
        unrecognized_fields={"x-tg": [{"deep": {"er": []}}]},
    )
    role_a = ns.Targets(
        version=1,
        spec_version=SPEC,
        expires=EXPIRES,
        targets={"files/one": ns.TargetFile(1, {"sha256": _h("1")}, "files/one")},
    )
    # A delegated role with no targets, delegating to succinct hash bins.
    role_b = ns.Targets(
        version=4,
        spec_version=SPEC,
        expires=EXPIRES,
        targets={},
        delegations=ns.Delegations(
            keys=dict(keys),
            succinct_roles=ns.SuccinctRoles([kid], 1, SUCCINCT_BITS, "bin", {"x-sr": 0}),
        ),
    )
    bin_0a = ns.Targets(version=1, spec_version=SPEC, expires=EXPIRES, targets={})
    signed = {
        "root": root,
        "timestamp": timestamp,
        "snapshot": snapshot,
        "targets": targets,
        "role-a": role_a,
        "role-b": role_b,
        "bin-0a": bin_0a,
    }
    return {
        name: ns.Metadata(s, unrecognized_fields={"x-envelope": 1} if name == "root" else None)
        for name, s in signed.items()
    }


# role -> (delegating role, the name the delegator uses)
DELEGATOR = {
    "root": "root",
    "timestamp": "root",
    "snapshot": "root",
    "targets": "root",
    "role-a": "targets",
    "role-b": "targets",
    "bin-0a": "role-b",
}


def _signed_ref_roles(pair: Any) -> dict[str, ref.Metadata[Any]]:
    key = pair.ref.public_key
    roles = build_roles(PYTHON_TUF, key.to_dict(), key.keyid)
    for md in roles.values():
        md.sign(pair.ref)
    return roles


def _signed_tk_roles(pair: Any) -> dict[str, tk.Metadata[Any]]:
    key = pair.tk.public_key
    roles = build_roles(TUFKIT, key.to_dict(), key.keyid)
    for md in roles.values():
        md.sign(pair.tk)
    return roles


SERIALISERS = {
    "compact": JSONSerializer(compact=True),
    "indented": JSONSerializer(compact=False),
    "canonical": None,  # python-tuf's default to_bytes()
}


@pytest.mark.parametrize("serialiser", sorted(SERIALISERS))
@pytest.mark.parametrize("scheme", sorted(tk_crypto.SCHEMES))
def test_python_tuf_metadata_reads_and_verifies_in_tufkit(
    key_pairs: dict[str, Any], scheme: str, serialiser: str
) -> None:
    roles = _signed_ref_roles(key_pairs[scheme])
    loaded = {
        name: tk.Metadata.from_bytes(md.to_bytes(SERIALISERS[serialiser]))
        for name, md in roles.items()
    }
    for name, md in loaded.items():
        assert md.signed.to_dict() == roles[name].signed.to_dict(), name
        assert md.unrecognized_fields == roles[name].unrecognized_fields
        delegator = loaded[DELEGATOR[name]].signed
        delegator.verify_delegate(name, md.verification_payload, md.signatures)
        assert delegator.get_verification_result(name, md.verification_payload, md.signatures)
        # the payload verified is python-tuf's canonical form of the signed content
        assert md.verification_payload == CanonicalJSONSerializer().serialize(roles[name].signed)


@pytest.mark.parametrize("scheme", sorted(tk_crypto.SCHEMES))
@pytest.mark.parametrize("pretty", [False, True])
def test_tufkit_metadata_reads_and_verifies_in_python_tuf(
    key_pairs: dict[str, Any], scheme: str, pretty: bool
) -> None:
    roles = _signed_tk_roles(key_pairs[scheme])
    loaded = {
        name: ref.Metadata.from_bytes(md.to_bytes(pretty=pretty)) for name, md in roles.items()
    }
    for name, md in loaded.items():
        assert md.signed.to_dict() == roles[name].signed.to_dict(), name
        delegator = loaded[DELEGATOR[name]].signed
        payload = CanonicalJSONSerializer().serialize(md.signed)
        delegator.verify_delegate(name, payload, md.signatures)


@pytest.mark.parametrize("scheme", sorted(tk_crypto.SCHEMES))
def test_canonical_bytes_and_keyids_identical(key_pairs: dict[str, Any], scheme: str) -> None:
    pair = key_pairs[scheme]
    assert pair.tk.public_key.keyid == pair.ref.public_key.keyid
    key = pair.tk.public_key
    mine = build_roles(TUFKIT, key.to_dict(), key.keyid)
    theirs = build_roles(PYTHON_TUF, key.to_dict(), key.keyid)
    for name in mine:
        assert mine[name].signed_bytes == CanonicalJSONSerializer().serialize(
            theirs[name].signed
        ), name
    for kid, k in mine["root"].signed.keys.items():
        assert k.compute_keyid() == kid


def test_deterministic_ed25519_signatures_identical(key_pairs: dict[str, Any]) -> None:
    ours = _signed_tk_roles(key_pairs["ed25519"])
    theirs = _signed_ref_roles(key_pairs["ed25519"])
    for name in ours:
        (mine,) = ours[name].signatures.values()
        (other,) = theirs[name].signatures.values()
        assert (mine.keyid, mine.signature) == (other.keyid, other.signature), name


@pytest.mark.parametrize("scheme", ["ed25519", "ecdsa-sha2-nistp256"])
def test_round_trip_keeps_unrecognised_fields_and_signatures(
    key_pairs: dict[str, Any], scheme: str
) -> None:
    roles = _signed_ref_roles(key_pairs[scheme])
    for name, md in roles.items():
        original = md.to_bytes()
        first = tk.Metadata.from_bytes(original)
        second = tk.Metadata.from_bytes(first.to_bytes())
        assert second.to_dict() == first.to_dict() == md.to_dict()
        assert second.verification_payload == first.verification_payload
        # the file form is valid JSON, equal to canonical JSON unless a string holds a control
        # character, which it escapes
        written = first.to_bytes()
        assert json.loads(written) == md.to_dict()
        canonical = reference_encode(md.to_dict()).encode()
        if not any(byte < 0x20 for byte in canonical):
            assert written == canonical
        delegator = tk.Metadata.from_bytes(roles[DELEGATOR[name]].to_bytes()).signed
        delegator.verify_delegate(name, second.verification_payload, second.signatures)


def test_succinct_and_hash_prefix_helpers_agree_with_python_tuf(key_pairs: dict[str, Any]) -> None:
    roles = _signed_ref_roles(key_pairs["ed25519"])
    mine = {name: tk.Metadata.from_bytes(md.to_bytes()) for name, md in roles.items()}
    theirs_targets = roles["targets"].signed.delegations
    mine_targets = mine["targets"].signed.delegations
    probe_paths = [*ODD_PATHS, "files/x", "a/b/c", "a/b/xc", "ünï/ö", *(f"p{i}" for i in range(64))]
    for path in probe_paths:
        expected = list(theirs_targets.get_roles_for_target(path))
        assert list(mine_targets.get_roles_for_target(path)) == expected, path
    theirs_bins = roles["role-b"].signed.delegations.succinct_roles
    mine_bins = mine["role-b"].signed.delegations.succinct_roles
    assert list(mine_bins.get_roles()) == list(theirs_bins.get_roles())
    for path in probe_paths:
        assert mine_bins.get_role_for_target(path) == theirs_bins.get_role_for_target(path)
