"""A TUF repository that a publisher edits, signs and publishes.

:class:`Repository` holds the published state (read back from a :class:`Storage`) and the edits
not yet published. Each edit context (:meth:`Repository.edit_root`,
:meth:`Repository.edit_targets`) works on a copy: leaving it with an exception changes nothing;
leaving it normally gives the role its next version (one above the published one, however many
edits precede a publish) and an expiry from the :class:`ExpiryPolicy`.
:meth:`Repository.publish` signs each new version with every signer given that its delegator
authorises, refuses unless each meets its threshold (a new root: the old root's threshold *and*
its own), and makes snapshot and timestamp only when something they cover changed.

Publishing is ordered so that clients never see a half-published state: first the files that
nobody reads before a later file names them (versioned targets roles and snapshot), made
durable; then a journal of the files clients read by name (root versions, which clients probe
for, unversioned names, and timestamp last); then those files. A publish killed before the
journal leaves the published state as it was (the next publish redoes it); one killed after is
completed, with the very bytes first planned, by the next :meth:`Repository.open`.

Roles that need signatures from several offline keyholders are *staged*
(:meth:`Repository.stage`): saved with the signatures available, signed elsewhere from the file
alone (:func:`~tufkit.repository.sign_staged`), and taken back with
:meth:`Repository.add_signatures`, which counts only signatures its own delegators authorise.
This module does not read or write files itself (the storage does) and does not generate keys.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tufkit.crypto import Key, Signer
from tufkit.errors import ConfigError, Error, StorageError
from tufkit.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    Delegations,
    Metadata,
    MetaFile,
    RoleType,
    Root,
    Signed,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
    hash_digests,
)
from tufkit.metadata._signed import Delegator
from tufkit.repository._lifecycle import (
    ExpiryWarning,
    expiring,
    revoke_key,
    rotate_keys,
    walk_targets_roles,
)
from tufkit.repository._names import check_role_name, metadata_filename
from tufkit.repository._policy import ExpiryPolicy
from tufkit.repository._staging import (
    Authorisation,
    StagedRole,
    encode_staged,
    read_staged,
)
from tufkit.repository._storage import (
    Storage,
    decode_journal,
    encode_journal,
    read_current_root,
)
from tufkit.repository._target_files import (
    Source,
    check_target_path,
    hash_sources,
    published_target_names,
)
from tufkit.repository._verify import RepositoryReport, verify_repository

__all__ = ["Repository"]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _copy(md: Metadata[RoleType], kind: type[RoleType]) -> RoleType:
    """A detached copy of *md*'s signed content, to edit without touching the original."""
    signed = md.signed
    if isinstance(signed, Snapshot):  # the large one of the online roles: copy its entries
        return Snapshot(
            signed.version,
            signed.spec_version,
            signed.expires,
            dict(signed.meta),  # MetaFile entries are replaced, never changed in place
            copy.deepcopy(signed.unrecognized_fields),
        )
    return Metadata.from_bytes_as(md.to_bytes(), kind).signed


_CONTROL = re.compile(rb"[\x00-\x1f]")


def _file_bytes(md: Metadata[Any], payload: bytes) -> bytes:
    """The file a signed document is published as, reusing the canonical bytes just signed.

    Canonical JSON of the signed part is the compact sorted JSON that :meth:`Metadata.to_bytes`
    writes, unless a string holds a control character (canonical JSON leaves those raw, which
    is not valid JSON): then, and with extra envelope fields, the document is encoded again.
    """
    if md.unrecognized_fields or _CONTROL.search(payload):
        return md.to_bytes()
    signatures = json.dumps(
        [sig.to_dict() for sig in md.signatures.values()], separators=(",", ":"), sort_keys=True
    ).encode()
    return b'{"signatures":' + signatures + b',"signed":' + payload + b"}"


class Repository:
    """A TUF repository: its published metadata, pending edits, signing and publishing.

    Build one with :meth:`create` (a new repository) or :meth:`open` (an existing one).

    Args:
        storage: where the metadata is published.
        root: the published root.
        timestamp: the published timestamp.
        snapshot: the published snapshot.
        signers: every signer available to this process; each role is signed by those among
            them whose keys the role's delegator authorises.
        policy: lifetimes of new versions.
        clock: the current time (expiry of new versions is counted from it).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        root: Metadata[Root],
        timestamp: Metadata[Timestamp],
        snapshot: Metadata[Snapshot],
        signers: Iterable[Signer] = (),
        policy: ExpiryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._storage = storage
        self._root = root
        self._timestamp = timestamp
        self._snapshot = snapshot
        self._targets: dict[str, Metadata[Targets]] = {}
        self._pending: dict[str, Metadata[Any]] = {}
        self._delegators: dict[str, tuple[str, Delegator]] = {}
        self._encoded: dict[str, bytes] = {}  # role -> file bytes of its signed pending version
        self._signers: dict[str, Signer] = {}
        self.policy = policy or ExpiryPolicy()
        self._clock = clock or _utc_now
        for signer in signers:
            self.add_signer(signer)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        storage: Storage,
        root: Root,
        *,
        signers: Iterable[Signer] = (),
        policy: ExpiryPolicy | None = None,
        clock: Clock | None = None,
    ) -> Repository:
        """Publish version 1 of every top-level role, with *root* as the trust anchor.

        *root* gives the keys and thresholds; its version is set to 1, its expiry from the
        policy. Targets starts empty. Every role must meet its threshold with *signers*.

        Raises:
            ConfigError: the storage already holds a repository, or a role cannot be signed
                by a threshold of its keys with the signers given.
            StorageError: the storage failed; nothing that a client would read was written.
        """
        if read_current_root(storage) is not None or storage.read_journal() is not None:
            raise ConfigError("the storage already holds a repository; open it instead")
        policy = policy or ExpiryPolicy()
        now = (clock or _utc_now)()
        root.version = 1
        root.expires = now + policy.root
        if root.consistent_snapshot is None:
            root.consistent_snapshot = True
        targets = Targets(1, expires=now + policy.targets)
        snapshot = Snapshot(1, expires=now + policy.snapshot, meta={"targets.json": MetaFile(1)})
        timestamp = Timestamp(1, expires=now + policy.timestamp)
        repo = cls(
            storage,
            root=Metadata(root),
            timestamp=Metadata(timestamp),
            snapshot=Metadata(snapshot),
            signers=signers,
            policy=policy,
            clock=clock,
        )
        repo._targets["targets"] = Metadata(targets)
        repo._pending["root"] = repo._root
        repo._pending["targets"] = repo._targets["targets"]
        repo._initial = True
        repo.publish()
        return repo

    @classmethod
    def open(
        cls,
        storage: Storage,
        *,
        signers: Iterable[Signer] = (),
        policy: ExpiryPolicy | None = None,
        clock: Clock | None = None,
    ) -> Repository:
        """Open a published repository, first completing a publish that was interrupted.

        Raises:
            ConfigError: the storage holds no repository.
            StorageError: the published metadata is missing, malformed, or inconsistent
                (a role that does not verify against its delegator, a snapshot that the
                timestamp does not describe).
        """
        journal = storage.read_journal()
        if journal is not None:
            _apply(storage, decode_journal(journal))
        current = read_current_root(storage)
        if current is None:
            raise ConfigError("no repository here: neither root.json nor 1.root.json exists")
        root_name, root_bytes = current
        root = _load(root_bytes, Root, root_name)
        _check_signed(root.signed, "root", root, root_name)
        timestamp = _load(_required(storage, "timestamp.json"), Timestamp, "timestamp.json")
        _check_signed(root.signed, "timestamp", timestamp, "timestamp.json")
        version = timestamp.signed.snapshot_meta.version
        name = metadata_filename("snapshot", version if root.signed.consistent_snapshot else None)
        snapshot_bytes = _required(storage, name)
        try:
            timestamp.signed.snapshot_meta.verify_length_and_hashes(snapshot_bytes, name)
        except Error as exc:
            raise StorageError(f"{name} is not the snapshot timestamp.json describes") from exc
        snapshot = _load(snapshot_bytes, Snapshot, name)
        _check_signed(root.signed, "snapshot", snapshot, name)
        repo = cls(
            storage,
            root=root,
            timestamp=timestamp,
            snapshot=snapshot,
            signers=signers,
            policy=policy,
            clock=clock,
        )
        repo._take_up_staged()
        return repo

    def _take_up_staged(self) -> None:
        """Make every staged role pending again, dropping those a publish made stale."""
        for role, data in self._storage.read_staged().items():
            staged = read_staged(data)
            if staged.role != role:
                raise StorageError(f"staged file of {role!r} holds role {staged.role!r}")
            if staged.metadata.signed.version != self.published_version(role) + 1:
                logger.warning("dropping stale staged %s v%d", role, staged.metadata.signed.version)
                self._storage.remove_staged(role)
                continue
            self._pending[role] = staged.metadata

    _initial = False  # True only while create() publishes version 1

    # -- signers -----------------------------------------------------------------------------

    def add_signer(self, signer: Signer) -> None:
        """Make *signer* available: it signs every role that authorises its key."""
        self._signers[signer.public_key.keyid] = signer

    def remove_signer(self, keyid: str) -> None:
        """Stop signing with the key *keyid* (nothing happens if no signer holds it)."""
        self._signers.pop(keyid, None)

    # -- reading -----------------------------------------------------------------------------

    @property
    def root(self) -> Metadata[Root]:
        """Root as it will be published next (the pending version, else the published one)."""
        return self._pending.get("root", self._root)

    @property
    def published_root(self) -> Metadata[Root]:
        """Root as clients see it now."""
        return self._root

    @property
    def timestamp(self) -> Metadata[Timestamp]:
        """The published timestamp."""
        return self._timestamp

    @property
    def snapshot(self) -> Metadata[Snapshot]:
        """The published snapshot."""
        return self._snapshot

    @property
    def pending(self) -> list[str]:
        """Roles edited since the last publish."""
        return list(self._pending)

    def targets(self, role: str = "targets") -> Metadata[Targets]:
        """Targets role *role* as it will be published next.

        Raises:
            ConfigError: no such role is published or pending.
            StorageError: its published file is missing or malformed.
        """
        pending = self._pending.get(role)
        if pending is not None:
            return pending
        return self._published_targets(role)

    def _published_targets(self, role: str) -> Metadata[Targets]:
        cached = self._targets.get(role)
        if cached is not None:
            return cached
        check_role_name(role)
        meta = self._snapshot.signed.meta.get(f"{role}.json")
        if meta is None:
            raise ConfigError(f"the repository has no targets role {role!r}")
        consistent = bool(self._root.signed.consistent_snapshot)
        name = metadata_filename(role, meta.version if consistent else None)
        data = _required(self._storage, name)
        md = _load(data, Targets, name)
        if md.signed.version != meta.version:
            raise StorageError(
                f"{name} has version {md.signed.version}, snapshot says {meta.version}"
            )
        self._targets[role] = md
        return md

    def published_targets_roles(self) -> Iterator[tuple[str, Targets]]:
        """Every published targets role reachable from top-level targets, each once (all bins
        of a succinct delegation are read: slow for many bins)."""

        def load(name: str) -> Targets | None:
            try:
                return self._published_targets(name).signed
            except ConfigError:
                return None  # delegated, but never published

        return walk_targets_roles(load)

    def published_version(self, role: str) -> int:
        """The version of *role* that clients see now (0 for a role never published)."""
        if role == "root":
            return 0 if self._initial else self._root.signed.version
        if role == "timestamp":
            return 0 if self._initial else self._timestamp.signed.version
        if role == "snapshot":
            return 0 if self._initial else self._snapshot.signed.version
        meta = self._snapshot.signed.meta.get(f"{role}.json")
        return meta.version if meta is not None else 0

    # -- editing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def edit_root(self) -> Iterator[Root]:
        """Edit root; on a clean exit it becomes the next root version.

        Every edit that ends without an exception gives the role a new version, whether or not
        its content changed (an exception abandons the edit and changes nothing).

        Yields:
            a copy of root's signed content to change (keys, roles, thresholds, fields).
        """
        signed = _copy(self.root, Root)
        yield signed
        self._stage("root", signed)

    @contextlib.contextmanager
    def edit_targets(self, role: str = "targets") -> Iterator[Targets]:
        """Edit targets role *role* (top-level or delegated, existing or newly delegated).

        A role delegated in a pending edit of its delegator, but never published, starts empty.

        Yields:
            a copy of the role's signed content to change (targets, delegations).

        Raises:
            ConfigError: *role* is not a valid role name, or no published or pending targets
                role delegates to it.
        """
        check_role_name(role)
        if role in TOP_LEVEL_ROLE_NAMES and role != "targets":
            raise ConfigError(f"{role!r} is not a targets role")
        if role != "targets":
            self._delegator_of(role)  # refuse roles nobody delegates to
        if role in self._pending or self.published_version(role):
            signed = _copy(self.targets(role), Targets)
        else:
            signed = Targets(1)
        yield signed
        self._delegators.clear()  # the edit may have changed delegations
        self._stage(role, signed)

    def bump(self, *roles: str) -> None:
        """Give each of *roles* a new version and expiry without changing its content.

        For the online roles (timestamp, snapshot) this is what a cron job does before they
        expire; for offline roles it prepares a re-signing ceremony.

        Raises:
            ConfigError: an unknown role.
        """
        for role in roles:
            if role == "timestamp":
                self._stage(role, _copy(self._timestamp, Timestamp))
            elif role == "snapshot":
                self._stage(role, _copy(self._snapshot, Snapshot))
            elif role == "root":
                self._stage(role, _copy(self.root, Root))
            else:
                self._stage(role, _copy(self.targets(role), Targets))

    def _stage(self, role: str, signed: Signed) -> None:
        """Make *signed* the next version of *role* (signed when published)."""
        signed.version = self.published_version(role) + 1
        signed.expires = self._clock() + self.policy.lifetime(role)
        self._pending[role] = Metadata(signed)

    def _authorities(self, role: str, md: Metadata[Any]) -> list[tuple[str, Delegator]]:
        """Who must have signed *md* as *role*: its delegator (for a new root, the published
        root and the new root itself)."""
        if role == "root":
            checks: list[tuple[str, Delegator]] = [("new root", md.signed)]
            if not self._initial:
                checks.insert(0, (f"root v{self._root.signed.version}", self._root.signed))
            return checks
        return [self._delegator_of(role)]

    def _collect_signatures(self, role: str, md: Metadata[Any]) -> bytes:
        """Sign *md* with every available authorised signer, keeping the other authorised
        keys' signatures that verify over the current content; return the signed bytes."""
        authorised: dict[str, Key] = {}
        for _, delegator in self._authorities(role, md):
            for keyid in delegator.get_delegated_role(role).keyids:
                key = delegator.get_key(keyid)
                if key is not None:
                    authorised[keyid] = key
        payload = md.signed_bytes
        collected, md.signatures = md.signatures, {}
        for keyid, signature in collected.items():
            key = authorised.get(keyid)
            own = keyid in self._signers
            if key is not None and not own and key.verify_signature(signature, payload):
                md.signatures[keyid] = signature
        for keyid in sorted(authorised.keys() & self._signers.keys()):
            signature = self._signers[keyid].sign(payload)
            md.signatures[signature.keyid] = signature
        return payload

    def _sign(self, role: str, md: Metadata[Any]) -> None:
        """Sign *md* for publishing: every available signer, plus staged signatures.

        Raises:
            ConfigError: fewer distinct authorised keys signed than a threshold requires.
        """
        self._encoded.pop(role, None)
        payload = self._collect_signatures(role, md)
        for by, delegator in self._authorities(role, md):
            _require_threshold(role, md, by, delegator)
        self._encoded[role] = _file_bytes(md, payload)

    def _delegator_of(self, role: str) -> tuple[str, Delegator]:
        """The role delegating to *role*, as it will be published next, and its name."""
        if role in TOP_LEVEL_ROLE_NAMES:
            return "root", self.root.signed
        cached = self._delegators.get(role)
        if cached is None:
            cached = self._delegators[role] = self._search_delegator(role)
        return cached

    def _search_delegator(self, role: str) -> tuple[str, Delegator]:
        seen: set[str] = set()
        queue = ["targets"]
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            try:
                delegations = self.targets(name).signed.delegations
            except ConfigError:
                continue
            if delegations is None:
                continue
            if delegations.succinct_roles is not None:
                if delegations.succinct_roles.is_delegated_role(role):
                    return name, self.targets(name).signed
                continue
            for child in delegations.roles or {}:
                if child == role:
                    return name, self.targets(name).signed
                queue.append(child)
        raise ConfigError(f"no targets role delegates to {role!r}")

    # -- key lifecycle -----------------------------------------------------------------------

    def add_key(self, role: str, key: Key, *, threshold: int | None = None) -> list[str]:
        """Authorise *key* for *role* (any bin, or the name prefix, of a succinct delegation
        stands for all its bins), optionally with a new threshold.

        The change is a new version of the role's delegator (root for top-level roles).

        Returns:
            the roles given a new version to re-sign (when the threshold rose).

        Raises:
            ConfigError: an unknown role, a key the role already has, a bad threshold.
        """
        return rotate_keys(self, role, add=[key], threshold=threshold)

    def remove_key(self, role: str, keyid: str, *, threshold: int | None = None) -> list[str]:
        """Stop authorising *keyid* for *role*, and re-sign *role* (all bins of a succinct
        delegation) with its remaining keys in the same publish.

        Returns:
            the roles given a new version to re-sign.

        Raises:
            ConfigError: an unknown role, a key the role does not have, or fewer keys left
                than the threshold (nothing is changed).
        """
        return rotate_keys(self, role, remove=[keyid], threshold=threshold)

    def set_threshold(self, role: str, threshold: int) -> list[str]:
        """Change *role*'s threshold (a rise re-signs the role in the same publish).

        Raises:
            ConfigError: an unknown role, or a threshold below 1 or above its number of keys.
        """
        return rotate_keys(self, role, threshold=threshold)

    def rotate_keys(
        self,
        role: str,
        *,
        add: Iterable[Key] = (),
        remove: Iterable[str] = (),
        threshold: int | None = None,
    ) -> list[str]:
        """Add and remove keys of *role* and set its threshold in one new delegator version.

        For root this is a root rotation: the next root must be signed by the published
        root's threshold of its keys *and* its own threshold of the new keys, which
        :meth:`publish` enforces, so give the repository signers of both sets.

        Returns:
            the roles given a new version to re-sign with the keys now authorised.

        Raises:
            ConfigError: an unknown role, a key added twice or removed that the role does not
                list, or a threshold the keys cannot meet (nothing is changed).
        """
        return rotate_keys(self, role, add=add, remove=remove, threshold=threshold)

    def revoke_key(self, keyid: str) -> list[str]:
        """Revoke a compromised key: remove it from every role that authorises it, stop
        signing with it, and give every role it could sign a new version, so that the next
        publish re-signs them all and no published role relies on the key any more.

        Returns:
            the roles given a new version (root first, if it listed the key).

        Raises:
            ConfigError: no role authorises the key, or a role would keep fewer keys than its
                threshold (nothing is changed).
        """
        return revoke_key(self, keyid)

    def expiring(self, horizon: timedelta = timedelta(days=7)) -> list[ExpiryWarning]:
        """Published roles that expire within *horizon* of the repository clock's now
        (expired ones included), soonest first: what a cron job or CI warns about.

        Raises:
            ConfigError: a negative horizon.
            StorageError: a published targets role is missing or malformed.
        """
        return expiring(self, horizon, self._clock())

    def verify(
        self, *, horizon: timedelta = timedelta(0), staged: bool = True, check_targets: bool = True
    ) -> RepositoryReport:
        """Check the whole published repository (and its staged roles) as
        :func:`~tufkit.repository.verify_repository` does, "now" being the repository clock's.

        Raises:
            RepositoryError: at least one problem; the message lists them all.
            StorageError: the storage itself failed.
        """
        return verify_repository(
            self._storage,
            reference_time=self._clock(),
            horizon=horizon,
            staged=staged,
            check_targets=check_targets,
        )

    # -- targets -----------------------------------------------------------------------------

    def responsible_role(self, path: str) -> str:
        """The role that lists *path*: the end of the delegations a client follows for it.

        From top-level targets, follow the first delegation that covers *path* (hashed bins by
        the path's hash) as long as there is one.

        Raises:
            ConfigError: a bad target path, or delegations deeper than 32 levels or in a cycle.
        """
        return self._responsible_role(check_target_path(path), {})

    def _responsible_role(self, path: str, known: dict[str, Delegations | None]) -> str:
        """:meth:`responsible_role` for a checked *path*; *known* memoises each role's
        delegations across the paths of one batch (after a role is missing from it, a role
        delegated in a pending edit but not created yet ends the walk)."""
        role, seen = "targets", {"targets"}
        for _ in range(32):
            if role in known:
                delegations = known[role]
            else:
                delegations = known[role] = self.targets(role).signed.delegations
            if delegations is None:
                return role
            if delegations.succinct_roles is not None:
                child: str | None = delegations.succinct_roles.get_role_for_target(path)
            else:
                roles = (delegations.roles or {}).values()
                child = next((r.name for r in roles if r.is_delegated_path(path)), None)
            if child is None:
                return role
            if child in seen:
                raise ConfigError(f"delegations for {path!r} form a cycle at {child!r}")
            if (
                child not in known
                and child not in self._pending
                and not self.published_version(child)
            ):
                return child  # delegated in this edit, created empty by the next publish
            role = child
            seen.add(role)
        raise ConfigError(f"delegations for {path!r} are deeper than 32 levels")

    def add_targets(
        self,
        items: Iterable[tuple[str, Source]],
        *,
        role: str | None = None,
        algorithms: Sequence[str] = ("sha256",),
    ) -> list[TargetFile]:
        """Publish target files' content and list them in the responsible roles.

        Each item is (target path, content as bytes or a local file's path). Files are hashed
        in parallel; their content is written to storage now (under new, hash-prefixed names
        with consistent snapshots, so nothing a client reads changes before :meth:`publish`).

        Args:
            items: the targets.
            role: list every target in this role instead of each one's responsible role.
            algorithms: hash algorithms to list (sha256 by default).

        Returns:
            the target entries, as listed.

        Raises:
            ConfigError: a bad path, an unreadable file, an unknown algorithm or role.
            StorageError: the storage failed (no metadata was changed).
        """
        pairs = list(items)
        described = hash_sources(pairs, algorithms)
        consistent = bool(self.root.signed.consistent_snapshot)
        for target, (_, source) in zip(described, pairs, strict=True):
            for name in published_target_names(target, consistent=consistent):
                if isinstance(source, bytes):
                    self._storage.write_target(name, source)
                else:
                    with open(source, "rb") as handle:
                        self._storage.write_target(name, handle)
        self.list_targets(described, role=role)
        return described

    def list_targets(self, targets: Iterable[TargetFile], *, role: str | None = None) -> None:
        """List target entries (say, from a manifest) without touching any content.

        Raises:
            ConfigError: a bad path, or two entries for one path.
        """
        by_role: dict[str, list[TargetFile]] = {}
        seen: set[str] = set()
        known: dict[str, Delegations | None] = {}
        for target in targets:
            path = check_target_path(target.path)
            if path in seen:
                raise ConfigError(f"target path {path[:80]!r} is given twice")
            seen.add(path)
            owner = role or self._responsible_role(path, known)
            by_role.setdefault(owner, []).append(target)
        for name, entries in by_role.items():
            with self.edit_targets(name) as signed:
                for target in entries:
                    signed.targets[target.path] = target

    def remove_targets(self, paths: Iterable[str], *, role: str | None = None) -> None:
        """Unlist targets (their content stays in storage for clients on older snapshots).

        Raises:
            ConfigError: a path that its role does not list (nothing is changed).
        """
        by_role: dict[str, list[str]] = {}
        for path in paths:
            by_role.setdefault(role or self.responsible_role(path), []).append(path)
        for name, listed in by_role.items():
            current = self.targets(name).signed.targets
            missing = [path for path in listed if path not in current]
            if missing:
                raise ConfigError(f"role {name!r} does not list target {missing[0][:80]!r}")
        for name, listed in by_role.items():
            with self.edit_targets(name) as signed:
                for path in listed:
                    del signed.targets[path]

    # -- threshold signing across keyholders -------------------------------------------------

    def stage(self, *roles: str) -> dict[str, bytes]:
        """Save the pending new versions of *roles* for other keyholders to sign.

        Each is signed by the signers available here and saved in the storage (it survives
        this process; :meth:`open` takes it up again). Several roles may be staged at once, so
        roles expiring together need one signing ceremony.

        Returns:
            role -> staged file, to hand to the other keyholders (:func:`sign_staged`).

        Raises:
            ConfigError: a role without a pending edit, or an online role.
        """
        out = {}
        for role in roles:
            if role in ("snapshot", "timestamp"):
                raise ConfigError(f"{role} is signed online by the repository, never staged")
            md = self._pending.get(role)
            if md is None:
                raise ConfigError(f"{role} has no pending edit to stage")
            self._collect_signatures(role, md)
            data = encode_staged(role, md, self._authorisations(role, md))
            self._storage.write_staged(role, data)
            out[role] = data
        return out

    def add_signatures(self, data: bytes) -> StagedRole:
        """Take the signatures of a staged file that keyholders signed.

        Only signatures by keys that the role's delegator (for root: the published or the new
        root) authorises, over exactly the pending content, are kept; others are ignored.

        Returns:
            the staged role with the signatures now held (see :meth:`StagedRole.status`).

        Raises:
            ConfigError: a malformed staged file, a role not staged here, or a file for other
                content (another version, or the pending edit changed since it was staged).
        """
        staged = read_staged(data)
        md = self._pending.get(staged.role)
        if md is None or staged.role not in self._storage.read_staged():
            raise ConfigError(f"{staged.role} is not staged in this repository")
        if staged.metadata.verification_payload != md.signed_bytes:
            raise ConfigError(
                f"the staged file is for other content than {staged.role} "
                f"v{md.signed.version} staged here (signatures would not count)"
            )
        for keyid, signature in staged.metadata.signatures.items():
            md.signatures.setdefault(keyid, signature)
        self._collect_signatures(staged.role, md)
        updated = encode_staged(staged.role, md, self._authorisations(staged.role, md))
        self._storage.write_staged(staged.role, updated)
        return read_staged(updated)

    def staged(self) -> list[StagedRole]:
        """Every staged role with who signed, who may sign and what is missing."""
        return [read_staged(data) for data in self._storage.read_staged().values()]

    def _authorisations(self, role: str, md: Metadata[Any]) -> list[Authorisation]:
        out = []
        for by, delegator in self._authorities(role, md):
            delegated = delegator.get_delegated_role(role)
            keys = {
                kid: key for kid in delegated.keyids if (key := delegator.get_key(kid)) is not None
            }
            out.append(Authorisation(by, delegated.threshold, keys))
        return out

    # -- publishing --------------------------------------------------------------------------

    def publish(self) -> list[str]:
        """Sign and publish every pending edit, with new snapshot and timestamp as needed.

        Returns:
            the files written, in order.

        Raises:
            ConfigError: a new version cannot get signatures from a threshold of its keys with
                the signers available (nothing is written; edits stay pending).
            StorageError: the storage failed part-way (:meth:`open` completes the publish), or
                an earlier publish was interrupted and is not completed yet.
        """
        if self._storage.read_journal() is not None:
            raise StorageError(
                "an interrupted publish is pending; open the repository again to complete it"
            )
        self._create_new_delegated_roles()
        pending = dict(self._pending)
        try:
            for role in [r for r in self._pending if r not in ("snapshot", "timestamp")]:
                self._sign(role, self._pending[role])
            targets_roles = [r for r in self._pending if r not in ("root", "snapshot", "timestamp")]
            root_changed_keys = "root" in self._pending and any(
                self._pending["root"].signed.roles[r] != self._root.signed.roles[r]
                for r in ("snapshot", "timestamp")
            )
            if targets_roles or root_changed_keys or "snapshot" in self._pending:
                self._new_snapshot(targets_roles)
                self._sign("snapshot", self._pending["snapshot"])
            if "snapshot" in self._pending or root_changed_keys or "timestamp" in self._pending:
                self._new_timestamp()
                self._sign("timestamp", self._pending["timestamp"])
        except BaseException:
            self._pending = pending  # snapshot and timestamp made here are dropped again
            raise
        unreferenced, visible = self._plan(targets_roles)
        if not unreferenced and not visible:
            return []
        for name, data in unreferenced:
            self._storage.write_metadata(name, data)
        self._storage.flush()  # durable before anything that names them is written
        self._storage.write_journal(encode_journal(visible))
        _apply(self._storage, visible)
        for role in self._storage.read_staged():
            if role in self._pending:
                self._storage.remove_staged(role)
        self._adopt_pending()
        return [name for name, _ in [*unreferenced, *visible]]

    def _create_new_delegated_roles(self) -> None:
        """Give every role that a pending edit delegates to, and that does not exist yet, an
        empty version 1, so that snapshot lists every role a client may be sent to."""
        for delegator in [r for r in self._pending if r not in ("root", "snapshot", "timestamp")]:
            delegations = self._pending[delegator].signed.delegations
            if delegations is None:
                continue
            if delegations.succinct_roles is not None:
                names: Iterable[str] = delegations.succinct_roles.get_roles()
            else:
                names = list(delegations.roles or {})
            for name in names:
                if name not in self._pending and not self.published_version(name):
                    check_role_name(name)
                    self._stage(name, Targets(1))

    def _new_snapshot(self, targets_roles: list[str]) -> None:
        snapshot = self._pending.get("snapshot")
        signed: Snapshot = (
            snapshot.signed if snapshot is not None else _copy(self._snapshot, Snapshot)
        )
        for role in targets_roles:
            signed.meta[f"{role}.json"] = MetaFile(self._pending[role].signed.version)
        self._stage("snapshot", signed)

    def _new_timestamp(self) -> None:
        snapshot = self._pending.get("snapshot")
        data = self._encoded.get("snapshot") if snapshot is not None else None
        signed = _copy(self._timestamp, Timestamp)
        if snapshot is not None and data is not None:
            length, hashes = hash_digests(data, ["sha256"])
            signed.snapshot_meta = MetaFile(snapshot.signed.version, length, hashes)
        self._stage("timestamp", signed)

    def _plan(
        self, targets_roles: list[str]
    ) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
        """The files to write: first those nobody reads before a later file names them
        (versioned targets roles and snapshot), then, in order, those clients read by name
        (root versions, which clients probe for, unversioned names, timestamp last)."""
        unreferenced: list[tuple[str, bytes]] = []
        visible: list[tuple[str, bytes]] = []
        root = self._pending.get("root")
        if root is not None:
            data = self._encoded["root"]
            visible += [(metadata_filename("root", root.signed.version), data), ("root.json", data)]
        consistent = bool(self.root.signed.consistent_snapshot)
        ordered = [r for r in targets_roles if r != "targets"]
        ordered += [r for r in targets_roles if r == "targets"]
        for role in [*ordered, "snapshot"]:
            md = self._pending.get(role)
            if md is not None:
                version = md.signed.version if consistent else None
                entry = (metadata_filename(role, version), self._encoded[role])
                (unreferenced if consistent else visible).append(entry)
        if "timestamp" in self._pending:
            visible.append(("timestamp.json", self._encoded["timestamp"]))
        return unreferenced, visible

    def _adopt_pending(self) -> None:
        pending, self._pending = self._pending, {}
        self._encoded.clear()
        self._initial = False
        for role, md in pending.items():
            if role == "root":
                self._root = md
            elif role == "timestamp":
                self._timestamp = md
            elif role == "snapshot":
                self._snapshot = md
            else:
                self._targets[role] = md


def _require_threshold(role: str, md: Metadata[Any], by: str, delegator: Delegator) -> None:
    """Raise unless a threshold of *role*'s distinct keys (per *delegator*) signed *md*.

    The signatures were just made by this process over the current content, so they are counted
    by key, not verified again; keys that are the same key material count once.
    """
    delegated = delegator.get_delegated_role(role)
    identities = set()
    for keyid in delegated.keyids:
        key = delegator.get_key(keyid)
        if key is not None and keyid in md.signatures:
            identities.add(key.identity())
    if len(identities) < delegated.threshold:
        missing = sorted(k[:16] for k in delegated.keyids if k not in md.signatures)
        raise ConfigError(
            f"{role} v{md.signed.version} has {len(identities)} valid signatures, threshold "
            f"{delegated.threshold} (as {by} requires); no signer for keys: "
            f"{', '.join(missing) or 'none'}"
        )


def _apply(storage: Storage, files: list[tuple[str, bytes]]) -> None:
    """Write the journalled files in order, make them durable, then drop the journal."""
    for name, data in files:
        storage.write_metadata(name, data)
    storage.flush()
    storage.remove_journal()


def _required(storage: Storage, name: str) -> bytes:
    data = storage.read_metadata(name)
    if data is None:
        raise StorageError(f"the repository is incomplete: {name} is missing")
    return data


def _load(data: bytes, kind: type[RoleType], name: str) -> Metadata[RoleType]:
    try:
        return Metadata.from_bytes_as(data, kind)
    except Error as exc:
        raise StorageError(f"{name}: {exc.diagnostics()}") from exc


def _check_signed(root: Root, role: str, md: Metadata[Any], name: str) -> None:
    result = root.get_verification_result(role, md.verification_payload, md.signatures)
    if not result.verified:
        raise StorageError(
            f"{name} has {len(result.signed)} valid signatures, threshold {result.threshold}"
        )
