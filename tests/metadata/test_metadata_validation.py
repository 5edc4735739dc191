"""Strict validation on read: every malformed field is a FormatError that names the field;
unrecognised fields at every level survive a round trip and are covered by the signature.

Targets rows run twice: as they are (the typed fast path reads them) and with an unrecognised
field added (the general path reads them).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tufkit.crypto import generate
from tufkit.errors import FormatError
from tufkit.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp

SIGNER = generate("ed25519")
KEY = SIGNER.public_key
KID = KEY.keyid
HEX = "ab" * 32
EXPIRES = "2030-01-01T00:00:00Z"
DELETE = object()


def _common(kind: str) -> dict[str, Any]:
    return {"_type": kind, "spec_version": "1.0.31", "version": 1, "expires": EXPIRES}


def base(role: str) -> dict[str, Any]:
    """A valid envelope (unsigned) for *role*: root, timestamp, snapshot, targets, succinct."""
    if role == "root":
        signed = {
            **_common("root"),
            "consistent_snapshot": True,
            "keys": {KID: KEY.to_dict()},
            "roles": {
                name: {"keyids": [KID], "threshold": 1}
                for name in ("root", "timestamp", "snapshot", "targets")
            },
        }
    elif role == "timestamp":
        signed = {
            **_common("timestamp"),
            "meta": {"snapshot.json": {"version": 1, "length": 10, "hashes": {"sha256": HEX}}},
        }
    elif role == "snapshot":
        signed = {
            **_common("snapshot"),
            "meta": {
                "targets.json": {"version": 1},
                "a.json": {"version": 2, "length": 3, "hashes": {"sha256": HEX}},
            },
        }
    elif role == "targets":
        signed = {
            **_common("targets"),
            "targets": {"f/a.txt": {"length": 1, "hashes": {"sha256": HEX}}},
            "delegations": {
                "keys": {KID: KEY.to_dict()},
                "roles": [
                    {
                        "name": "a",
                        "keyids": [KID],
                        "threshold": 1,
                        "terminating": False,
                        "paths": ["f/*"],
                    },
                    {
                        "name": "b",
                        "keyids": [KID],
                        "threshold": 1,
                        "terminating": True,
                        "path_hash_prefixes": ["ab"],
                    },
                ],
            },
        }
    else:  # "succinct": targets delegating to hash bins
        signed = {
            **_common("targets"),
            "targets": {},
            "delegations": {
                "keys": {KID: KEY.to_dict()},
                "succinct_roles": {
                    "keyids": [KID],
                    "threshold": 1,
                    "bit_length": 8,
                    "name_prefix": "bin",
                },
            },
        }
    return {"signed": signed, "signatures": []}


def mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@dataclass(frozen=True)
class Bad:
    """One malformed document: the role, where to change it, the new value, the message."""

    role: str
    path: tuple[Any, ...]
    value: Any
    match: str

    @property
    def id(self) -> str:
        shown = "DELETE" if self.value is DELETE else repr(self.value)[:30]
        return f"{self.role}:{'/'.join(map(str, self.path))}={shown}"


ROLES = ("root", "timestamp", "snapshot", "targets", "succinct")
S = "signed"
DR = (S, "delegations", "roles", 0)
SR = (S, "delegations", "succinct_roles")

BAD_EXPIRES = [
    "2030-01-01T00:00:00",
    "2030-01-01 00:00:00Z",
    "2030-01-01t00:00:00Z",
    "2030-01-01T00:00:00z",
    "2030-01-01T00:00:00.5Z",
    "2030-01-01T00:00:00.000000Z",
    "2030-01-01T00:00:00+00:00",
    "2030-01-01T00:00:00+01:00Z",
    "2030-13-01T00:00:00Z",
    "2030-00-10T00:00:00Z",
    "2030-02-30T00:00:00Z",
    "2029-02-29T00:00:00Z",
    "2030-01-01T24:00:00Z",
    "2030-01-01T23:60:00Z",
    "2030-01-01T23:59:60Z",
    "2030-1-01T00:00:00Z",
    "30-01-01T00:00:00Z",
    "+2030-01-01T00:00:00Z",
    " 2030-01-01T00:00:00Z",
    "2030-01-01T00:00:00Z\n",
    "\u0662\u0660\u0663\u0660-01-01T00:00:00Z",  # Arabic-Indic digits
    "2030-01-01T00:00:0\uff10Z",  # a fullwidth digit
    "",
    "tomorrow",
    20300101,
    None,
    True,
    [EXPIRES],
    DELETE,
]
BAD_SPEC_VERSIONS = [
    "2.0.0",
    "2.0",
    "0.9.0",
    "10.0.0",
    "01.0.0",
    "1",
    "1.0.0.0",
    "v1.0.0",
    "1.0.x",
    "1.0-rc1",
    "1.0.",
    ".1.0",
    " 1.0",
    "1.\u0660.31",
    "",
    1,
    None,
    DELETE,
]
BAD_VERSIONS = [0, -1, -(2**70), True, False, "1", None, [1], {}, DELETE]

COMMON_ROWS = [
    *(Bad(r, (S, "_type"), v, "_type") for r in ROLES for v in ("Root", "", "mirrors", 1, None)),
    *(Bad(r, (S, "_type"), DELETE, "_type") for r in ROLES),
    *(Bad(r, (S, "version"), v, "version") for r in ROLES for v in BAD_VERSIONS),
    *(Bad(r, (S, "expires"), v, "expires") for r in ROLES for v in BAD_EXPIRES),
    *(Bad(r, (S, "spec_version"), v, "spec_version") for r in ROLES for v in BAD_SPEC_VERSIONS),
]

ROOT_ROWS = [
    Bad("root", (S, "keys"), [], "keys"),
    Bad("root", (S, "keys"), DELETE, "keys"),
    Bad("root", (S, "keys", KID), "key", "must be an object"),
    Bad("root", (S, "keys", KID, "keyval"), DELETE, "keyval"),
    # a keyval without a string 'public' is an unusable key, not a malformed root
    # (tests/crypto/test_unusable_keys.py)
    Bad("root", (S, "keys", KID, "keytype"), DELETE, "keytype"),
    Bad("root", (S, "keys", KID, "scheme"), ["ed25519"], "scheme"),
    Bad("root", (S, "roles"), DELETE, "roles"),
    Bad("root", (S, "roles"), [], "roles"),
    Bad("root", (S, "roles", "timestamp"), DELETE, "timestamp"),
    Bad("root", (S, "roles", "root"), [KID], "must be an object"),
    Bad("root", (S, "roles", "root", "threshold"), 0, "threshold"),
    Bad("root", (S, "roles", "root", "threshold"), -1, "threshold"),
    Bad("root", (S, "roles", "root", "threshold"), True, "threshold"),
    Bad("root", (S, "roles", "root", "threshold"), "1", "threshold"),
    Bad("root", (S, "roles", "root", "threshold"), DELETE, "threshold"),
    Bad("root", (S, "roles", "snapshot", "keyids"), [KID, KID], "keyids"),
    Bad("root", (S, "roles", "snapshot", "keyids"), KID, "keyids"),
    Bad("root", (S, "roles", "snapshot", "keyids"), [1], "keyids"),
    Bad("root", (S, "roles", "snapshot", "keyids"), DELETE, "keyids"),
    Bad("root", (S, "consistent_snapshot"), "true", "consistent_snapshot"),
    Bad("root", (S, "consistent_snapshot"), 1, "consistent_snapshot"),
    Bad("root", (S, "consistent_snapshot"), None, "consistent_snapshot"),
]

METAFILE_ROWS = [
    Bad(role, (S, "meta", name, *field), value, match)
    for role, name in (("timestamp", "snapshot.json"), ("snapshot", "a.json"))
    for field, value, match in (
        ((), [], "must be an object"),
        (("version",), 0, "version"),
        (("version",), -3, "version"),
        (("version",), True, "version"),
        (("version",), "2", "version"),
        (("version",), DELETE, "version"),
        (("length",), -1, "length"),
        (("length",), True, "length"),
        (("length",), "10", "length"),
        (("length",), None, "length"),
        (("hashes",), {}, "hashes"),
        (("hashes",), [], "hashes"),
        (("hashes",), None, "hashes"),
        (("hashes",), {"sha256": 1}, "sha256"),
        (("hashes",), {"sha256": None}, "sha256"),
    )
]

TIMESTAMP_ROWS = [
    Bad("timestamp", (S, "meta"), DELETE, "meta"),
    Bad("timestamp", (S, "meta"), [], "meta"),
    Bad("timestamp", (S, "meta"), {}, "snapshot.json"),
    Bad("timestamp", (S, "meta"), {"snapshot": {"version": 1}}, "snapshot.json"),
    Bad("timestamp", (S, "meta"), {"1.snapshot.json": {"version": 1}}, "snapshot.json"),
    Bad(
        "timestamp",
        (S, "meta"),
        {"snapshot.json": {"version": 1}, "targets.json": {"version": 1}},
        "snapshot.json",
    ),
]

SNAPSHOT_ROWS = [
    Bad("snapshot", (S, "meta"), DELETE, "meta"),
    Bad("snapshot", (S, "meta"), [{"version": 1}], "meta"),
    Bad("snapshot", (S, "meta", "targets.json"), 1, "must be an object"),
]

TARGETS_ROWS = [
    Bad("targets", (S, "targets"), DELETE, "targets"),
    Bad("succinct", (S, "targets"), DELETE, "targets"),
    Bad("targets", (S, "targets"), [], "targets"),
    Bad("targets", (S, "targets"), None, "targets"),
    Bad("targets", (S, "targets", "f/a.txt"), "x", "must be an object"),
    Bad("targets", (S, "targets", "f/a.txt", "length"), -1, "length"),
    Bad("targets", (S, "targets", "f/a.txt", "length"), True, "length"),
    Bad("targets", (S, "targets", "f/a.txt", "length"), "1", "length"),
    Bad("targets", (S, "targets", "f/a.txt", "length"), None, "length"),
    Bad("targets", (S, "targets", "f/a.txt", "length"), DELETE, "length"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), DELETE, "hashes"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), {}, "hashes"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), [HEX], "hashes"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), {"sha256": 5}, "sha256"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), {"sha512": None}, "sha512"),
    Bad("targets", (S, "targets", "f/a.txt", "hashes"), {"md5": []}, "md5"),
    Bad("targets", (S, "delegations"), None, "delegations"),
    Bad("targets", (S, "delegations"), [], "delegations"),
    Bad("targets", (S, "delegations", "keys"), DELETE, "keys"),
    Bad("targets", (S, "delegations", "keys"), [], "keys"),
    Bad("targets", (S, "delegations", "keys", KID, "keyval"), DELETE, "keyval"),
    Bad("targets", (S, "delegations", "roles"), DELETE, "roles"),
    Bad("targets", (S, "delegations", "roles"), {}, "roles"),
    Bad(
        "targets",
        (S, "delegations", "succinct_roles"),
        {"keyids": [KID], "threshold": 1, "bit_length": 4, "name_prefix": "bin"},
        "succinct_roles",
    ),
    Bad("succinct", (S, "delegations", "succinct_roles"), DELETE, "roles"),
    Bad("succinct", (S, "delegations", "roles"), [], "succinct_roles"),
    Bad("targets", (S, "delegations", "roles", 1, "name"), "a", "appears twice"),
    Bad("targets", (*DR, "name"), "targets", "top-level"),
    Bad("targets", (*DR, "name"), "root", "top-level"),
    Bad("targets", (*DR, "name"), "", "empty"),
    Bad("targets", (*DR, "name"), DELETE, "name"),
    Bad("targets", (*DR, "name"), 5, "name"),
    Bad("targets", (*DR, "paths"), DELETE, "paths"),
    Bad("targets", (*DR, "path_hash_prefixes"), ["ab"], "paths"),
    Bad("targets", (*DR, "paths"), "f/*", "paths"),
    Bad("targets", (*DR, "paths"), [1], "paths"),
    Bad("targets", (*DR, "paths"), None, "paths"),
    Bad("targets", (S, "delegations", "roles", 1, "path_hash_prefixes"), "ab", "prefixes"),
    Bad("targets", (S, "delegations", "roles", 1, "path_hash_prefixes"), ["AB"], "prefix"),
    Bad("targets", (S, "delegations", "roles", 1, "path_hash_prefixes"), ["zz"], "prefix"),
    Bad("targets", (S, "delegations", "roles", 1, "path_hash_prefixes"), [None], "prefixes"),
    Bad("targets", (*DR, "terminating"), DELETE, "terminating"),
    Bad("targets", (*DR, "terminating"), "false", "terminating"),
    Bad("targets", (*DR, "terminating"), 0, "terminating"),
    Bad("targets", (*DR, "threshold"), 0, "threshold"),
    Bad("targets", (*DR, "threshold"), True, "threshold"),
    Bad("targets", (*DR, "keyids"), [KID, KID], "keyids"),
    Bad("targets", (*DR, "keyids"), DELETE, "keyids"),
    Bad("targets", DR, "a", "must be an object"),
    Bad("succinct", (*SR, "bit_length"), 0, "bit_length"),
    Bad("succinct", (*SR, "bit_length"), 33, "bit_length"),
    Bad("succinct", (*SR, "bit_length"), -1, "bit_length"),
    Bad("succinct", (*SR, "bit_length"), True, "bit_length"),
    Bad("succinct", (*SR, "bit_length"), "8", "bit_length"),
    Bad("succinct", (*SR, "bit_length"), DELETE, "bit_length"),
    Bad("succinct", (*SR, "name_prefix"), DELETE, "name_prefix"),
    Bad("succinct", (*SR, "name_prefix"), 3, "name_prefix"),
    Bad("succinct", (*SR, "threshold"), 0, "threshold"),
    Bad("succinct", (*SR, "keyids"), [KID, KID], "keyids"),
    Bad("succinct", SR, [], "succinct_roles"),
]

ENVELOPE_ROWS = [
    *(Bad(r, ("signed",), DELETE, "signed") for r in ROLES),
    *(Bad(r, ("signed",), [], "signed") for r in ROLES),
    *(Bad(r, ("signatures",), DELETE, "signatures") for r in ROLES),
    *(Bad(r, ("signatures",), {}, "signatures") for r in ROLES),
    *(Bad(r, ("signatures",), ["00"], "signature") for r in ROLES),
    *(Bad(r, ("signatures",), [{"keyid": KID}], "sig") for r in ROLES),
    *(Bad(r, ("signatures",), [{"keyid": 1, "sig": ""}], "keyid") for r in ROLES),
    *(
        Bad(r, ("signatures",), [{"keyid": KID, "sig": ""}, {"keyid": KID, "sig": "00"}], "twice")
        for r in ROLES
    ),
]

ALL_ROWS = [
    *COMMON_ROWS,
    *ROOT_ROWS,
    *METAFILE_ROWS,
    *TIMESTAMP_ROWS,
    *SNAPSHOT_ROWS,
    *TARGETS_ROWS,
    *ENVELOPE_ROWS,
]


def _variants(row: Bad) -> list[dict[str, Any]]:
    doc = mutate(base(row.role), row.path, row.value)
    variants = [doc]
    if row.role in ("targets", "succinct") and type(doc.get("signed")) is dict:
        # an unrecognised field sends the document down the general path
        variants.append(mutate(doc, ("signed", "x-unknown"), {"a": 1}))
    return variants


@pytest.mark.parametrize("row", ALL_ROWS, ids=lambda r: r.id)
def test_malformed_field_is_rejected_naming_it(row: Bad) -> None:
    for doc in _variants(row):
        data = json.dumps(doc).encode()
        with pytest.raises(FormatError, match=row.match):
            Metadata.from_bytes(data)
        with pytest.raises(FormatError, match=row.match):
            Metadata.from_dict(doc)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("field", ["version", "length"])
def test_floats_rejected(role: str, field: str) -> None:
    doc = base(role)
    path = {
        "root": ("signed", "roles", "root", "threshold"),
        "timestamp": ("signed", "meta", "snapshot.json", "length"),
        "snapshot": ("signed", "meta", "a.json", "length"),
        "targets": ("signed", "targets", "f/a.txt", "length"),
        "succinct": ("signed", "delegations", "succinct_roles", "bit_length"),
    }[role]
    for where, value in ((("signed", "version"), 1.0), (path, 8.0)):
        if field == "version" and where != ("signed", "version"):
            continue
        bad = mutate(doc, where, value)
        with pytest.raises(FormatError, match="floating point"):
            Metadata.from_bytes(json.dumps(bad).encode())
        with pytest.raises(FormatError, match=str(where[-1])):
            Metadata.from_dict(bad)


@dataclass(frozen=True)
class Good:
    role: str
    path: tuple[Any, ...]
    value: Any


GOOD_ROWS = [
    *(Good(r, (S, "spec_version"), v) for r in ROLES for v in ("1.0", "1.0.31", "1.0.0", "1.20")),
    *(Good(r, (S, "version"), v) for r in ROLES for v in (1, 2**63, 2**80)),
    *(
        Good(r, (S, "expires"), v)
        for r in ROLES
        for v in ("2028-02-29T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
    ),
    Good("root", (S, "consistent_snapshot"), DELETE),
    Good("root", (S, "consistent_snapshot"), False),
    Good("root", (S, "roles", "mirrors"), {"keyids": [], "threshold": 1}),
    Good("root", (S, "roles", "root", "threshold"), 5),  # above the key count: not malformed
    Good("root", (S, "roles", "root", "keyids"), []),
    Good("timestamp", (S, "meta", "snapshot.json"), {"version": 1}),
    Good("timestamp", (S, "meta", "snapshot.json", "length"), 0),
    Good("timestamp", (S, "meta", "snapshot.json", "hashes"), {"anything": "zz"}),
    Good("snapshot", (S, "meta"), {}),
    Good("targets", (S, "targets"), {}),
    Good("targets", (S, "delegations"), DELETE),
    Good("targets", (S, "delegations", "roles"), []),
    Good("targets", (S, "targets", "f/a.txt", "length"), 0),
    Good("targets", (S, "targets", "f/a.txt", "custom"), None),
    Good("targets", (S, "targets", "f/a.txt", "custom"), {"deep": [[{"x": "\u2028"}]]}),
    Good("targets", (S, "targets", "f/a.txt", "hashes"), {"blake2b-256": HEX, "sha256": HEX}),
    Good("targets", (*DR, "paths"), []),
    Good("targets", (S, "delegations", "roles", 1, "path_hash_prefixes"), ["", "0123456789abcdef"]),
    Good("succinct", (*SR, "bit_length"), 1),
    Good("succinct", (*SR, "bit_length"), 32),
    Good("succinct", (*SR, "name_prefix"), ""),
]


@pytest.mark.parametrize(
    "row",
    GOOD_ROWS,
    ids=lambda r: f"{r.role}:{'/'.join(map(str, r.path))}={r.value!r}"[:60],
)
def test_valid_variants_are_accepted(row: Good) -> None:
    for doc in _variants(Bad(row.role, row.path, row.value, "")):
        md = Metadata.from_bytes(json.dumps(doc).encode())
        assert md.to_dict() == doc
        assert Metadata.from_dict(doc).to_dict() == doc


def test_consistent_snapshot_absent_reads_as_none() -> None:
    md = Metadata.from_dict(mutate(base("root"), (S, "consistent_snapshot"), DELETE))
    assert md.signed.consistent_snapshot is None
    assert "consistent_snapshot" not in md.signed.to_dict()


@pytest.mark.parametrize(
    ("role", "cls"),
    [("root", Root), ("timestamp", Timestamp), ("snapshot", Snapshot), ("targets", Targets)],
)
def test_from_bytes_as_checks_the_role_type(role: str, cls: type[Any]) -> None:
    data = json.dumps(base(role)).encode()
    assert type(Metadata.from_bytes_as(data, cls).signed) is cls
    roles: tuple[type[Any], ...] = (Root, Timestamp, Snapshot, Targets)
    for other in roles:
        if other is not cls:
            with pytest.raises(FormatError, match=f"expected {other.type}"):
                Metadata.from_bytes_as(data, other)


# -- unrecognised fields --------------------------------------------------------------------

EXTRA = {"x-extra": {"nested": ["é", 1, None, "\u2028"], "n": 2**70}}
EXTRA_PLACES: dict[str, list[tuple[Any, ...]]] = {
    "root": [
        (),
        (S,),
        (S, "keys", KID),
        (S, "keys", KID, "keyval"),
        (S, "roles", "root"),
        (S, "roles", "targets"),
    ],
    "timestamp": [(S,), (S, "meta", "snapshot.json")],
    "snapshot": [(S,), (S, "meta", "a.json")],
    "targets": [
        (S,),
        (S, "targets", "f/a.txt"),
        (S, "delegations"),
        (S, "delegations", "keys", KID),
        DR,
    ],
    "succinct": [(S,), SR, (S, "delegations")],
}
PLACE_ROWS = [(role, place) for role, places in EXTRA_PLACES.items() for place in places]


@pytest.mark.parametrize(("role", "place"), PLACE_ROWS, ids=lambda v: str(v))
def test_unrecognised_fields_round_trip_and_are_signed(role: str, place: tuple[Any, ...]) -> None:
    doc = mutate(base(role), (*place, "x-extra"), EXTRA["x-extra"])
    md = Metadata.from_dict(doc)
    md.sign(SIGNER)
    data = md.to_bytes()
    again = Metadata.from_bytes(data)
    assert again.to_dict() == md.to_dict()
    assert again.to_dict()["signed"] == doc["signed"]
    third = Metadata.from_bytes(again.to_bytes())
    assert third.to_dict() == again.to_dict()
    assert KEY.verify_signature(again.signatures[KID], again.verification_payload)
    # changing only the unrecognised value breaks the signature: it is covered
    tampered = data.replace(b'"n":1180591620717411303424', b'"n":1180591620717411303425')
    assert tampered != data
    changed = Metadata.from_bytes(tampered)
    if place == ():
        # envelope fields are outside the signed part
        assert KEY.verify_signature(changed.signatures[KID], changed.verification_payload)
    else:
        assert not KEY.verify_signature(changed.signatures[KID], changed.verification_payload)


def test_signature_entry_extras_round_trip() -> None:
    md = Metadata.from_dict(base("timestamp"))
    md.sign(SIGNER)
    doc = json.loads(md.to_bytes())
    doc["signatures"][0]["x-extra"] = [1]
    again = Metadata.from_bytes(json.dumps(doc).encode())
    assert json.loads(again.to_bytes()) == doc


@pytest.mark.parametrize("role", ["targets", "succinct"])
def test_targets_fast_and_general_paths_agree(role: str) -> None:
    md = Metadata.from_dict(base(role))
    md.sign(SIGNER)
    fast = Metadata.from_bytes(md.to_bytes())
    doc = json.loads(md.to_bytes())
    doc["signed"]["targets"]["f/b"] = {"length": 2, "hashes": {"sha256": HEX}, "custom": {"k": 1}}
    plain = json.dumps(doc).encode()
    doc["x-envelope-extra"] = True  # outside signed: forces the general path, same payload
    general = Metadata.from_bytes(json.dumps(doc).encode())
    fast2 = Metadata.from_bytes(plain)
    assert fast2.verification_payload == general.verification_payload
    assert fast2.signed.to_dict() == general.signed.to_dict()
    assert dict(fast2.signed.targets) == dict(general.signed.targets)
    assert fast.verification_payload == md.signed_bytes
    assert KEY.verify_signature(fast.signatures[KID], fast.verification_payload)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda m: setattr(m, "version", 1.5),
        lambda m: setattr(m, "length", 2.0),
        lambda m: setattr(m, "hashes", {"sha256": 7}),
        lambda m: setattr(m, "unrecognized_fields", {"x": 0.5}),
    ],
)
def test_snapshot_entries_are_type_checked_when_written(spoil: Any) -> None:
    """The snapshot's fast encoder still refuses what JSON or canonical JSON cannot hold."""
    entry = MetaFile(1, 10, {"sha256": "ab" * 32})
    md = Metadata(Snapshot(meta={"targets.json": MetaFile(1), "bin-0.json": entry}))
    spoil(entry)
    with pytest.raises(TypeError):
        md.to_bytes()
    with pytest.raises(TypeError):
        _ = md.signed_bytes


def test_snapshot_bytes_are_canonical_and_equal_the_generic_encoding() -> None:
    from tufkit.canonical import encode_canonical

    meta = {f"bin-{i:x}.json": MetaFile(i + 1) for i in range(300)}
    meta["targets.json"] = MetaFile(3, 120, {"sha256": "cd" * 32}, {"custom": [1, "x"]})
    md = Metadata(Snapshot(meta=meta))
    assert md.signed_bytes == encode_canonical(md.signed.to_dict())
