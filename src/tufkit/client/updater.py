"""The TUF updater: where metadata comes from (cache or repository) and what is persisted.

The trust decisions are :class:`~tufkit.client._internal.trusted_set.TrustedSet`'s; this module
feeds it bytes from the :class:`~tufkit.client.cache.MetadataCache` and a
:class:`~tufkit.client.fetcher.Fetcher`, in the order of specification section 5, and stores
exactly the received bytes of what was accepted, atomically, only after it was accepted.

Security contract:

* The trust anchor is explicit: :class:`Updater` takes the trusted root's bytes; only
  :meth:`Updater.from_trusted_cache` reads it from the cache directory, by name.
* Valid local timestamp, snapshot and targets are reused, so an unchanged repository costs one
  root probe and one timestamp request.
* Delegated roles are looked up pre-order, depth first, each role at most once per lookup, at
  most ``max_delegations`` roles, and only through delegations that cover the path; a role is
  always verified against the delegator it was reached through (see ``TrustedSet``).
* Role names and target paths never reach the filesystem unencoded; a target path with empty,
  ``.`` or ``..`` segments is refused.
* This module does not download targets anywhere but into a file it writes atomically after
  the length and every hash matched.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

from tufkit._atomic import remove_abandoned
from tufkit.client._internal.download import check_target_path, stream_to_file
from tufkit.client._internal.transfer import guarded
from tufkit.client._internal.trusted_set import TOP_CHAIN, Chain, TrustedSet
from tufkit.client.cache import MetadataCache, encode_name
from tufkit.client.config import UpdaterConfig
from tufkit.client.fetcher import Fetcher
from tufkit.errors import (
    ConfigError,
    DownloadError,
    DownloadHTTPError,
    EqualVersionNumberError,
    RepositoryError,
)
from tufkit.metadata import Metadata, TargetFile, Targets

__all__ = ["RoleVisit", "TargetLookup", "Updater"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RoleVisit(NamedTuple):
    """One role reached during a target lookup.

    Attributes:
        chain: the delegation chain, from ``targets`` to this role.
        target: what this role lists for the path, or None.
    """

    chain: Chain
    target: TargetFile | None


class TargetLookup(NamedTuple):
    """The result of a target lookup with how it was reached.

    Attributes:
        path: the target path looked up.
        target: the trusted target file (from the first role in search order listing it).
        chain: the delegation chain of the role that provided *target* (empty if not found).
        visits: every role visited, in search order, with what it lists for the path.
    """

    path: str
    target: TargetFile | None
    chain: Chain = ()
    visits: tuple[RoleVisit, ...] = ()


class Updater:
    """Runs the TUF client workflow against one repository.

    Args:
        metadata_dir: the metadata cache directory (created if missing).
        metadata_base_url: the repository's metadata URL.
        trusted_root: the trust anchor: root metadata bytes obtained out of band.
        target_dir: where downloaded targets go by default.
        target_base_url: the repository's targets URL.
        fetcher: the network seam; an :class:`~tufkit.client.fetcher.HttpFetcher` by default.
        config: limits and policies.
        clock: the source of "now" (aware UTC); the system clock by default.

    Raises:
        FormatError: the trusted root is malformed.
        UnsignedMetadataError: the trusted root is not signed by a threshold of its own keys.
    """

    def __init__(
        self,
        metadata_dir: str | os.PathLike[str],
        metadata_base_url: str,
        *,
        trusted_root: bytes,
        target_dir: str | os.PathLike[str] | None = None,
        target_base_url: str | None = None,
        fetcher: Fetcher | None = None,
        config: UpdaterConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config or UpdaterConfig()
        self._cache = MetadataCache(metadata_dir)
        self._metadata_url = _with_slash(metadata_base_url)
        self._target_dir = os.fspath(target_dir) if target_dir is not None else None
        self._target_url = _with_slash(target_base_url) if target_base_url else None
        if fetcher is None:
            from tufkit.client.fetcher import HttpFetcher

            fetcher = HttpFetcher(self.config)
        self._fetcher: Fetcher = fetcher
        self._clock = clock or _utc_now
        self._root_bytes = trusted_root
        self._trusted = TrustedSet(trusted_root, self._clock())
        self._refreshed = False
        self.offline = False

    @classmethod
    def from_trusted_cache(
        cls, metadata_dir: str | os.PathLike[str], metadata_base_url: str, **kwargs: object
    ) -> Updater:
        """Build an updater whose trust anchor is ``root.json`` in *metadata_dir*.

        Use only when the directory is trusted storage (written by ``init`` and by tufkit).

        Raises:
            ConfigError: no root is stored there (``init`` was not run).
            FormatError: the stored root is malformed.
            UnsignedMetadataError: the stored root is not signed by its own root keys.
        """
        data = MetadataCache(metadata_dir).read("root")
        if data is None:
            raise ConfigError(f"no trusted root.json in {metadata_dir}; run init first")
        return cls(metadata_dir, metadata_base_url, trusted_root=data, **kwargs)  # type: ignore[arg-type]

    @property
    def trusted_set(self) -> TrustedSet:
        """The metadata trusted so far (read-only use)."""
        return self._trusted

    # -- refresh (5.1-5.6) -----------------------------------------------------------------

    def refresh(self) -> None:
        """Update root, timestamp, snapshot and top-level targets from the repository.

        Raises:
            RepositoryError: the repository served bad, hostile or expired metadata.
            DownloadError: the transport failed.
            OSError: the cache could not be written.
        """
        # 5.1: one reference time for the whole cycle; 5.2: the trusted root.
        self._trusted = TrustedSet(self._root_bytes, self._clock())
        self.offline = False
        with self._cache.lock():
            remove_abandoned(self._cache.directory)  # temporary files of killed processes
            if self._cache.read("root") is None:
                self._cache.write("root", self._root_bytes)
            self._update_root()
            self._update_timestamp()
            self._update_snapshot()
            self._load_role(TOP_CHAIN)
            self._cache.touch("timestamp")
        self._refreshed = True

    def refresh_if_due(self) -> None:
        """Refresh unless the last successful refresh is younger than ``refresh_interval``.

        Within the interval the cached metadata is verified offline instead (and must be
        unexpired now).

        Raises:
            RepositoryError: metadata failed verification.
            DownloadError: the transport failed.
            OSError: the cache could not be written.
        """
        last = self._cache.modified_time("timestamp")
        interval = self.config.refresh_interval
        if last is not None and interval > 0 and time.time() - last < interval:
            try:
                self._load_offline(timedelta(0), network=True)
                return
            except (RepositoryError, DownloadError):
                pass
        self.refresh()

    def load_offline(self) -> timedelta:
        """Trust the cached metadata without any network access (explicit offline mode).

        Metadata must be unexpired now, unless ``unsafe_offline_staleness_budget`` allows
        metadata that expired at most that many seconds ago; using such a budget weakens the
        freeze-attack protection and logs a warning (logger ``tufkit.client``).

        Returns:
            How long ago the top-level metadata was last confirmed by a refresh.

        Raises:
            RepositoryError: cached metadata is missing, fails verification or is too stale.
        """
        budget = self.config.unsafe_offline_staleness_budget
        if budget > 0:
            import logging

            logging.getLogger("tufkit.client").warning(
                "unsafe_offline_staleness_budget: accepting cached metadata that expired up "
                "to %s seconds ago (weakens the protection against freeze attacks)",
                f"{budget:g}",
            )
        self._load_offline(timedelta(seconds=budget), network=False)
        last = self._cache.modified_time("timestamp") or 0.0
        return timedelta(seconds=max(0.0, time.time() - last))

    def _load_offline(self, budget: timedelta, *, network: bool) -> None:
        """Verify the cached top-level metadata as if just downloaded, at now - *budget*."""
        self._trusted = TrustedSet(self._root_bytes, self._clock() - budget)
        self.offline = not network
        self._trusted.check_root_fresh()
        for role in ("timestamp", "snapshot"):
            data = self._cache.read(role)
            if data is None:
                raise RepositoryError(f"offline: no cached {role} metadata")
            if role == "timestamp":
                self._trusted.update_timestamp(data)
            else:
                self._trusted.update_snapshot(data)
        self._load_role(TOP_CHAIN)
        self._refreshed = True

    def _update_root(self) -> None:
        """5.3: walk the root chain, persisting each accepted version."""
        for _ in range(self.config.max_root_rotations):
            version = self._trusted.root.signed.version + 1
            try:
                data = self._fetch(f"{version}.root.json", self.config.root_max_length)
            except DownloadHTTPError as exc:
                if exc.status_code in (403, 404):
                    break
                raise
            if self._trusted.update_root(data):
                # 5.3.11: timestamp/snapshot keys rotated: forget them before the new root is
                # stored, so a crash in between cannot keep the old baselines.
                self._cache.delete("timestamp")
                self._cache.delete("snapshot")
            self._cache.write("root", data)  # 5.3.7
            self._root_bytes = data
        self._trusted.check_root_fresh()  # 5.3.10

    def _update_timestamp(self) -> None:
        """5.4: local timestamp as the rollback baseline, then the remote one."""
        local = self._cache.read("timestamp")
        if local is not None:
            # not valid under the current root: as if absent
            with contextlib.suppress(RepositoryError):
                self._trusted.load_local_timestamp(local)
        data = self._fetch("timestamp.json", self.config.timestamp_max_length)
        try:
            self._trusted.update_timestamp(data)
        except EqualVersionNumberError:
            return  # the trusted one stays; continue with it
        self._cache.write("timestamp", data)  # 5.4.5

    def _update_snapshot(self) -> None:
        """5.5: reuse the local snapshot if current, else download it."""
        local = self._cache.read("snapshot")
        if local is not None:
            try:
                if self._trusted.load_local_snapshot(local):
                    return
            except RepositoryError:
                pass
        timestamp = self._trusted.timestamp
        assert timestamp is not None
        meta = timestamp.signed.snapshot_meta
        name = f"{meta.version}.snapshot.json" if self._consistent() else "snapshot.json"
        data = self._fetch(name, _bound(meta.length, self.config.snapshot_max_length))  # 5.5.1
        self._trusted.update_snapshot(data)
        self._cache.write("snapshot", data)  # 5.5.7

    def _load_role(self, chain: Chain) -> Metadata[Targets]:
        """5.6 / 5.6.7: the targets role reached through *chain*.

        Raises:
            RepositoryError: the snapshot does not list the role (nothing is requested), or
                the role failed verification.
            DownloadError: the transport failed.
        """
        verified = self._trusted.get_verified(chain)
        if verified is not None:
            return verified
        role = chain[-1]
        meta = self._trusted.listed_meta(role)  # 5.6.1: a role missing from snapshot is an error
        local = self._cache.read(role)
        if local is not None:
            try:
                return self._trusted.update_targets(local, chain)
            except RepositoryError:
                pass
        quoted = quote(role, safe="")
        name = f"{meta.version}.{quoted}.json" if self._consistent() else f"{quoted}.json"
        data = self._fetch(name, _bound(meta.length, self.config.targets_max_length))  # 5.6.1
        verified = self._trusted.update_targets(data, chain)
        self._cache.write(role, data)  # 5.6.6
        return verified

    # -- targets (5.6.7, 5.7) --------------------------------------------------------------

    def get_targetinfo(self, target_path: str) -> TargetFile | None:
        """The trusted target file for *target_path*, or None if no role lists it.

        Refreshes first if this updater has not refreshed yet.

        Raises:
            FormatError: *target_path* is not a safe relative path (see :meth:`lookup`).
            RepositoryError: metadata needed by the search failed verification.
            DownloadError: the transport failed.
        """
        return self.lookup(target_path).target

    def lookup(self, target_path: str, *, exhaustive: bool = False) -> TargetLookup:
        """Search the delegations for *target_path* and say how the answer was reached.

        A path that :meth:`download_target` would refuse (empty, or with an empty, ``.`` or
        ``..`` segment, or a NUL) is refused here first, before any request, so that asking
        about a target and downloading it always give the same answer.

        Args:
            target_path: the target path.
            exhaustive: keep walking after the first match, to list every role (in search
                order) that lists the path; the answer is still the first match.

        Raises:
            FormatError: *target_path* is not a safe relative path (named in the message).
            RepositoryError: metadata needed by the search failed verification.
            DownloadError: the transport failed.
        """
        check_target_path(target_path)
        if not self._refreshed:
            self.refresh()
        visits: list[RoleVisit] = []
        found: RoleVisit | None = None
        with self._lock_unless_offline():
            for chain, md in self._walk(target_path):
                listed = md.signed.targets.get(target_path)
                visits.append(RoleVisit(chain, listed))
                if listed is not None and found is None:
                    found = visits[-1]
                    if not exhaustive:
                        break
        if found is None:
            return TargetLookup(target_path, None, (), tuple(visits))
        return TargetLookup(target_path, found.target, found.chain, tuple(visits))

    def _walk(self, target_path: str) -> Iterator[tuple[Chain, Metadata[Targets]]]:
        """5.6.7: pre-order depth-first over the delegations that cover *target_path*."""
        stack: list[Chain] = [TOP_CHAIN]
        visited: set[str] = set()
        # top-level targets plus at most max_delegations delegated roles (checklist 2.8)
        while stack and len(visited) <= self.config.max_delegations:
            chain = stack.pop()
            if chain[-1] in visited:
                continue  # cycles and diamonds: each role once per lookup
            md = self._load_role(chain)
            visited.add(chain[-1])
            yield chain, md
            delegations = md.signed.delegations
            if delegations is None:
                continue
            children: list[Chain] = []
            for name, terminating in delegations.get_roles_for_target(target_path):
                children.append((*chain, name))
                if terminating:
                    stack.clear()  # nothing outside this subtree is tried
                    break
            stack.extend(reversed(children))

    def _lock_unless_offline(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.offline else self._cache.lock()

    def target_file_name(self, targetinfo: TargetFile) -> str:
        """The local file name for a target: its path, percent-encoded into one component."""
        check_target_path(targetinfo.path)
        return encode_name(targetinfo.path)

    def find_cached_target(
        self, targetinfo: TargetFile, filepath: str | os.PathLike[str] | None = None
    ) -> str | None:
        """The local file for *targetinfo* if it exists with the right length and hashes.

        Raises:
            FormatError: the target path is unsafe (empty, ``.`` or ``..`` segments).
        """
        path = self._local_path(targetinfo, filepath)
        try:
            with open(path, "rb") as handle:
                targetinfo.verify_length_and_hashes(handle)
        except (OSError, RepositoryError):
            return None
        return str(path)

    def download_target(
        self,
        targetinfo: TargetFile,
        filepath: str | os.PathLike[str] | None = None,
        target_base_url: str | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> str:
        """5.7: stream to a hidden temporary file while checking length and every hash, then
        move it to *filepath* (atomically; nothing is left behind on failure).

        *progress*, if given, is called with the size of each chunk received (for a progress
        display; it decides nothing).

        Raises:
            LengthOrHashMismatchError: the bytes are not the ones the metadata lists.
            UnsupportedAlgorithmError: the metadata lists an unknown hash algorithm.
            FormatError: the target path is unsafe.
            DownloadError: the transport failed (including more bytes than listed).
            ValueError: no target base URL or target directory is known.
            OSError: the file could not be written.
        """
        base = _with_slash(target_base_url) if target_base_url else self._target_url
        if base is None:
            raise ValueError("no target_base_url given")
        path = self._local_path(targetinfo, filepath)
        url = base + self._target_url_path(targetinfo)
        chunks = guarded(self._fetcher, url, targetinfo.length, self.config)
        stream_to_file(chunks, targetinfo, path, progress)
        return str(path)

    def _target_url_path(self, targetinfo: TargetFile) -> str:
        segments = check_target_path(targetinfo.path)
        if self._consistent() and self.config.prefix_targets_with_hash:
            digest = next(iter(targetinfo.hashes.values()))
            segments[-1] = f"{digest}.{segments[-1]}"
        return "/".join(quote(segment, safe="") for segment in segments)

    def _local_path(self, targetinfo: TargetFile, filepath: str | os.PathLike[str] | None) -> str:
        if filepath is not None:
            return os.fspath(filepath)
        if self._target_dir is None:
            raise ValueError("no target_dir and no filepath given")
        os.makedirs(self._target_dir, exist_ok=True)
        return os.path.join(self._target_dir, self.target_file_name(targetinfo))

    # -- helpers ---------------------------------------------------------------------------

    def _consistent(self) -> bool:
        return bool(self._trusted.root.signed.consistent_snapshot)

    def _fetch(self, name: str, max_length: int) -> bytes:
        """The bytes of metadata file *name*, at most *max_length*, through the one guard.

        Raises:
            DownloadError: offline, or the transport failed (any fetcher exception included).
        """
        if self.offline:
            raise DownloadError(f"offline: {name} is not in the local cache")
        url = self._metadata_url + name
        return b"".join(guarded(self._fetcher, url, max_length, self.config))


def _bound(signed_length: int | None, cap: int) -> int:
    """The length bound of a download: the configured cap, narrowed by a signed length.

    A length listed in signed metadata can only lower the bound, never raise it: a timestamp
    key holder must not make the client accept more than the configured cap.
    """
    return cap if signed_length is None else min(signed_length, cap)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
