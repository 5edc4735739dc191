"""Targets metadata (top-level or delegated): target files and further delegations.

The ``targets`` map is stored compactly (see :class:`TargetEntries`), so a million-entry document
does not become a million Python objects unless it is iterated. Nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from tufkit.canonical import check_json
from tufkit.crypto import Key
from tufkit.metadata._fields import SPEC_VERSION, get_dict
from tufkit.metadata._files import TargetFile
from tufkit.metadata._roles import Delegations, Role
from tufkit.metadata._signed import COMMON_FIELDS, Delegator, Signed

__all__ = ["TargetEntries", "Targets"]


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


class Targets(Delegator, Signed):
    """Targets metadata (top-level or delegated): target files and further delegations.

    Attributes:
        targets: path -> target file (a lazily built mapping).
        delegations: the delegations, or None.
    """

    type = "targets"
    _known = (*COMMON_FIELDS, "targets", "delegations")

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
