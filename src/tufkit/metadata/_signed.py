"""The signed content of root, timestamp and snapshot, and what every role shares (Targets is in
``_targets.py``).

Each class reads from and writes to plain dicts; unrecognised fields are kept and written back.
Expiry is decided against a reference time the caller passes in: nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from tufkit.canonical import check_json
from tufkit.crypto import Key, Signature
from tufkit.errors import FormatError
from tufkit.metadata._fields import (
    SPEC_VERSION,
    check_spec_version,
    format_expires,
    get_bool,
    get_dict,
    get_int,
    parse_expires,
    type_name,
)
from tufkit.metadata._files import MetaFile
from tufkit.metadata._roles import TOP_LEVEL_ROLE_NAMES, Role
from tufkit.metadata._verification import VerificationResult, count_signatures

__all__ = ["COMMON_FIELDS", "Delegator", "Root", "Signed", "Snapshot", "Timestamp"]

COMMON_FIELDS = ("_type", "spec_version", "version", "expires")


class Signed:
    """What every role's signed content has.

    Attributes:
        version: at least 1.
        spec_version: the TUF specification version it was written for.
        expires: when it expires (aware, UTC).
        unrecognized_fields: other fields, kept as read.
    """

    type: ClassVar[str] = "signed"
    _known: ClassVar[tuple[str, ...]] = COMMON_FIELDS

    def __init__(
        self,
        version: int = 1,
        spec_version: str = SPEC_VERSION,
        expires: datetime | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if type(version) is not int or version < 1:
            raise ValueError(f"version must be an integer of at least 1, not {version!r}")
        check_spec_version(spec_version, self.type)
        if expires is None:
            expires = datetime.now(UTC).replace(microsecond=0)
        elif expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        self.version = version
        self.spec_version = spec_version
        self.expires = expires.replace(microsecond=0)
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def _common_from_dict(cls, data: dict[str, Any]) -> tuple[int, str, datetime]:
        where = cls.type
        found = data.get("_type")
        if found != cls.type:
            shown = found[:40] if type(found) is str else type_name(found)
            raise FormatError(f"expected {cls.type} metadata, got _type {shown!r}")
        version = get_int(data, "version", where, minimum=1)
        spec_version = check_spec_version(data.get("spec_version"), where)
        if "expires" not in data:
            raise FormatError(f"{where}: required field 'expires' is missing")
        return version, spec_version, parse_expires(data["expires"], where)

    def _unrecognized(self, data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k not in self._known}

    def _common_to_dict(self) -> dict[str, Any]:
        return {
            "_type": self.type,
            "spec_version": self.spec_version,
            "version": self.version,
            "expires": format_expires(self.expires),
            **self.unrecognized_fields,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the signed object as a dict."""
        return self._common_to_dict()

    def is_expired(self, reference_time: datetime) -> bool:
        """True if expired at *reference_time* (expired once ``reference_time >= expires``)."""
        return reference_time >= self.expires

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Signed)
            and type(other) is type(self)
            and self.to_dict() == other.to_dict()
        )

    def __hash__(self) -> int:
        return hash((self.type, self.version))


class Delegator:
    """Verification of delegated roles, shared by Root (top-level roles) and Targets."""

    def get_delegated_role(self, role_name: str) -> Role:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_key(self, keyid: str) -> Key | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _keys_of(self, role: Role) -> dict[str, Key]:
        return {kid: key for kid in role.keyids if (key := self.get_key(kid)) is not None}

    def get_verification_result(
        self, role_name: str, payload: bytes, signatures: Mapping[str, Signature]
    ) -> VerificationResult:
        """Check *signatures* over *payload* for delegated role *role_name*.

        Raises:
            ValueError: this metadata does not delegate to *role_name*.
        """
        role = self.get_delegated_role(role_name)
        return count_signatures(role_name, role, self._keys_of(role), payload, signatures)

    def verify_delegate(
        self, role_name: str, payload: bytes, signatures: Mapping[str, Signature]
    ) -> None:
        """Raise unless a threshold of *role_name*'s keys signed *payload*.

        Raises:
            UnsignedMetadataError: the threshold is not met.
            ValueError: this metadata does not delegate to *role_name*.
        """
        self.get_verification_result(role_name, payload, signatures).raise_unless_verified()


class Root(Delegator, Signed):
    """Root metadata: the keys and thresholds of the top-level roles.

    Attributes:
        keys: keyid -> key.
        roles: ``root``, ``timestamp``, ``snapshot``, ``targets`` (and optionally ``mirrors``).
        consistent_snapshot: whether the repository uses versioned metadata names and
            hash-prefixed target names; None when the field is absent (read as False).
    """

    type = "root"
    _known = (*COMMON_FIELDS, "keys", "roles", "consistent_snapshot")

    def __init__(
        self,
        version: int = 1,
        spec_version: str = SPEC_VERSION,
        expires: datetime | None = None,
        keys: dict[str, Key] | None = None,
        roles: dict[str, Role] | None = None,
        consistent_snapshot: bool | None = True,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, spec_version, expires, unrecognized_fields)
        self.keys = keys if keys is not None else {}
        self.roles = roles if roles is not None else {n: Role([], 1) for n in TOP_LEVEL_ROLE_NAMES}
        missing = [name for name in TOP_LEVEL_ROLE_NAMES if name not in self.roles]
        if missing:
            raise ValueError(f"root must define the roles {', '.join(missing)}")
        self.consistent_snapshot = consistent_snapshot

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Root:
        """Read root metadata's signed object.

        Raises:
            FormatError: malformed or missing fields, missing top-level roles, bad keys.
        """
        version, spec_version, expires = cls._common_from_dict(data)
        keys = {kid: Key.from_dict(kid, kd) for kid, kd in get_dict(data, "keys", "root").items()}
        roles_data = get_dict(data, "roles", "root")
        roles = {
            name: Role.from_dict(rd, f"root role {name[:40]!r}") for name, rd in roles_data.items()
        }
        missing = [name for name in TOP_LEVEL_ROLE_NAMES if name not in roles]
        if missing:
            raise FormatError(f"root: 'roles' lacks {', '.join(missing)}")
        consistent = None
        if "consistent_snapshot" in data:
            consistent = get_bool(data, "consistent_snapshot", "root")
        root = cls(version, spec_version, expires, keys, roles, consistent)
        root.unrecognized_fields = root._unrecognized(data)
        return root

    def to_dict(self) -> dict[str, Any]:
        """Return the signed object as a dict."""
        out = self._common_to_dict()
        out["keys"] = {keyid: key.to_dict() for keyid, key in self.keys.items()}
        out["roles"] = {name: role.to_dict() for name, role in self.roles.items()}
        if self.consistent_snapshot is not None:
            out["consistent_snapshot"] = self.consistent_snapshot
        return out

    def get_delegated_role(self, role_name: str) -> Role:
        """The role entry of top-level role *role_name*.

        Raises:
            ValueError: *role_name* is not a role of this root.
        """
        role = self.roles.get(role_name)
        if role is None:
            raise ValueError(f"root does not define role {role_name!r}")
        return role

    def get_key(self, keyid: str) -> Key | None:
        """The key with *keyid*, or None."""
        return self.keys.get(keyid)

    def add_key(self, key: Key, role_name: str) -> None:
        """Authorise *key* for top-level role *role_name*.

        Raises:
            ValueError: *role_name* is not a role of this root.
        """
        role = self.get_delegated_role(role_name)
        if key.keyid not in role.keyids:
            role.keyids.append(key.keyid)
        self.keys[key.keyid] = key

    def revoke_key(self, keyid: str, role_name: str) -> None:
        """Remove *keyid* from *role_name*; drop the key once no role uses it.

        Raises:
            ValueError: the role does not list the key.
        """
        role = self.get_delegated_role(role_name)
        if keyid not in role.keyids:
            raise ValueError(f"key {keyid[:16]} is not used by role {role_name!r}")
        role.keyids.remove(keyid)
        if not any(keyid in r.keyids for r in self.roles.values()):
            self.keys.pop(keyid, None)


class Timestamp(Signed):
    """Timestamp metadata: the current snapshot version (and optionally its length and hashes).

    Attributes:
        snapshot_meta: the ``snapshot.json`` entry.
    """

    type = "timestamp"
    _known = (*COMMON_FIELDS, "meta")

    def __init__(
        self,
        version: int = 1,
        spec_version: str = SPEC_VERSION,
        expires: datetime | None = None,
        snapshot_meta: MetaFile | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, spec_version, expires, unrecognized_fields)
        self.snapshot_meta = snapshot_meta or MetaFile(1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timestamp:
        """Read timestamp metadata's signed object.

        Raises:
            FormatError: malformed fields, or ``meta`` other than exactly ``snapshot.json``.
        """
        version, spec_version, expires = cls._common_from_dict(data)
        meta = get_dict(data, "meta", "timestamp")
        if list(meta) != ["snapshot.json"]:
            raise FormatError("timestamp: 'meta' must list exactly 'snapshot.json'")
        snapshot_meta = MetaFile.from_dict(meta["snapshot.json"], "timestamp meta 'snapshot.json'")
        ts = cls(version, spec_version, expires, snapshot_meta)
        ts.unrecognized_fields = ts._unrecognized(data)
        return ts

    def to_dict(self) -> dict[str, Any]:
        """Return the signed object as a dict."""
        out = self._common_to_dict()
        out["meta"] = {"snapshot.json": self.snapshot_meta.to_dict()}
        return out


class Snapshot(Signed):
    """Snapshot metadata: the current version of every targets metadata file.

    Attributes:
        meta: file name (``targets.json``, ``<role>.json``) -> metafile.
    """

    type = "snapshot"
    _known = (*COMMON_FIELDS, "meta")

    def __init__(
        self,
        version: int = 1,
        spec_version: str = SPEC_VERSION,
        expires: datetime | None = None,
        meta: dict[str, MetaFile] | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, spec_version, expires, unrecognized_fields)
        self.meta = meta if meta is not None else {"targets.json": MetaFile(1)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """Read snapshot metadata's signed object.

        Raises:
            FormatError: malformed fields or metafile entries.
        """
        version, spec_version, expires = cls._common_from_dict(data)
        meta_data = get_dict(data, "meta", "snapshot")
        meta = {
            name: MetaFile.from_dict(entry, f"snapshot meta {name[:80]!r}")
            for name, entry in meta_data.items()
        }
        snapshot = cls(version, spec_version, expires, meta)
        snapshot.unrecognized_fields = snapshot._unrecognized(data)
        return snapshot

    def to_dict(self) -> dict[str, Any]:
        """Return the signed object as a dict."""
        out = self._common_to_dict()
        out["meta"] = {name: entry.to_dict() for name, entry in self.meta.items()}
        return out

    def _to_encodable(self) -> dict[str, Any]:
        """The signed object, type-checked for the trusted encoder without a generic walk over
        every entry (a snapshot of hashed bins lists tens of thousands of roles).

        Raises:
            TypeError: a field holds a float or a type JSON cannot express.
            ValueError: nesting deeper than the supported limit.
        """
        out = self._common_to_dict()
        check_json(out)
        meta: dict[str, Any] = {}
        for name, entry in self.meta.items():
            if type(name) is not str:
                raise TypeError(f"snapshot meta names must be strings, not {type_name(name)}")
            meta[name] = _plain_metafile(entry)
        out["meta"] = meta
        return out


def _plain_metafile(entry: MetaFile) -> dict[str, Any]:
    """*entry* as a dict, its field types checked (the generic walk only for extra fields)."""
    version, length, hashes = entry.version, entry.length, entry.hashes
    if type(version) is not int or (length is not None and type(length) is not int):
        raise TypeError("metafile version and length must be integers")
    out = entry.to_dict()
    if hashes is not None and not all(type(k) is str and type(v) is str for k, v in hashes.items()):
        raise TypeError("metafile hashes must map strings to strings")
    if entry.unrecognized_fields:
        check_json(entry.unrecognized_fields)
    return out
