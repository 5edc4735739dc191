"""How long each role's metadata stays valid when the repository signs a new version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

__all__ = ["ExpiryPolicy"]


@dataclass(frozen=True)
class ExpiryPolicy:
    """Lifetimes of newly signed metadata, per role.

    Short lifetimes for the online roles bound how long a stolen timestamp or snapshot key, or a
    frozen mirror, can hold clients back (implicit revocation); offline roles live longer because
    re-signing them needs a ceremony.

    Attributes:
        root, targets, snapshot, timestamp: the top-level roles' lifetimes.
        delegated: the lifetime of every delegated role without an override.
        overrides: role name -> lifetime, for particular delegated roles.
    """

    root: timedelta = timedelta(days=365)
    targets: timedelta = timedelta(days=90)
    snapshot: timedelta = timedelta(days=7)
    timestamp: timedelta = timedelta(days=1)
    delegated: timedelta = timedelta(days=90)
    overrides: Mapping[str, timedelta] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lifetimes = {
            "root": self.root,
            "targets": self.targets,
            "snapshot": self.snapshot,
            "timestamp": self.timestamp,
            "delegated": self.delegated,
            **self.overrides,
        }
        for role, lifetime in lifetimes.items():
            if not isinstance(lifetime, timedelta) or lifetime <= timedelta(0):
                raise ValueError(f"expiry policy: the lifetime of {role!r} must be positive")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def lifetime(self, role: str) -> timedelta:
        """How long a new version of *role* stays valid."""
        if role in self.overrides:
            return self.overrides[role]
        top_level: dict[str, timedelta] = {
            "root": self.root,
            "targets": self.targets,
            "snapshot": self.snapshot,
            "timestamp": self.timestamp,
        }
        return top_level.get(role, self.delegated)
