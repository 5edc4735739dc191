"""The four roles' signed content: Root, Timestamp, Snapshot, Targets.

Each class reads from and writes to plain dicts; unrecognised fields are kept and written back.
Expiry is decided against a reference time the caller passes in: nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
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
from tufkit.metadata._files import MetaFile, TargetFile
from tufkit.metadata._roles import TOP_LEVEL_ROLE_NAMES, Delegations, Role
from tufkit.metadata._verification import VerificationResult, count_signatures

__all__ = ["Root", "Signed", "Snapshot", "TargetEntries", "Targets", "Timestamp"]

_COMMON = ("_type", "spec_version", "version", "expires")


class Signed:
    """What every role's signed content has.

    Attributes:
        version: at least 1.
        spec_version: the TUF specification version it was written for.
        expires: when it expires (aware, UTC).
        unrecognized_fields: other fields, kept as read.
    """

    type: ClassVar[str] = "signed"
    _known: ClassVar[tuple[str, ...]] = _COMMON

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


class _Delegator:
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


class Root(_Delegator, Signed):
    """Root metadata: the keys and thresholds of the top-level roles.

    Attributes:
        keys: keyid -> key.
        roles: ``root``, ``timestamp``, ``snapshot``, ``targets`` (and optionally ``mirrors``).
        consistent_snapshot: whether the repository uses versioned metadata names and
            hash-prefixed target names; None when the field is absent (read as False).
    """

    type = "root"
    _known = (*_COMMON, "keys", "roles", "consistent_snapshot")

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
    _known = (*_COMMON, "meta")

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
    _known = (*_COMMON, "meta")

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


class TargetEntries(MutableMapping[str, TargetFile]):
    """The ``targets`` map of targets metadata, stored compactly.

    Entries read by the fast parser, and entries assigned whose only extra field is ``custom``,
    are kept as compact validated records that the canonical encoder writes without Python code;
    a :class:`TargetFile` is built when one is asked for. Entries are values: to change one,
    assign a new :class:`TargetFile` (changing a returned object does not change the map).
    """

    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[str, Any] | None = None) -> None:
        # values: TargetFile, or a compact entry with .length/.hashes/.custom
        self._entries: dict[str, Any] = dict(entries or {})

    def __getitem__(self, path: str) -> TargetFile:
        entry = self._entries[path]
        if type(entry) is TargetFile:
            return entry
        from tufkit.metadata import _fastpath

        return _fastpath.target_from_entry(path, entry)

    def __setitem__(self, path: str, target: TargetFile) -> None:
        if not isinstance(target, TargetFile):
            raise TypeError(f"targets hold TargetFile objects, not {type(target).__name__}")
        if target.path != path:
            raise ValueError(f"target stored as {path!r} has path {target.path!r}")
        if not all(type(name) is str for name in target.hashes):
            raise TypeError("hash algorithm names must be strings")
        from tufkit.metadata import _fastpath

        check_json(target.unrecognized_fields)
        compact = _fastpath.entry_from_target(target)
        self._entries[path] = target if compact is None else compact

    def __delitem__(self, path: str) -> None:
        del self._entries[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def encodable(self) -> dict[str, Any]:
        """The map in a form the canonical encoder takes (compact entries kept as they are)."""
        out = {
            path: entry.to_dict() if type(entry) is TargetFile else entry
            for path, entry in self._entries.items()
        }
        for entry in self._entries.values():
            if type(entry) is TargetFile:
                check_json(entry.unrecognized_fields)
        return out


class Targets(_Delegator, Signed):
    """Targets metadata (top-level or delegated): target files and further delegations.

    Attributes:
        targets: path -> target file (a lazily built mapping).
        delegations: the delegations, or None.
    """

    type = "targets"
    _known = (*_COMMON, "targets", "delegations")

    def __init__(
        self,
        version: int = 1,
        spec_version: str = SPEC_VERSION,
        expires: datetime | None = None,
        targets: Mapping[str, Any] | None = None,
        delegations: Delegations | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, spec_version, expires, unrecognized_fields)
        self.targets = targets if isinstance(targets, TargetEntries) else TargetEntries(targets)
        self.delegations = delegations

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Targets:
        """Read targets metadata's signed object.

        Raises:
            FormatError: malformed fields, target entries or delegations.
        """
        version, spec_version, expires = cls._common_from_dict(data)
        raw_targets = get_dict(data, "targets", "targets")
        entries = {path: TargetFile.from_dict(entry, path) for path, entry in raw_targets.items()}
        delegations = None
        if "delegations" in data:
            delegations = Delegations.from_dict(data["delegations"])
        targets = cls(version, spec_version, expires, entries, delegations)
        targets.unrecognized_fields = targets._unrecognized(data)
        return targets

    def _to_encodable(self) -> dict[str, Any]:
        """The signed object with compact target entries, type-checked for the trusted encoder.

        Raises:
            TypeError: a field holds a float or a type JSON cannot express.
            ValueError: nesting deeper than the supported limit.
        """
        out = self._common_to_dict()
        if self.delegations is not None:
            out["delegations"] = self.delegations.to_dict()
        check_json(out)
        out["targets"] = self.targets.encodable()
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the signed object as plain dicts (builds every entry: slow for huge maps)."""
        out = self._common_to_dict()
        out["targets"] = {path: self.targets[path].to_dict() for path in self.targets}
        if self.delegations is not None:
            out["delegations"] = self.delegations.to_dict()
        return out

    def get_delegated_role(self, role_name: str) -> Role:
        """The delegation entry that authorises *role_name*.

        Raises:
            ValueError: this metadata does not delegate to *role_name*.
        """
        role = self.delegations.get_role(role_name) if self.delegations else None
        if role is None:
            raise ValueError(f"targets metadata does not delegate to {role_name!r}")
        return role

    def get_key(self, keyid: str) -> Key | None:
        """The delegation key with *keyid*, or None."""
        return self.delegations.keys.get(keyid) if self.delegations else None

    def add_key(self, key: Key, role_name: str) -> None:
        """Authorise *key* for delegated role *role_name*.

        Raises:
            ValueError: no delegation to *role_name*.
        """
        role = self.get_delegated_role(role_name)
        assert self.delegations is not None
        if key.keyid not in role.keyids:
            role.keyids.append(key.keyid)
        self.delegations.keys[key.keyid] = key

    def revoke_key(self, keyid: str, role_name: str) -> None:
        """Remove *keyid* from delegated role *role_name*; drop the key once unused.

        Raises:
            ValueError: no such delegation, or the role does not list the key.
        """
        role = self.get_delegated_role(role_name)
        assert self.delegations is not None
        if keyid not in role.keyids:
            raise ValueError(f"key {keyid[:16]} is not used by role {role_name!r}")
        role.keyids.remove(keyid)
        roles: list[Role] = list(self.delegations.roles.values()) if self.delegations.roles else []
        if self.delegations.succinct_roles is not None:
            roles.append(self.delegations.succinct_roles)
        if not any(keyid in r.keyids for r in roles):
            self.delegations.keys.pop(keyid, None)
