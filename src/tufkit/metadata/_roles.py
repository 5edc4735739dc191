"""Roles and delegations: who may sign what.

:class:`Role` is a top-level role entry in root; :class:`DelegatedRole` a delegation with its
path constraints; :class:`SuccinctRoles` the TAP 15 hashed bins; :class:`Delegations` the
``delegations`` object of targets metadata. Matching a target path to roles is pure and
OS-independent (see ``_paths``). Thresholds must be at least 1 and keyids unique within a role.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tufkit.crypto import Key
from tufkit.errors import FormatError
from tufkit.metadata._fields import (
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    get_str_list,
    type_name,
)
from tufkit.metadata._paths import PathPattern, path_hash, succinct_bin

__all__ = ["TOP_LEVEL_ROLE_NAMES", "DelegatedRole", "Delegations", "Role", "SuccinctRoles"]

TOP_LEVEL_ROLE_NAMES = ("root", "timestamp", "snapshot", "targets")
_HEX_PREFIX = re.compile(r"[0-9a-f]*")


def _check_threshold(threshold: object, where: str) -> int:
    if type(threshold) is not int or threshold < 1:
        raise ValueError(f"{where}: threshold must be an integer of at least 1, not {threshold!r}")
    return threshold


def _check_keyids(keyids: list[str], where: str) -> list[str]:
    if len(set(keyids)) != len(keyids):
        raise ValueError(f"{where}: keyids must be unique")
    return keyids


class Role:
    """A set of keys and how many of them must sign.

    Attributes:
        keyids: keyids of the keys allowed to sign (unique).
        threshold: how many distinct keys must sign (at least 1; may exceed ``len(keyids)``,
            which makes the role impossible to satisfy but is not malformed).
        unrecognized_fields: other fields, kept as read.
    """

    __slots__ = ("keyids", "threshold", "unrecognized_fields")
    _known: tuple[str, ...] = ("keyids", "threshold")

    def __init__(
        self, keyids: list[str], threshold: int, unrecognized_fields: dict[str, Any] | None = None
    ) -> None:
        self.keyids = _check_keyids(list(keyids), "role")
        self.threshold = _check_threshold(threshold, "role")
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def _read_common(cls, data: object, where: str) -> tuple[dict[str, Any], list[str], int]:
        if type(data) is not dict:
            raise FormatError(f"{where}: must be an object, not {type_name(data)}")
        keyids = get_str_list(data, "keyids", where, unique=True)
        threshold = get_int(data, "threshold", where, minimum=1)
        return data, keyids, threshold

    @classmethod
    def from_dict(cls, data: object, where: str = "role") -> Role:
        """Read a role entry.

        Raises:
            FormatError: bad keyids (not strings, duplicated) or a threshold below 1.
        """
        raw, keyids, threshold = cls._read_common(data, where)
        return cls(keyids, threshold, {k: v for k, v in raw.items() if k not in cls._known})

    def to_dict(self) -> dict[str, Any]:
        """Return the role object."""
        return {"keyids": self.keyids, "threshold": self.threshold, **self.unrecognized_fields}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Role)
            and type(other) is type(self)
            and self.to_dict() == other.to_dict()
        )

    def __hash__(self) -> int:
        return hash((tuple(self.keyids), self.threshold))


class DelegatedRole(Role):
    """A delegation from targets metadata to a named role for some target paths.

    Attributes:
        name: the delegated role's name (not empty, not a top-level role name).
        terminating: if True, a search that reaches this role goes no further.
        paths: glob patterns, or None.
        path_hash_prefixes: lowercase hex prefixes of the path's SHA-256, or None.
            Exactly one of *paths* and *path_hash_prefixes* is given.
    """

    __slots__ = ("_compiled", "name", "path_hash_prefixes", "paths", "terminating")
    _known = ("name", "keyids", "threshold", "terminating", "paths", "path_hash_prefixes")

    def __init__(
        self,
        name: str,
        keyids: list[str],
        threshold: int,
        terminating: bool,
        paths: list[str] | None = None,
        path_hash_prefixes: list[str] | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(keyids, threshold, unrecognized_fields)
        if not name or name in TOP_LEVEL_ROLE_NAMES:
            raise ValueError(f"delegated role name {name!r} is empty or a top-level role name")
        if (paths is None) == (path_hash_prefixes is None):
            raise ValueError(f"role {name!r}: give exactly one of paths and path_hash_prefixes")
        for prefix in path_hash_prefixes or ():
            if not _HEX_PREFIX.fullmatch(prefix):
                raise ValueError(f"role {name!r}: hash prefix {prefix[:70]!r} is not lowercase hex")
        self.name = name
        self.terminating = terminating
        self.paths = paths
        self.path_hash_prefixes = path_hash_prefixes
        self._compiled = [PathPattern(p) for p in paths] if paths is not None else None

    @classmethod
    def from_dict(cls, data: object, where: str = "delegated role") -> DelegatedRole:
        """Read a delegated role entry.

        Raises:
            FormatError: a field is missing, wrongly typed, or the entry is inconsistent.
        """
        raw, keyids, threshold = cls._read_common(data, where)
        name = get_str(raw, "name", where)
        where = f"delegated role {name[:80]!r}"
        terminating = get_bool(raw, "terminating", where)
        paths = get_str_list(raw, "paths", where, unique=False) if "paths" in raw else None
        prefixes = None
        if "path_hash_prefixes" in raw:
            prefixes = get_str_list(raw, "path_hash_prefixes", where, unique=False)
        others = {k: v for k, v in raw.items() if k not in cls._known}
        try:
            return cls(name, keyids, threshold, terminating, paths, prefixes, others)
        except ValueError as exc:
            raise FormatError(f"{where}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Return the delegated role object."""
        out = {
            "name": self.name,
            "keyids": self.keyids,
            "threshold": self.threshold,
            "terminating": self.terminating,
            **self.unrecognized_fields,
        }
        if self.paths is not None:
            out["paths"] = self.paths
        if self.path_hash_prefixes is not None:
            out["path_hash_prefixes"] = self.path_hash_prefixes
        return out

    def is_delegated_path(self, target_path: str) -> bool:
        """True if this delegation covers *target_path*."""
        if self._compiled is not None:
            return any(pattern.matches(target_path) for pattern in self._compiled)
        digest = path_hash(target_path)
        return any(digest.startswith(prefix) for prefix in self.path_hash_prefixes or ())

    def __repr__(self) -> str:
        return f"DelegatedRole(name={self.name!r}, threshold={self.threshold})"


class SuccinctRoles(Role):
    """TAP 15 hashed bins: ``2**bit_length`` roles named ``<name_prefix>-<bin in hex>``.

    All bins share the keys and threshold. Succinct delegations are treated as terminating:
    a target's bin is the only place it can be, so the search stops there (as python-tuf does).

    Attributes:
        bit_length: 1 to 32.
        name_prefix: the common prefix of the bin names.
    """

    __slots__ = ("bit_length", "name_prefix", "suffix_len")
    _known = ("keyids", "threshold", "bit_length", "name_prefix")

    def __init__(
        self,
        keyids: list[str],
        threshold: int,
        bit_length: int,
        name_prefix: str,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(keyids, threshold, unrecognized_fields)
        if type(bit_length) is not int or not 1 <= bit_length <= 32:
            raise ValueError(f"bit_length must be an integer from 1 to 32, not {bit_length!r}")
        self.bit_length = bit_length
        self.name_prefix = name_prefix
        self.suffix_len = len(f"{(1 << bit_length) - 1:x}")

    @classmethod
    def from_dict(cls, data: object, where: str = "succinct_roles") -> SuccinctRoles:
        """Read a succinct_roles object.

        Raises:
            FormatError: a field is missing, wrongly typed or out of range.
        """
        raw, keyids, threshold = cls._read_common(data, where)
        bit_length = get_int(raw, "bit_length", where, minimum=1)
        if bit_length > 32:
            raise FormatError(f"{where}: 'bit_length' must be at most 32, not {bit_length}")
        name_prefix = get_str(raw, "name_prefix", where)
        others = {k: v for k, v in raw.items() if k not in cls._known}
        return cls(keyids, threshold, bit_length, name_prefix, others)

    def to_dict(self) -> dict[str, Any]:
        """Return the succinct_roles object."""
        return {
            "keyids": self.keyids,
            "threshold": self.threshold,
            "bit_length": self.bit_length,
            "name_prefix": self.name_prefix,
            **self.unrecognized_fields,
        }

    @property
    def number_of_bins(self) -> int:
        """How many bins there are."""
        return 1 << self.bit_length

    def bin_name(self, bin_number: int) -> str:
        """The role name of bin *bin_number*."""
        return f"{self.name_prefix}-{bin_number:0{self.suffix_len}x}"

    def get_role_for_target(self, target_path: str) -> str:
        """The name of the bin responsible for *target_path*."""
        return self.bin_name(succinct_bin(target_path, self.bit_length))

    def get_roles(self) -> Iterator[str]:
        """Every bin name, in order."""
        for number in range(self.number_of_bins):
            yield self.bin_name(number)

    def is_delegated_role(self, role_name: str) -> bool:
        """True if *role_name* is one of these bins."""
        prefix = f"{self.name_prefix}-"
        if not role_name.startswith(prefix):
            return False
        suffix = role_name[len(prefix) :]
        if len(suffix) != self.suffix_len or not _HEX_PREFIX.fullmatch(suffix):
            return False
        return int(suffix, 16) < self.number_of_bins


class Delegations:
    """The ``delegations`` object of targets metadata.

    Attributes:
        keys: keyid -> key, the only keys that may sign the delegated roles.
        roles: name -> delegated role, in priority order; or None with succinct roles.
        succinct_roles: the hashed bins; or None with *roles*.
        unrecognized_fields: other fields, kept as read.
    """

    __slots__ = ("keys", "roles", "succinct_roles", "unrecognized_fields")

    def __init__(
        self,
        keys: dict[str, Key],
        roles: dict[str, DelegatedRole] | None = None,
        succinct_roles: SuccinctRoles | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if (roles is None) == (succinct_roles is None):
            raise ValueError("delegations need exactly one of roles and succinct_roles")
        for name, role in (roles or {}).items():
            if name != role.name:
                raise ValueError(f"delegated role stored as {name!r} is named {role.name!r}")
        self.keys = keys
        self.roles = roles
        self.succinct_roles = succinct_roles
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def from_dict(cls, data: object) -> Delegations:
        """Read a delegations object.

        Raises:
            FormatError: malformed keys or roles, duplicate role names, or both/neither of
                ``roles`` and ``succinct_roles``.
        """
        where = "delegations"
        if type(data) is not dict:
            raise FormatError(f"{where}: must be an object, not {type_name(data)}")
        keys = {kid: Key.from_dict(kid, kd) for kid, kd in get_dict(data, "keys", where).items()}
        has_roles, has_succinct = "roles" in data, "succinct_roles" in data
        if has_roles == has_succinct:
            raise FormatError(f"{where}: exactly one of 'roles' and 'succinct_roles' is required")
        roles = None
        succinct = None
        if has_roles:
            roles = {}
            for item in get_list(data, "roles", where):
                role = DelegatedRole.from_dict(item)
                if role.name in roles:
                    raise FormatError(f"{where}: role name {role.name[:80]!r} appears twice")
                roles[role.name] = role
        else:
            succinct = SuccinctRoles.from_dict(data["succinct_roles"])
        others = {k: v for k, v in data.items() if k not in ("keys", "roles", "succinct_roles")}
        return cls(keys, roles, succinct, others)

    def to_dict(self) -> dict[str, Any]:
        """Return the delegations object."""
        out: dict[str, Any] = {
            "keys": {keyid: key.to_dict() for keyid, key in self.keys.items()},
            **self.unrecognized_fields,
        }
        if self.roles is not None:
            out["roles"] = [role.to_dict() for role in self.roles.values()]
        if self.succinct_roles is not None:
            out["succinct_roles"] = self.succinct_roles.to_dict()
        return out

    def get_roles_for_target(self, target_path: str) -> Iterator[tuple[str, bool]]:
        """Yield ``(role name, terminating)`` for each role responsible for *target_path*,
        in priority order."""
        if self.succinct_roles is not None:
            yield self.succinct_roles.get_role_for_target(target_path), True
            return
        for role in (self.roles or {}).values():
            if role.is_delegated_path(target_path):
                yield role.name, role.terminating

    def get_role(self, role_name: str) -> Role | None:
        """The role entry that authorises *role_name* (a bin shares the succinct entry)."""
        if self.roles is not None:
            return self.roles.get(role_name)
        assert self.succinct_roles is not None
        if self.succinct_roles.is_delegated_role(role_name):
            return self.succinct_roles
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Delegations) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.keys))
