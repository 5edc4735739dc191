"""Consistency check of a whole published (and optionally staged) repository.

Reads everything a client could be sent to, straight from a :class:`Storage`, and reports
every problem found rather than stopping at the first: the root chain (every ``N.root.json``
signed by its predecessor's threshold and its own), timestamp, snapshot, and every targets role
reachable through the delegations (signatures and thresholds by their delegator as published,
versions, and length and hashes wherever the referring metadata lists them), every target's
length and hashes against its stored file where one is stored, targets listed outside what
their role was delegated, and expiry within a horizon. Staged roles can be checked too: are
they for the next version, and do they meet their thresholds? Verification in a pair:
:func:`get_repository_result` returns a report, :func:`verify_repository` raises. This module
never writes, and trusts nothing it reads: a hostile file yields a problem, not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tufkit.errors import ConfigError, Error, RepositoryError
from tufkit.metadata import (
    DelegatedRole,
    Metadata,
    MetaFile,
    Role,
    RoleType,
    Root,
    Signed,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tufkit.metadata._signed import Delegator
from tufkit.repository._names import check_role_name, metadata_filename
from tufkit.repository._staging import read_staged
from tufkit.repository._storage import Storage, read_current_root
from tufkit.repository._target_files import published_target_names

__all__ = [
    "PROBLEM_KINDS",
    "Problem",
    "RepositoryReport",
    "get_repository_result",
    "verify_repository",
]

#: Kinds of problem, each with what it means.
PROBLEM_KINDS = {
    "missing": "a file that metadata refers to, or that clients need, is not there",
    "malformed": "a file is not valid metadata of the expected type",
    "signatures": "fewer valid signatures than the delegator's threshold",
    "version": "a version differs from what the referring metadata says",
    "hashes": "length or hashes differ from what the referring metadata says",
    "expired": "the metadata has expired",
    "expiring": "the metadata expires within the horizon",
    "unlisted": "a delegated role that snapshot does not list",
    "delegation": "targets listed outside the paths (or bin) their role was delegated",
    "target": "a stored target file differs from its listed length or hashes",
    "journal": "an interrupted publish is pending",
    "staged": "a staged role is stale, malformed or below a threshold",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the repository.

    Attributes:
        role: the role concerned.
        kind: one of :data:`PROBLEM_KINDS`.
        message: what is wrong, for people.
        file: the file concerned, where there is one.
    """

    role: str
    kind: str
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return f"{self.role}{where}: {self.message}"


@dataclass(frozen=True)
class RepositoryReport:
    """What a consistency check found.

    Attributes:
        problems: every problem, in the order found (root first).
        roles: how many roles were checked.
        target_files: how many stored target files were hashed.
        targets_without_content: listed targets with no stored file (a manifest listing).
    """

    problems: tuple[Problem, ...]
    roles: int
    target_files: int
    targets_without_content: int

    @property
    def ok(self) -> bool:
        """True if nothing is wrong."""
        return not self.problems


@dataclass
class _Checker:
    storage: Storage
    now: datetime
    horizon: timedelta
    check_targets: bool
    problems: list[Problem] = field(default_factory=list)
    roles: int = 0
    target_files: int = 0
    without_content: int = 0
    consistent: bool = True
    loaded: dict[str, Metadata[Targets]] = field(default_factory=dict)
    delegators: dict[str, Delegator] = field(default_factory=dict)

    def problem(self, role: str, kind: str, message: str, file: str | None = None) -> None:
        self.problems.append(Problem(role, kind, message, file))

    def read(self, role: str, name: str, kind: type[RoleType]) -> Metadata[RoleType] | None:
        try:
            data = self.storage.read_metadata(name)
        except Error as exc:
            self.problem(role, "missing", f"unreadable: {exc}", name)
            return None
        if data is None:
            self.problem(role, "missing", "the file is missing", name)
            return None
        return self.parse(role, name, data, kind)

    def parse(
        self, role: str, name: str, data: bytes, kind: type[RoleType]
    ) -> Metadata[RoleType] | None:
        try:
            return Metadata.from_bytes_as(data, kind)
        except Error as exc:
            self.problem(role, "malformed", exc.diagnostics(), name)
            return None

    def signatures(
        self, role: str, name: str, md: Metadata[Any], delegator: Delegator, by: str
    ) -> None:
        message = _unsigned(role, md, delegator, by)
        if message is not None:
            self.problem(role, "signatures", message, name)

    def expiry(self, role: str, name: str, signed: Signed) -> None:
        self.roles += 1
        if signed.expires <= self.now:
            self.problem(role, "expired", f"v{signed.version} expired {_when(signed)}", name)
        elif signed.expires <= self.now + self.horizon:
            self.problem(role, "expiring", f"v{signed.version} expires {_when(signed)}", name)

    def against(self, role: str, name: str, data: bytes, meta: MetaFile, by: str) -> None:
        try:
            meta.verify_length_and_hashes(data, name)
        except Error as exc:
            self.problem(role, "hashes", f"not the file {by} describes: {exc}", name)

    def version(self, role: str, name: str, signed: Signed, expected: int, by: str) -> None:
        if signed.version != expected:
            self.problem(
                role, "version", f"has version {signed.version}, {by} says {expected}", name
            )

    # -- the roles ---------------------------------------------------------------------------

    def root(self) -> Metadata[Root] | None:
        try:
            current = read_current_root(self.storage)
        except Error as exc:
            self.problem("root", "malformed", str(exc), "root.json")
            return None
        if current is None:
            self.problem("root", "missing", "neither root.json nor 1.root.json exists")
            return None
        name, data = current
        root = self.parse("root", name, data, Root)
        if root is None:
            return None
        self.consistent = bool(root.signed.consistent_snapshot)
        self.chain(root.signed.version)  # checks every N.root.json, this one included
        if name == "root.json":
            versioned = metadata_filename("root", root.signed.version)
            same_version = self.storage.read_metadata(versioned)
            if same_version is None:
                self.signatures("root", name, root, root.signed, "root itself")
            elif same_version != data:
                self.problem("root", "hashes", f"differs from {versioned}", name)
        self.expiry("root", name, root.signed)
        return root

    def chain(self, latest: int) -> None:
        """Every root version is there, signed by its predecessor's threshold and its own."""
        previous: Metadata[Root] | None = None
        for version in range(1, latest + 1):
            name = metadata_filename("root", version)
            data = self.storage.read_metadata(name)
            if data is None:
                if version > 1:  # version 1 reaches clients out of band
                    self.problem(
                        "root", "missing", "clients on older roots cannot update past it", name
                    )
                previous = None
                continue
            md = self.parse("root", name, data, Root)
            if md is None:
                previous = None
                continue
            self.version("root", name, md.signed, version, "its file name")
            self.signatures("root", name, md, md.signed, "root itself")
            if previous is not None:
                by = f"root v{previous.signed.version}"
                self.signatures("root", name, md, previous.signed, by)
            previous = md

    def timestamp(self, root: Root) -> Metadata[Timestamp] | None:
        md = self.read("timestamp", "timestamp.json", Timestamp)
        if md is not None:
            self.signatures("timestamp", "timestamp.json", md, root, "root")
            self.expiry("timestamp", "timestamp.json", md.signed)
        return md

    def snapshot(self, root: Root, timestamp: Timestamp) -> Metadata[Snapshot] | None:
        meta = timestamp.snapshot_meta
        name = metadata_filename("snapshot", meta.version if self.consistent else None)
        data = self.storage.read_metadata(name)
        if data is None:
            self.problem("snapshot", "missing", "named by timestamp.json, but missing", name)
            return None
        self.against("snapshot", name, data, meta, "timestamp.json")
        md = self.parse("snapshot", name, data, Snapshot)
        if md is not None:
            self.version("snapshot", name, md.signed, meta.version, "timestamp.json")
            self.signatures("snapshot", name, md, root, "root")
            self.expiry("snapshot", name, md.signed)
        return md

    def targets_tree(self, root: Root, snapshot: Snapshot) -> None:
        queue: list[tuple[str, str, Delegator, Role]] = [
            ("targets", "root", root, root.roles["targets"])
        ]
        while queue:
            role, by, delegator, entry = queue.pop(0)
            self.delegators.setdefault(role, delegator)
            md = self.targets_role(role, snapshot)
            if md is None:
                continue
            name = self.role_file(role, snapshot)
            self.signatures(role, name, md, delegator, by)
            self.paths(role, md.signed, entry)
            if role in self.loaded:
                continue  # already walked from another delegator
            self.loaded[role] = md
            self.expiry(role, name, md.signed)
            if self.check_targets:
                self.contents(role, md.signed)
            queue += self.children(role, md.signed)

    def role_file(self, role: str, snapshot: Snapshot) -> str:
        meta = snapshot.meta.get(f"{role}.json")
        version = meta.version if meta is not None and self.consistent else None
        return metadata_filename(role, version)

    def targets_role(self, role: str, snapshot: Snapshot) -> Metadata[Targets] | None:
        if role in self.loaded:
            return self.loaded[role]
        try:
            check_role_name(role)
        except ConfigError as exc:
            self.problem(role[:80], "malformed", str(exc))
            return None
        meta = snapshot.meta.get(f"{role}.json")
        if meta is None:
            self.problem(role, "unlisted", "delegated, but snapshot does not list it")
            return None
        name = self.role_file(role, snapshot)
        data = self.storage.read_metadata(name)
        if data is None:
            self.problem(role, "missing", "listed in snapshot, but missing", name)
            return None
        self.against(role, name, data, meta, "snapshot")
        md = self.parse(role, name, data, Targets)
        if md is not None:
            self.version(role, name, md.signed, meta.version, "snapshot")
        return md

    def children(self, role: str, signed: Targets) -> list[tuple[str, str, Delegator, Role]]:
        delegations = signed.delegations
        if delegations is None:
            return []
        if delegations.succinct_roles is not None:
            bins = delegations.succinct_roles
            return [(name, role, signed, bins) for name in bins.get_roles()]
        return [(name, role, signed, entry) for name, entry in (delegations.roles or {}).items()]

    def paths(self, role: str, signed: Targets, entry: Role) -> None:
        outside: list[str] = []
        if isinstance(entry, SuccinctRoles):
            outside = [p for p in signed.targets if entry.get_role_for_target(p) != role]
        elif isinstance(entry, DelegatedRole):
            outside = [p for p in signed.targets if not entry.is_delegated_path(p)]
        if outside:
            self.problem(
                role,
                "delegation",
                f"{len(outside)} target(s) outside what it was delegated, which clients never "
                f"find there, e.g. {outside[0][:80]!r}",
            )

    def contents(self, role: str, signed: Targets) -> None:
        for path in signed.targets:
            target = signed.targets[path]
            try:
                names = published_target_names(target, consistent=self.consistent)
            except (Error, ValueError) as exc:
                self.problem(role, "target", f"{path[:80]!r}: {exc}")
                continue
            for name in names:
                self.content(role, path, name, target)

    def content(self, role: str, path: str, name: str, target: TargetFile) -> None:
        try:
            handle = self.storage.open_target(name)
        except Error as exc:
            self.problem(role, "target", f"{path[:80]!r}: {exc}", name)
            return
        if handle is None:
            self.without_content += 1
            return
        with handle:
            self.target_files += 1
            try:
                target.verify_length_and_hashes(handle)
            except Error as exc:
                self.problem(role, "target", f"{path[:80]!r}: {exc}", name)

    # -- staged roles ------------------------------------------------------------------------

    def staged(self, root: Metadata[Root], snapshot: Snapshot | None) -> None:
        staged_roles = {}
        for role, data in self.storage.read_staged().items():
            try:
                staged_roles[role] = read_staged(data)
            except ConfigError as exc:
                self.problem(role, "staged", str(exc))
        for role, staged in staged_roles.items():
            md = staged.metadata
            if role == "root":
                published = root.signed.version
                checks: list[tuple[str, Delegator]] = [
                    (f"root v{published}", root.signed),
                    ("the staged root", md.signed),
                ]
            else:
                meta = snapshot.meta.get(f"{role}.json") if snapshot is not None else None
                published = meta.version if meta is not None else 0
                delegator = self._staged_delegator(role, staged_roles)
                if delegator is None:
                    self.problem(role, "staged", "no published or staged role delegates to it")
                    continue
                checks = [delegator]
            if md.signed.version != published + 1:
                self.problem(
                    role,
                    "staged",
                    f"staged v{md.signed.version} is not the next version (published: "
                    f"v{published}); stage it again",
                )
            for by, who in checks:
                message = _unsigned(role, md, who, by)
                if message is not None:
                    self.problem(role, "staged", f"not ready to publish: {message}")

    def _staged_delegator(self, role: str, staged: dict[str, Any]) -> tuple[str, Delegator] | None:
        for name, other in staged.items():  # a staged delegator takes precedence
            signed = other.metadata.signed
            delegations = signed.delegations if isinstance(signed, Targets) else None
            if delegations is not None and delegations.get_role(role) is not None:
                return f"staged {name}", signed
        if role == "targets":
            return None
        for name, md in self.loaded.items():
            delegations = md.signed.delegations
            if delegations is not None and delegations.get_role(role) is not None:
                return name, md.signed
        return None


def _unsigned(role: str, md: Metadata[Any], delegator: Delegator, by: str) -> str | None:
    """Why *md* does not meet *role*'s threshold as *delegator* sets it, or None if it does."""
    try:
        result = delegator.get_verification_result(role, md.verification_payload, md.signatures)
    except ValueError:
        return f"{by} does not delegate to it"
    if result.verified:
        return None
    return f"{len(result.signed)} valid signatures, threshold {result.threshold} (as {by} requires)"


def _when(signed: Signed) -> str:
    return signed.expires.strftime("%Y-%m-%d %H:%M:%S UTC")


def get_repository_result(
    storage: Storage,
    *,
    reference_time: datetime | None = None,
    horizon: timedelta = timedelta(0),
    staged: bool = False,
    check_targets: bool = True,
) -> RepositoryReport:
    """Check a whole repository and report every problem found.

    Args:
        storage: the repository.
        reference_time: "now" for expiry (aware UTC); the system clock by default.
        horizon: also report metadata expiring within this time from now.
        staged: also check staged roles (next version, thresholds met).
        check_targets: hash every stored target file against its listing.

    Returns:
        the report; :attr:`RepositoryReport.ok` if nothing is wrong.

    Raises:
        StorageError: the storage itself failed (not a problem with its content).
    """
    if horizon < timedelta(0):
        raise ConfigError("the expiry horizon must not be negative")
    now = reference_time or datetime.now(UTC)
    checker = _Checker(storage, now, horizon, check_targets)
    if storage.read_journal() is not None:
        checker.problem("*", "journal", "open the repository to complete the interrupted publish")
    root = checker.root()
    snapshot = None
    if root is not None:
        timestamp = checker.timestamp(root.signed)
        if timestamp is not None:
            snapshot_md = checker.snapshot(root.signed, timestamp.signed)
            if snapshot_md is not None:
                snapshot = snapshot_md.signed
                checker.targets_tree(root.signed, snapshot)
        if staged:
            checker.staged(root, snapshot)
    return RepositoryReport(
        tuple(checker.problems), checker.roles, checker.target_files, checker.without_content
    )


def verify_repository(
    storage: Storage,
    *,
    reference_time: datetime | None = None,
    horizon: timedelta = timedelta(0),
    staged: bool = False,
    check_targets: bool = True,
) -> RepositoryReport:
    """Check a whole repository; raise if anything is wrong (see :func:`get_repository_result`).

    Raises:
        RepositoryError: at least one problem; the message lists them all.
        StorageError: the storage itself failed.
    """
    report = get_repository_result(
        storage,
        reference_time=reference_time,
        horizon=horizon,
        staged=staged,
        check_targets=check_targets,
    )
    if not report.ok:
        raise RepositoryError(_summary(report.problems))
    return report


def _summary(problems: Iterable[Problem]) -> str:
    listed = list(problems)
    lines = [str(problem) for problem in listed[:50]]
    if len(listed) > 50:
        lines.append(f"... and {len(listed) - 50} more")
    return f"{len(listed)} problem(s) in the repository:\n  " + "\n  ".join(lines)
