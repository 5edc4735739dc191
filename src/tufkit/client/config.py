"""Limits and policies of the TUF client, in one immutable record.

Every length the client downloads has a bound here; the units are in the comments. This module
holds no state and reads no environment: callers build a config and pass it in.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["UpdaterConfig"]


class _Limits(NamedTuple):
    max_root_rotations: int = 256  # count
    max_delegations: int = 32  # count
    root_max_length: int = 512_000  # bytes
    timestamp_max_length: int = 16_384  # bytes
    snapshot_max_length: int = 20_000_000  # bytes
    targets_max_length: int = 50_000_000  # bytes
    connect_timeout: float = 10.0  # seconds
    read_timeout: float = 10.0  # seconds
    min_average_speed: int = 1024  # bytes per second
    slow_retrieval_grace: float = 5.0  # seconds
    prefix_targets_with_hash: bool = True
    refresh_interval: float = 0.0  # seconds
    offline_staleness_budget: float = 0.0  # seconds


class UpdaterConfig(_Limits):
    """What the updater may download, how long it may wait, and how it reuses what it has.

    Attributes:
        max_root_rotations: root versions fetched per refresh at most (count); reaching it is
            not an error, the next refresh continues the chain.
        max_delegations: delegated roles loaded per target lookup at most (count).
        root_max_length: cap on one ``N.root.json`` (bytes).
        timestamp_max_length: cap on ``timestamp.json`` (bytes).
        snapshot_max_length: cap on the snapshot when timestamp lists no length (bytes).
        targets_max_length: cap on targets metadata when snapshot lists no length (bytes).
        connect_timeout: TCP connect timeout (seconds).
        read_timeout: longest wait for the next bytes of a response (seconds).
        min_average_speed: slowest accepted average download speed once
            ``slow_retrieval_grace`` has passed (bytes per second).
        slow_retrieval_grace: time before the average speed is enforced (seconds).
        prefix_targets_with_hash: with consistent snapshots, fetch targets as
            ``dir/<hash>.<name>`` (the specification's layout).
        refresh_interval: with :meth:`Updater.refresh_if_due`, skip the network when the last
            successful refresh is younger than this (seconds); 0 refreshes every time.
        offline_staleness_budget: in offline mode, accept cached metadata whose timestamp was
            verified at most this long ago (seconds), even once expired.
    """

    __slots__ = ()

    def __new__(cls, **fields: Any) -> UpdaterConfig:
        """Build a config from keyword arguments; unnamed fields keep their defaults.

        Raises:
            TypeError: an unknown field name.
            ValueError: a count or size below 1.
        """
        config = super().__new__(cls, **fields)
        config._check()
        return config

    def replace(self, **changes: Any) -> UpdaterConfig:
        """A copy with *changes* applied (and checked)."""
        return UpdaterConfig(**{**self._asdict(), **changes})

    def _check(self) -> None:
        for name in ("max_root_rotations", "max_delegations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("root_max_length", "timestamp_max_length", "snapshot_max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 byte")
