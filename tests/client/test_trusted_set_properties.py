"""Properties of the trust decision, over generated (correctly signed) metadata sequences.

Whatever a repository serves, ``TrustedSet`` either accepts it or raises a
:class:`~tufkit.errors.RepositoryError`; and what it accepts never rolls a version back, never
drops a role from snapshot, and is never expired at the reference time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tufkit.client._internal.trusted_set import TrustedSet
from tufkit.crypto import generate
from tufkit.errors import RepositoryError
from tufkit.metadata import Metadata, MetaFile, Role, Root, Snapshot, Timestamp

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SIGNER = generate("ed25519")
KID = SIGNER.public_key.keyid


def _signed(content: Any) -> bytes:
    md: Metadata[Any] = Metadata(content)
    md.sign(SIGNER)
    return md.to_bytes()


def _root() -> bytes:
    roles = {name: Role([KID], 1) for name in ("root", "timestamp", "snapshot", "targets")}
    return _signed(
        Root(expires=NOW + timedelta(days=365), keys={KID: SIGNER.public_key}, roles=roles)
    )


def _timestamp(version: int, snapshot_version: int, expired: bool) -> bytes:
    expires = NOW - timedelta(seconds=1) if expired else NOW + timedelta(days=1)
    return _signed(Timestamp(version, expires=expires, snapshot_meta=MetaFile(snapshot_version)))


ROOT = _root()
versions = st.integers(min_value=1, max_value=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(versions, versions, st.booleans()), min_size=1, max_size=6),
)
def test_accepted_timestamps_never_roll_back(steps: list[tuple[int, int, bool]]) -> None:
    trusted: tuple[int, int] | None = None
    for version, snapshot_version, expired in steps:
        trusted_set = TrustedSet(ROOT, NOW)
        if trusted is not None:
            trusted_set.load_local_timestamp(_timestamp(trusted[0], trusted[1], False))
        try:
            accepted = trusted_set.update_timestamp(_timestamp(version, snapshot_version, expired))
        except RepositoryError:
            continue
        ts = accepted.signed
        assert not ts.is_expired(NOW)
        if trusted is not None:
            assert ts.version > trusted[0]
            assert ts.snapshot_meta.version >= trusted[1]
        trusted = (ts.version, ts.snapshot_meta.version)


role_names = st.sampled_from(["targets.json", "a.json", "b.json", "c/d.json"])
metas = st.dictionaries(role_names, versions, max_size=4).map(lambda d: {"targets.json": 1, **d})


@settings(max_examples=150, deadline=None)
@given(metas, metas, st.booleans())
def test_accepted_snapshots_never_drop_or_lower_a_role(
    old_meta: dict[str, int], new_meta: dict[str, int], expired: bool
) -> None:
    def snapshot(version: int, meta: dict[str, int], is_expired: bool) -> bytes:
        expires = NOW - timedelta(seconds=1) if is_expired else NOW + timedelta(days=1)
        files = {name: MetaFile(v) for name, v in meta.items()}
        return _signed(Snapshot(version, expires=expires, meta=files))

    trusted_set = TrustedSet(ROOT, NOW)
    trusted_set.load_local_timestamp(_timestamp(1, 1, False))
    trusted_set.update_timestamp(_timestamp(2, 2, False))
    trusted_set.load_local_snapshot(snapshot(1, old_meta, False))
    try:
        accepted = trusted_set.update_snapshot(snapshot(2, new_meta, expired))
    except RepositoryError:
        dropped = set(old_meta) - set(new_meta)
        lowered = any(new_meta.get(n, 0) < v for n, v in old_meta.items() if n in new_meta)
        assert dropped or lowered or expired
        return
    assert not expired
    for name, version in old_meta.items():
        assert accepted.signed.meta[name].version >= version


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["timestamp", "root"]))
def test_arbitrary_bytes_are_refused_as_repository_errors(data: bytes, step: str) -> None:
    trusted_set = TrustedSet(ROOT, NOW)
    try:
        if step == "root":
            trusted_set.update_root(data)
        else:
            trusted_set.update_timestamp(data)
    except RepositoryError:
        return
    raise AssertionError("random bytes were accepted")
