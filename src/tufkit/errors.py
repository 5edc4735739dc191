"""The tufkit error tree.

Every error tufkit raises on purpose derives from :class:`Error`. The subtrees say who is at fault:

* :class:`RepositoryError`: a repository (or whoever sits between it and us) served bad or hostile
  data: unsigned, expired, rolled back, wrong length or hash, malformed.
* :class:`DownloadError`: the transport failed.
* :class:`StorageError`: the server's storage failed.
* :class:`SupplyChainError`: in-toto evidence does not satisfy a layout.
* :class:`ConfigError`: the user gave a bad key file, option or setting.
* :class:`TargetNotFoundError`: nobody is at fault: the trusted metadata does not list a target.

Caller misuse (wrong argument types, calling methods out of order) raises the built-in
``ValueError``/``TypeError``/``RuntimeError`` and is deliberately outside this tree.

This module does not log, print or translate foreign exceptions; the boundaries that catch
third-party errors raise these with ``from``.
"""

from __future__ import annotations

__all__ = [
    "BadVersionNumberError",
    "ConfigError",
    "DownloadError",
    "DownloadHTTPError",
    "DownloadLengthMismatchError",
    "EqualVersionNumberError",
    "Error",
    "ExpiredMetadataError",
    "FormatError",
    "LengthOrHashMismatchError",
    "RepositoryError",
    "SlowRetrievalError",
    "StorageError",
    "SupplyChainError",
    "TargetNotFoundError",
    "UnsignedMetadataError",
    "UnsupportedAlgorithmError",
]


class Error(Exception):
    """Root of every error tufkit raises on purpose."""

    def diagnostics(self) -> str:
        """Return a text for people: what went wrong and, where known, what to do."""
        name = type(self).__name__
        message = str(self) or "no details"
        return f"{name}: {message}"


class RepositoryError(Error):
    """A repository served bad, hostile or inconsistent data."""


class FormatError(RepositoryError):
    """Data does not have the required format: bad JSON, a missing or wrongly typed field."""


class UnsignedMetadataError(RepositoryError):
    """Metadata is not signed by a threshold of the keys authorised for it."""


class BadVersionNumberError(RepositoryError):
    """A version number is not the one expected (rollback or mismatch)."""


class EqualVersionNumberError(BadVersionNumberError):
    """New metadata has the same version as the trusted one."""


class ExpiredMetadataError(RepositoryError):
    """Metadata has expired at the reference time."""


class LengthOrHashMismatchError(RepositoryError):
    """Downloaded bytes do not have the length or hashes the trusted metadata gives."""


class UnsupportedAlgorithmError(RepositoryError):
    """A hash algorithm, key type or signature scheme is unknown to tufkit."""


class DownloadError(Error):
    """Fetching data over the network failed."""


class DownloadLengthMismatchError(DownloadError):
    """The server sent more bytes than allowed."""


class SlowRetrievalError(DownloadError):
    """The server sent data slower than the minimum average speed, or timed out."""


class DownloadHTTPError(DownloadError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class StorageError(Error):
    """The server's metadata storage failed or refused an operation."""


class SupplyChainError(Error):
    """in-toto verification failed: the evidence does not satisfy the layout."""


class ConfigError(Error):
    """User input is wrong: a bad key file, option, URI or setting."""


class TargetNotFoundError(Error):
    """The trusted metadata does not list the requested target.

    Not a :class:`RepositoryError`: the repository is not at fault for lacking a file nobody
    said it had.
    """
