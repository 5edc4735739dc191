"""The TUF metadata format: roles, target files, delegations, the signed envelope.

Pure: no files, no network, no clock (expiry takes a reference time). Reading validates strictly
and keeps unrecognised fields; signatures are verified over the canonical bytes of the ``signed``
object as received. This package does not decide what to trust: the client's update workflow does.
"""

from tufkit.metadata._envelope import Metadata, RoleType
from tufkit.metadata._fields import SPEC_VERSION, format_expires, parse_expires
from tufkit.metadata._files import HASH_ALGORITHMS, MetaFile, TargetFile, hash_digests
from tufkit.metadata._paths import path_hash, succinct_bin
from tufkit.metadata._roles import (
    TOP_LEVEL_ROLE_NAMES,
    DelegatedRole,
    Delegations,
    Role,
    SuccinctRoles,
)
from tufkit.metadata._signed import Root, Signed, Snapshot, Timestamp
from tufkit.metadata._targets import TargetEntries, Targets
from tufkit.metadata._verification import VerificationResult

__all__ = [
    "HASH_ALGORITHMS",
    "SPEC_VERSION",
    "TOP_LEVEL_ROLE_NAMES",
    "DelegatedRole",
    "Delegations",
    "MetaFile",
    "Metadata",
    "Role",
    "RoleType",
    "Root",
    "Signed",
    "Snapshot",
    "SuccinctRoles",
    "TargetEntries",
    "TargetFile",
    "Targets",
    "Timestamp",
    "VerificationResult",
    "format_expires",
    "hash_digests",
    "parse_expires",
    "path_hash",
    "succinct_bin",
]
