"""MetaFile and TargetFile: what metadata says about another file, and checking bytes against it.

Hashes are always computed over the bytes given (the bytes received), never a re-serialisation.
A hash algorithm tufkit does not know makes verification fail closed. No file system access here:
callers pass bytes or an open binary stream.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import IO, Any

from tufkit.errors import FormatError, LengthOrHashMismatchError, UnsupportedAlgorithmError
from tufkit.metadata._fields import get_dict, get_int, type_name

__all__ = ["HASH_ALGORITHMS", "MetaFile", "TargetFile", "hash_digests"]

#: Hash algorithms tufkit computes, by their TUF names.
HASH_ALGORITHMS = ("sha224", "sha256", "sha384", "sha512", "blake2b", "blake2b-256", "blake2s")
_CHUNK = 1024 * 1024


def _new_hasher(algorithm: str) -> Any:
    if algorithm == "blake2b-256":
        return hashlib.blake2b(digest_size=32)
    if algorithm not in HASH_ALGORITHMS:
        raise UnsupportedAlgorithmError(f"hash algorithm {algorithm[:40]!r} is not supported")
    return hashlib.new(algorithm)


def hash_digests(data: bytes | IO[bytes], algorithms: Iterable[str]) -> tuple[int, dict[str, str]]:
    """Return the length of *data* and its hex digests for each algorithm.

    Raises:
        UnsupportedAlgorithmError: an algorithm is unknown.
    """
    hashers = {name: _new_hasher(name) for name in algorithms}
    if isinstance(data, bytes | bytearray | memoryview):
        for hasher in hashers.values():
            hasher.update(data)
        return len(data), {name: h.hexdigest() for name, h in hashers.items()}
    length = 0
    while chunk := data.read(_CHUNK):
        length += len(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
    return length, {name: h.hexdigest() for name, h in hashers.items()}


def _check_hashes(value: object, where: str) -> dict[str, str]:
    if type(value) is not dict:
        raise FormatError(f"{where}: 'hashes' must be an object, not {type_name(value)}")
    if not value:
        raise FormatError(f"{where}: 'hashes' must not be empty")
    for algorithm, digest in value.items():
        if type(digest) is not str:
            raise FormatError(f"{where}: hash {algorithm[:40]!r} must be a string")
    return value


def _verify(
    data: bytes | IO[bytes], length: int | None, hashes: dict[str, str] | None, what: str
) -> None:
    actual_length, digests = hash_digests(data, hashes or {})
    if length is not None and actual_length != length:
        raise LengthOrHashMismatchError(
            f"{what}: length {actual_length} does not match the expected {length}"
        )
    for algorithm, expected in (hashes or {}).items():
        if not hmac.compare_digest(digests[algorithm], expected.lower()):
            raise LengthOrHashMismatchError(f"{what}: {algorithm} hash does not match")


class MetaFile:
    """A metadata file as listed in timestamp or snapshot metadata.

    Attributes:
        version: the listed version (at least 1).
        length: the exact length in bytes, or None if not listed.
        hashes: algorithm -> hex digest, or None if not listed.
        unrecognized_fields: other fields, kept as read.
    """

    __slots__ = ("hashes", "length", "unrecognized_fields", "version")

    def __init__(
        self,
        version: int = 1,
        length: int | None = None,
        hashes: dict[str, str] | None = None,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if type(version) is not int or version < 1:
            raise ValueError(f"version must be an integer of at least 1, not {version!r}")
        if length is not None and (type(length) is not int or length < 0):
            raise ValueError(f"length must be a non-negative integer, not {length!r}")
        if hashes is not None and not hashes:
            raise ValueError("hashes must not be empty when given")
        self.version = version
        self.length = length
        self.hashes = hashes
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def from_dict(cls, data: object, where: str) -> MetaFile:
        """Read a metafile object.

        Raises:
            FormatError: a field is missing, wrongly typed or out of range.
        """
        if type(data) is not dict:
            raise FormatError(f"{where}: must be an object, not {type_name(data)}")
        version = data.get("version")
        if len(data) == 1 and type(version) is int and version >= 1:
            # the common shape ({"version": N}), built without re-checking in __init__
            meta = cls.__new__(cls)
            meta.version, meta.length, meta.hashes, meta.unrecognized_fields = (
                version,
                None,
                None,
                {},
            )
            return meta
        version = get_int(data, "version", where, minimum=1)
        length = get_int(data, "length", where) if "length" in data else None
        hashes = _check_hashes(data["hashes"], where) if "hashes" in data else None
        others = {k: v for k, v in data.items() if k not in ("version", "length", "hashes")}
        return cls(version, length, hashes, others)

    def to_dict(self) -> dict[str, Any]:
        """Return the metafile object."""
        out: dict[str, Any] = {"version": self.version, **self.unrecognized_fields}
        if self.length is not None:
            out["length"] = self.length
        if self.hashes is not None:
            out["hashes"] = self.hashes
        return out

    def verify_length_and_hashes(self, data: bytes | IO[bytes], what: str = "metadata") -> None:
        """Check *data* against the listed length and hashes (those not listed are skipped).

        Raises:
            LengthOrHashMismatchError: length or a hash differs.
            UnsupportedAlgorithmError: a listed hash algorithm is unknown.
        """
        _verify(data, self.length, self.hashes, what)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MetaFile) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.version, self.length))

    def __repr__(self) -> str:
        return f"MetaFile(version={self.version}, length={self.length})"


class TargetFile:
    """A target file as listed in targets metadata.

    Attributes:
        path: the target path (relative to the targets base URL, ``/``-separated).
        length: exact length in bytes.
        hashes: algorithm -> hex digest (at least one).
        unrecognized_fields: other fields, including ``custom``, kept as read.
    """

    __slots__ = ("hashes", "length", "path", "unrecognized_fields")

    def __init__(
        self,
        length: int,
        hashes: dict[str, str],
        path: str,
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if type(length) is not int or length < 0:
            raise ValueError(f"length must be a non-negative integer, not {length!r}")
        if not hashes or not all(type(v) is str for v in hashes.values()):
            raise ValueError("hashes must be a non-empty mapping of algorithm to hex digest")
        self.length = length
        self.hashes = hashes
        self.path = path
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def from_dict(cls, data: object, path: str) -> TargetFile:
        """Read a target file object listed under *path*.

        Raises:
            FormatError: a field is missing, wrongly typed or out of range.
        """
        where = f"target {path[:80]!r}"
        if type(data) is not dict:
            raise FormatError(f"{where}: must be an object, not {type_name(data)}")
        length = get_int(data, "length", where)
        hashes = _check_hashes(get_dict(data, "hashes", where), where)
        others = {k: v for k, v in data.items() if k not in ("length", "hashes")}
        return cls(length, hashes, path, others)

    @classmethod
    def from_data(
        cls,
        path: str,
        data: bytes | IO[bytes],
        hash_algorithms: Iterable[str] = ("sha256",),
        *,
        custom: dict[str, Any] | None = None,
    ) -> TargetFile:
        """Describe *data* (bytes or a binary stream) as the target *path*.

        Raises:
            UnsupportedAlgorithmError: an algorithm is unknown.
        """
        length, hashes = hash_digests(data, hash_algorithms)
        return cls(length, hashes, path, {"custom": custom} if custom is not None else None)

    @property
    def custom(self) -> Any:
        """The ``custom`` field: opaque application data, or None."""
        return self.unrecognized_fields.get("custom")

    def to_dict(self) -> dict[str, Any]:
        """Return the target file object (without the path, which is its key)."""
        return {"length": self.length, "hashes": self.hashes, **self.unrecognized_fields}

    def verify_length_and_hashes(self, data: bytes | IO[bytes]) -> None:
        """Check *data* against the length and every listed hash.

        Raises:
            LengthOrHashMismatchError: length or a hash differs.
            UnsupportedAlgorithmError: a listed hash algorithm is unknown (fails closed).
        """
        _verify(data, self.length, self.hashes, f"target {self.path[:80]!r}")

    def get_prefixed_name(self, hash_algorithm: str | None = None) -> str:
        """The consistent-snapshot file name: ``dir/<hash>.<name>`` for the given algorithm.

        Uses the first listed hash when *hash_algorithm* is None.
        """
        algorithm = hash_algorithm or next(iter(self.hashes))
        directory, sep, name = self.path.rpartition("/")
        return f"{directory}{sep}{self.hashes[algorithm]}.{name}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TargetFile)
            and self.path == other.path
            and self.to_dict() == other.to_dict()
        )

    def __hash__(self) -> int:
        return hash((self.path, self.length))

    def __repr__(self) -> str:
        return f"TargetFile(path={self.path!r}, length={self.length})"
