"""Limits and policies of the TUF client, in one immutable, validated record.

Every length the client downloads has a bound here; the units are in the comments. Every field
is typed and keyword-only (a misspelt name is a type error for mypy and a ``TypeError`` at run
time), and every bound is checked when the record is built, with a ``ValueError`` naming the
field. What weakens verification says so in its name (``unsafe_...``) and is logged when used.
This module holds no state and reads no environment: callers build a config and pass it in.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["UpdaterConfig"]


class _Fields(TypedDict, total=False):
    """The fields of :class:`UpdaterConfig`, for typing :meth:`UpdaterConfig.replace`."""

    max_root_rotations: int
    max_delegations: int
    root_max_length: int
    timestamp_max_length: int
    snapshot_max_length: int
    targets_max_length: int
    connect_timeout: float
    read_timeout: float
    min_average_speed: int
    slow_retrieval_grace: float
    prefix_targets_with_hash: bool
    refresh_interval: float
    unsafe_offline_staleness_budget: float


# field name -> (kind, smallest allowed value)
_COUNT, _SECONDS, _FLAG = "count", "seconds", "flag"
_RULES: dict[str, tuple[str, float]] = {
    "max_root_rotations": (_COUNT, 1),
    "max_delegations": (_COUNT, 1),
    "root_max_length": (_COUNT, 1),
    "timestamp_max_length": (_COUNT, 1),
    "snapshot_max_length": (_COUNT, 1),
    "targets_max_length": (_COUNT, 1),
    "connect_timeout": (_SECONDS, math.ulp(0.0)),  # more than zero
    "read_timeout": (_SECONDS, math.ulp(0.0)),
    "min_average_speed": (_COUNT, 1),
    "slow_retrieval_grace": (_SECONDS, 0.0),
    "prefix_targets_with_hash": (_FLAG, 0),
    "refresh_interval": (_SECONDS, 0.0),
    "unsafe_offline_staleness_budget": (_SECONDS, 0.0),
}
_NAMES = tuple(_RULES)


def _check(name: str, value: object) -> None:
    kind, least = _RULES[name]
    if kind == _FLAG:
        if not isinstance(value, bool):
            raise TypeError(f"UpdaterConfig.{name} must be True or False, not {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind == _SECONDS else int):
        expected = "a number of seconds" if kind == _SECONDS else "an integer"
        raise TypeError(f"UpdaterConfig.{name} must be {expected}, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"UpdaterConfig.{name} must be finite, not {value!r}")
    if value < least:
        bound = "more than 0" if 0 < least < 1 else f"at least {least:g}"
        raise ValueError(f"UpdaterConfig.{name} must be {bound}, not {value!r}")


class UpdaterConfig:
    """What the updater may download, how long it may wait, and how it reuses what it has.

    Immutable: change a copy with :meth:`replace`. Equal configs compare and hash equal.

    Attributes:
        max_root_rotations: root versions fetched per refresh at most (count, >= 1); reaching
            it is not an error, the next refresh continues the chain.
        max_delegations: delegated roles loaded per target lookup at most (count, >= 1).
        root_max_length: cap on one ``N.root.json`` (bytes, >= 1).
        timestamp_max_length: cap on ``timestamp.json`` (bytes, >= 1).
        snapshot_max_length: cap on the snapshot; a length listed in timestamp can only
            lower it (bytes, >= 1).
        targets_max_length: cap on targets metadata; a length listed in snapshot can only
            lower it (bytes, >= 1).
        connect_timeout: TCP connect timeout (seconds, > 0).
        read_timeout: longest wait for the next bytes of a response (seconds, > 0).
        min_average_speed: slowest accepted average download speed once
            ``slow_retrieval_grace`` has passed (bytes per second, >= 1).
        slow_retrieval_grace: time before the average speed is enforced (seconds, >= 0).
        prefix_targets_with_hash: with consistent snapshots, fetch targets as
            ``dir/<hash>.<name>`` (the specification's layout).
        refresh_interval: with :meth:`Updater.refresh_if_due`, skip the network when the last
            successful refresh is younger than this (seconds, >= 0); 0 refreshes every time.
        unsafe_offline_staleness_budget: **weakens the freeze-attack protection.** In offline
            mode (:meth:`Updater.load_offline`), accept cached metadata that expired at most
            this long ago (seconds, >= 0; 0, the default, accepts nothing expired). A warning is
            logged whenever a budget above 0 is used.

    Raises:
        TypeError: an unknown field, or a value of the wrong type (``True`` is not a count).
        ValueError: a value out of its range (named, with the bound), or not finite.
    """

    __slots__ = _NAMES

    max_root_rotations: int
    max_delegations: int
    root_max_length: int
    timestamp_max_length: int
    snapshot_max_length: int
    targets_max_length: int
    connect_timeout: float
    read_timeout: float
    min_average_speed: int
    slow_retrieval_grace: float
    prefix_targets_with_hash: bool
    refresh_interval: float
    unsafe_offline_staleness_budget: float

    def __init__(
        self,
        *,
        max_root_rotations: int = 256,  # count
        max_delegations: int = 32,  # count
        root_max_length: int = 512_000,  # bytes
        timestamp_max_length: int = 16_384,  # bytes
        snapshot_max_length: int = 20_000_000,  # bytes
        targets_max_length: int = 50_000_000,  # bytes
        connect_timeout: float = 10.0,  # seconds
        read_timeout: float = 10.0,  # seconds
        min_average_speed: int = 1024,  # bytes per second
        slow_retrieval_grace: float = 5.0,  # seconds
        prefix_targets_with_hash: bool = True,
        refresh_interval: float = 0.0,  # seconds
        unsafe_offline_staleness_budget: float = 0.0,  # seconds
    ) -> None:
        values = locals()
        for name in _NAMES:
            _check(name, values[name])
            object.__setattr__(self, name, values[name])

    def replace(self, **changes: Unpack[_Fields]) -> UpdaterConfig:
        """A copy with *changes* applied (and checked).

        Raises:
            TypeError: an unknown field, or a value of the wrong type.
            ValueError: a value out of its range.
        """
        return UpdaterConfig(**{**self._values(), **changes})

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _NAMES}

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"UpdaterConfig is immutable; use replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("UpdaterConfig is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UpdaterConfig):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(self._values().values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._values().items())
        return f"UpdaterConfig({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._values(),))


def _rebuild(values: dict[str, Any]) -> UpdaterConfig:
    return UpdaterConfig(**values)
