"""The trust decision of the TUF client workflow (specification section 5), without any I/O.

:class:`TrustedSet` takes metadata bytes and one reference time and either accepts them as the
next trusted state or raises a :class:`~tufkit.errors.RepositoryError`. It never reads files,
never touches the network and never reads the clock: the updater decides where bytes come from,
persists only what this class accepted, and passes the time in.

Security contract:

* Root (5.3): each new root is signed by a threshold of the trusted root's root keys *and* of
  its own, has exactly version N+1 and is of type ``root``; intermediate expiry is ignored and
  the final root must be unexpired before anything else is loaded.
* Timestamp (5.4), snapshot (5.5), targets (5.6): type, threshold, version and rollback rules,
  and expiry at the single reference time, in the specification's order.
* Delegated targets are verified against the delegator they were reached through. Verified
  roles are remembered by their *delegation chain* (``("targets", "a", "c")``), never by role
  name alone, so a role trusted through one delegator never lends authority to another path.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from tufkit.errors import (
    BadVersionNumberError,
    EqualVersionNumberError,
    ExpiredMetadataError,
    RepositoryError,
)
from tufkit.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp

__all__ = ["Chain", "TrustedSet"]

#: A delegation chain: role names from top-level ``targets`` to the role reached.
Chain = tuple[str, ...]
TOP_CHAIN: Chain = ("targets",)
_TopLevel = TypeVar("_TopLevel", Timestamp, Snapshot)


def _role_changed(old: Root, new: Root, name: str) -> bool:
    before, after = old.roles[name], new.roles[name]
    if set(before.keyids) != set(after.keyids) or before.threshold != after.threshold:
        return True
    return any(old.keys.get(k) != new.keys.get(k) for k in after.keyids)


class TrustedSet:
    """The metadata trusted so far in one update cycle.

    Args:
        root_data: the trusted root's bytes (the trust anchor).
        reference_time: the one "now" of this cycle (aware UTC), used for every expiry check.

    Raises:
        FormatError: the root is malformed or not of type root.
        UnsignedMetadataError: the root is not signed by a threshold of its own root keys.
    """

    def __init__(self, root_data: bytes, reference_time: datetime) -> None:
        self.reference_time = reference_time
        # 5.2: the trusted root must be signed by a threshold of its own keys; expiry not yet.
        root = Metadata.from_bytes_as(root_data, Root)
        root.signed.verify_delegate("root", root.verification_payload, root.signatures)
        self._root: Metadata[Root] = root
        self._timestamp: Metadata[Timestamp] | None = None
        self._snapshot_baseline: Metadata[Snapshot] | None = None
        self._snapshot: Metadata[Snapshot] | None = None
        self._targets: dict[Chain, Metadata[Targets]] = {}

    # -- accessors -------------------------------------------------------------------------

    @property
    def root(self) -> Metadata[Root]:
        """The trusted root."""
        return self._root

    @property
    def timestamp(self) -> Metadata[Timestamp] | None:
        """The trusted timestamp, if loaded."""
        return self._timestamp

    @property
    def snapshot(self) -> Metadata[Snapshot] | None:
        """The trusted (final) snapshot, if loaded."""
        return self._snapshot

    @property
    def targets(self) -> Metadata[Targets] | None:
        """The trusted top-level targets, if loaded."""
        return self._targets.get(TOP_CHAIN)

    def get_verified(self, chain: Chain) -> Metadata[Targets] | None:
        """The targets metadata verified through exactly *chain*, if any."""
        return self._targets.get(chain)

    def snapshot_meta(self, role_name: str) -> MetaFile | None:
        """What the trusted snapshot lists for *role_name*, or None.

        Raises:
            RuntimeError: no snapshot is trusted yet.
        """
        if self._snapshot is None:
            raise RuntimeError("snapshot must be loaded first")
        return self._snapshot.signed.meta.get(f"{role_name}.json")

    def listed_meta(self, role_name: str) -> MetaFile:
        """What the trusted snapshot lists for *role_name*, which it must list.

        The snapshot lists top-level targets and every delegated role (5.5, 5.6.1); a role it
        leaves out cannot be verified, and the lookup must fail rather than end quietly.

        Raises:
            RepositoryError: the snapshot does not list the role (named in the message).
            RuntimeError: no snapshot is trusted yet.
        """
        meta = self.snapshot_meta(role_name)
        if meta is None:
            assert self._snapshot is not None
            raise RepositoryError(
                f"snapshot version {self._snapshot.signed.version} does not list role "
                f"{role_name[:80]!r} ({role_name[:80]}.json)"
            )
        return meta

    # -- root (5.3) ------------------------------------------------------------------------

    def update_root(self, data: bytes) -> bool:
        """Accept the next root version.

        Returns:
            True if the timestamp or snapshot role changed (keys or threshold): the caller must
            drop its stored timestamp and snapshot before persisting this root (5.3.11).

        Raises:
            FormatError: malformed or not a root.
            UnsignedMetadataError: not signed by a threshold of the old or of the new root keys.
            BadVersionNumberError: the version is not exactly N+1.
            RuntimeError: a timestamp was already loaded in this cycle.
        """
        if self._timestamp is not None:
            raise RuntimeError("root cannot change once timestamp is loaded")
        old = self._root.signed
        new = Metadata.from_bytes_as(data, Root)  # _type must be root
        payload = new.verification_payload
        # 5.3.3 (1): a threshold of the trusted root's root keys.
        old.verify_delegate("root", payload, new.signatures)
        # 5.3.4: exactly N+1 (rollback, or a URL/content version mismatch).
        if new.signed.version != old.version + 1:
            raise BadVersionNumberError(
                f"expected root version {old.version + 1}, got {new.signed.version}"
            )
        # 5.3.3 (2): a threshold of the new root's own root keys.
        new.signed.verify_delegate("root", payload, new.signatures)
        # 5.3.5: the expiry of an intermediate root does not matter.
        self._root = new
        return _role_changed(old, new.signed, "timestamp") or _role_changed(
            old, new.signed, "snapshot"
        )

    def check_root_fresh(self) -> None:
        """5.3.10: the final root must be unexpired (freeze attack).

        Raises:
            ExpiredMetadataError: it has expired at the reference time.
        """
        if self._root.signed.is_expired(self.reference_time):
            raise ExpiredMetadataError(f"root version {self._root.signed.version} has expired")

    # -- timestamp (5.4) -------------------------------------------------------------------

    def load_local_timestamp(self, data: bytes) -> None:
        """Use a stored timestamp as the rollback baseline (its expiry does not matter).

        Raises:
            FormatError: malformed or not a timestamp.
            UnsignedMetadataError: not signed by the current root's timestamp keys.
        """
        local = self._verified_top_level(data, Timestamp)
        self._timestamp = local

    def update_timestamp(self, data: bytes) -> Metadata[Timestamp]:
        """Accept a newly downloaded timestamp.

        Raises:
            ExpiredMetadataError: the root or the new timestamp has expired.
            FormatError: malformed or not a timestamp.
            UnsignedMetadataError: not signed by a threshold of the root's timestamp keys.
            EqualVersionNumberError: same version as the trusted one; the trusted one stays
                and the cycle may continue with it.
            BadVersionNumberError: timestamp or snapshot version rollback.
            RuntimeError: a snapshot was already loaded.
        """
        if self._snapshot is not None or self._snapshot_baseline is not None:
            raise RuntimeError("timestamp cannot change once snapshot is loaded")
        self.check_root_fresh()
        new = self._verified_top_level(data, Timestamp)  # 5.4.2
        old = self._timestamp
        if old is not None:  # 5.4.3: rollback
            if new.signed.version < old.signed.version:
                raise BadVersionNumberError(
                    f"timestamp version {new.signed.version} is lower than the trusted "
                    f"{old.signed.version}"
                )
            if new.signed.version == old.signed.version:
                raise EqualVersionNumberError(f"timestamp version {new.signed.version} unchanged")
            new_snap, old_snap = new.signed.snapshot_meta, old.signed.snapshot_meta
            if new_snap.version < old_snap.version:
                raise BadVersionNumberError(
                    f"timestamp lists snapshot version {new_snap.version}, lower than the "
                    f"trusted {old_snap.version}"
                )
        self._check_fresh(new)  # 5.4.4: freeze
        self._timestamp = new
        return new

    # -- snapshot (5.5) --------------------------------------------------------------------

    def load_local_snapshot(self, data: bytes) -> bool:
        """Use a stored snapshot as the rollback baseline, and as final if still current.

        Its hashes are not checked against the new timestamp: it was verified when stored.

        Returns:
            True if it is the snapshot the timestamp lists and is unexpired: no download needed.

        Raises:
            FormatError: malformed or not a snapshot.
            UnsignedMetadataError: not signed by the current root's snapshot keys.
            RuntimeError: no timestamp is trusted yet.
        """
        timestamp = self._require_timestamp()
        local = self._verified_top_level(data, Snapshot)
        self._snapshot_baseline = local
        current = local.signed.version == timestamp.signed.snapshot_meta.version
        if current and not local.signed.is_expired(self.reference_time):
            self._check_fresh(timestamp)
            self._snapshot = local
            return True
        return False

    def update_snapshot(self, data: bytes) -> Metadata[Snapshot]:
        """Accept a newly downloaded snapshot.

        Raises:
            ExpiredMetadataError: the trusted timestamp or the new snapshot has expired.
            LengthOrHashMismatchError: the bytes differ from what the timestamp lists.
            UnsupportedAlgorithmError: the timestamp lists an unknown hash algorithm.
            FormatError: malformed or not a snapshot.
            UnsignedMetadataError: not signed by a threshold of the root's snapshot keys.
            BadVersionNumberError: not the listed version, or a role's version went down or a
                role disappeared compared with the trusted snapshot.
            RuntimeError: no timestamp is trusted yet.
        """
        timestamp = self._require_timestamp()
        self._check_fresh(timestamp)  # a timestamp kept on equal version must still be fresh
        meta = timestamp.signed.snapshot_meta
        meta.verify_length_and_hashes(data, "snapshot")  # 5.5.2
        new = self._verified_top_level(data, Snapshot)  # 5.5.3
        if new.signed.version != meta.version:  # 5.5.4
            raise BadVersionNumberError(
                f"expected snapshot version {meta.version}, got {new.signed.version}"
            )
        baseline = self._snapshot_baseline
        if baseline is not None:  # 5.5.5: no role removed, no role version decreased
            for name, old_meta in baseline.signed.meta.items():
                new_meta = new.signed.meta.get(name)
                if new_meta is None:
                    raise BadVersionNumberError(f"snapshot no longer lists {name[:80]!r}")
                if new_meta.version < old_meta.version:
                    raise BadVersionNumberError(
                        f"snapshot lists {name[:80]!r} version {new_meta.version}, lower than "
                        f"the trusted {old_meta.version}"
                    )
        self._check_fresh(new)  # 5.5.6: freeze
        self._snapshot = new
        return new

    # -- targets (5.6) ---------------------------------------------------------------------

    def update_targets(self, data: bytes, chain: Chain = TOP_CHAIN) -> Metadata[Targets]:
        """Accept targets metadata reached through *chain* (top-level: ``("targets",)``).

        The delegator is the metadata verified through ``chain[:-1]`` (root for top-level
        targets); its keys and threshold for the role decide, whatever was verified before
        for the same role name through another delegator.

        Raises:
            RepositoryError: the snapshot does not list the role.
            LengthOrHashMismatchError: the bytes differ from what the snapshot lists.
            UnsupportedAlgorithmError: the snapshot lists an unknown hash algorithm.
            FormatError: malformed or not targets metadata.
            UnsignedMetadataError: not signed by a threshold of the delegator's keys.
            BadVersionNumberError: not the version the snapshot lists.
            ExpiredMetadataError: the snapshot or this metadata has expired.
            RuntimeError: no snapshot is trusted yet, or the delegator is not loaded.
        """
        role_name = chain[-1]
        delegator: Root | Targets
        if chain == TOP_CHAIN:
            delegator = self._root.signed
        else:
            parent = self._targets.get(chain[:-1])
            if parent is None:
                raise RuntimeError(f"delegator of {role_name!r} is not loaded")
            delegator = parent.signed
        meta = self.listed_meta(role_name)
        assert self._snapshot is not None
        self._check_fresh(self._snapshot)
        meta.verify_length_and_hashes(data, f"{role_name[:80]} metadata")  # 5.6.2
        new = Metadata.from_bytes_as(data, Targets)
        try:  # 5.6.3: signatures, by the delegator reached through
            delegator.verify_delegate(role_name, new.verification_payload, new.signatures)
        except ValueError as exc:
            raise RepositoryError(str(exc)) from exc
        if new.signed.version != meta.version:  # 5.6.4
            raise BadVersionNumberError(
                f"expected {role_name[:80]} version {meta.version}, got {new.signed.version}"
            )
        self._check_fresh(new)  # 5.6.5: freeze
        self._targets[chain] = new
        return new

    # -- helpers ---------------------------------------------------------------------------

    def _verified_top_level(self, data: bytes, kind: type[_TopLevel]) -> Metadata[_TopLevel]:
        md = Metadata.from_bytes_as(data, kind)
        self._root.signed.verify_delegate(kind.type, md.verification_payload, md.signatures)
        return md

    def _require_timestamp(self) -> Metadata[Timestamp]:
        if self._timestamp is None:
            raise RuntimeError("timestamp must be loaded first")
        return self._timestamp

    def _check_fresh(
        self, md: Metadata[Timestamp] | Metadata[Snapshot] | Metadata[Targets]
    ) -> None:
        if md.signed.is_expired(self.reference_time):
            raise ExpiredMetadataError(f"{md.signed.type} version {md.signed.version} has expired")
