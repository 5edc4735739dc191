"""Role names a repository accepts, and the file names its metadata is published under.

A repository writes files named after roles, and static hosting maps URLs onto those files, so a
role name must be one path segment that no file system or web server reinterprets: no ``/`` or
``\\``, not ``.`` or ``..``, no leading dot (hidden files, temporary files), no NUL or other
control character. Two names that differ only in case would share a file on a case-insensitive
file system, so :func:`check_new_role_name` refuses a name that folds onto an existing one. Names
read from an adopted repository are checked by the same rule before any file is touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from tufkit.errors import ConfigError
from tufkit.metadata import TOP_LEVEL_ROLE_NAMES

__all__ = ["check_new_role_name", "check_role_name", "metadata_filename"]

_MAX_NAME = 200  # characters: leaves room for "<version>." and ".json" under common name limits


def check_role_name(name: object) -> str:
    """Return *name* if it is a role name that can safely become part of a file name.

    Raises:
        ConfigError: not a string, empty, too long, or holding a character or form that a file
            system or web server could reinterpret.
    """
    if not isinstance(name, str):
        raise ConfigError(f"a role name must be a string, not {type(name).__name__}")
    shown = repr(name[:60])
    if not name or len(name) > _MAX_NAME:
        raise ConfigError(f"role name {shown} must have 1 to {_MAX_NAME} characters")
    if "/" in name or "\\" in name:
        raise ConfigError(f"role name {shown} must not contain '/' or '\\'")
    if name.startswith("."):
        raise ConfigError(f"role name {shown} must not start with '.'")
    if not name.isprintable() or name != name.strip():
        raise ConfigError(
            f"role name {shown} must not contain control characters or surrounding spaces"
        )
    return name


def check_new_role_name(name: object, existing: Iterable[str]) -> str:
    """Check a name for a new delegated role against the rule and the roles already there.

    Raises:
        ConfigError: the name breaks :func:`check_role_name`, is a top-level role's name (in any
            case), or equals an existing role's name after case folding.
    """
    checked = check_role_name(name)
    folded = checked.casefold()
    if folded in {top.casefold() for top in TOP_LEVEL_ROLE_NAMES}:
        raise ConfigError(f"role name {checked!r} is taken by a top-level role")
    for other in existing:
        if other.casefold() == folded:
            raise ConfigError(
                f"role name {checked!r} collides with existing role {other!r} "
                "on case-insensitive file systems"
            )
    return checked


def metadata_filename(role: str, version: int | None) -> str:
    """``<version>.<role>.json`` for consistent snapshots, ``<role>.json`` otherwise."""
    return f"{role}.json" if version is None else f"{version}.{role}.json"
