"""Key lifecycle of a repository: adding, removing and revoking keys, thresholds, expiry.

Every change is an ordinary edit of the delegating role (root for the top-level roles, the
delegating targets role for a delegated one), so it is signed and threshold-checked at publish
like any other edit; a new root needs the old root's threshold and its own. Whenever a role
loses a key or its threshold rises, the role itself is given a new version too, so that the
same publish re-signs it with the keys now authorised and no published version relies on the
removed key. The bins of a succinct delegation share one entry: naming any bin (or the bins'
name prefix) changes the keys of all of them, and re-signs all of them. This module generates
no keys and never reads private keys; it only changes which keys metadata authorises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tufkit.crypto import Key
from tufkit.errors import ConfigError
from tufkit.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    Delegations,
    Role,
    Root,
    Signed,
    SuccinctRoles,
    Targets,
)

if TYPE_CHECKING:
    from tufkit.repository._repository import Repository

__all__ = [
    "ExpiryWarning",
    "delegated_names",
    "expiring",
    "revoke_key",
    "rotate_keys",
    "walk_targets_roles",
]


@dataclass(frozen=True)
class ExpiryWarning:
    """A published role that expires within the horizon asked for.

    Attributes:
        role: the role's name.
        version: its published version.
        expires: when it expires.
        expired: True if it has expired already.
    """

    role: str
    version: int
    expires: datetime
    expired: bool


def delegated_names(delegations: Delegations) -> Iterator[str]:
    """Every role name *delegations* delegates to (all bins of a succinct delegation)."""
    if delegations.succinct_roles is not None:
        yield from delegations.succinct_roles.get_roles()
    else:
        yield from delegations.roles or {}


def walk_targets_roles(
    load: Callable[[str], Targets | None],
) -> Iterator[tuple[str, Targets]]:
    """Every targets role reachable from top-level targets, breadth first, each once.

    *load* gives a role's content, or None for a role that is delegated but does not exist (yet).
    """
    seen: set[str] = set()
    queue = ["targets"]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        signed = load(name)
        if signed is None:
            continue
        yield name, signed
        if signed.delegations is not None:
            queue.extend(delegated_names(signed.delegations))


def _targets_roles(repo: Repository) -> Iterator[tuple[str, Targets]]:
    """Every targets role as it will be published next, top-level first, each once."""

    def load(name: str) -> Targets | None:
        try:
            return repo.targets(name).signed
        except ConfigError:
            return None  # delegated in a pending edit: created empty by the next publish

    return walk_targets_roles(load)


def _resolve(repo: Repository, role: str) -> tuple[str, Role, list[str]]:
    """The delegator of *role*, the role entry holding its keys, and every role sharing it.

    A succinct delegation's bins share one entry: any bin's name, or the bins' name prefix,
    stands for all of them.

    Raises:
        ConfigError: no role of that name is delegated.
    """
    if role in TOP_LEVEL_ROLE_NAMES:
        return "root", repo.root.signed.get_delegated_role(role), [role]
    try:
        name, delegator = repo._delegator_of(role)  # cached: no walk for a known role
    except ConfigError:
        pass  # perhaps the name prefix of succinct bins
    else:
        entry = delegator.get_delegated_role(role)
        if isinstance(entry, SuccinctRoles):
            return name, entry, list(entry.get_roles())
        return name, entry, [role]
    for name, signed in _targets_roles(repo):
        bins = signed.delegations.succinct_roles if signed.delegations is not None else None
        if bins is not None and role == bins.name_prefix:
            return name, bins, list(bins.get_roles())
    raise ConfigError(f"no role {role[:80]!r} is delegated in this repository")


def _check_threshold(role: str, threshold: object, keys: int) -> int:
    if type(threshold) is not int or threshold < 1:
        raise ConfigError(f"the threshold of {role!r} must be a whole number >= 1")
    if threshold > keys:
        raise ConfigError(
            f"role {role!r} would have {keys} key{'' if keys == 1 else 's'} "
            f"for a threshold of {threshold}: it could never be signed"
        )
    return threshold


def _change(
    entry: Role,
    keys: dict[str, Key],
    role: str,
    add: list[Key],
    remove: list[str],
    threshold: int | None,
) -> bool:
    """Apply the change to a role entry and the delegator's key map; True if the role must be
    re-signed (it lost a key or its threshold rose)."""
    for key in add:
        if key.keyid in entry.keyids:
            raise ConfigError(f"key {key.keyid[:16]} is already a key of {role!r}")
        entry.keyids.append(key.keyid)
        keys[key.keyid] = key
    for keyid in remove:
        if keyid not in entry.keyids:
            raise ConfigError(f"key {keyid[:16]} is not a key of {role!r}")
        entry.keyids.remove(keyid)
    new_threshold = _check_threshold(
        role, entry.threshold if threshold is None else threshold, len(entry.keyids)
    )
    resign = bool(remove) or new_threshold > entry.threshold
    entry.threshold = new_threshold
    return resign


def _unused_keys(keys: dict[str, Key], entries: Iterable[Role]) -> None:
    used = {keyid for entry in entries for keyid in entry.keyids}
    for keyid in [k for k in keys if k not in used]:
        del keys[keyid]


def _entries(signed: Root | Targets) -> list[Role]:
    if isinstance(signed, Root):
        return list(signed.roles.values())
    delegations = signed.delegations
    if delegations is None:
        return []
    if delegations.succinct_roles is not None:
        return [delegations.succinct_roles]
    return list((delegations.roles or {}).values())


def rotate_keys(
    repo: Repository,
    role: str,
    *,
    add: Iterable[Key] = (),
    remove: Iterable[str] = (),
    threshold: int | None = None,
) -> list[str]:
    """Change *role*'s keys and threshold in one new version of its delegator.

    Returns:
        the roles given a new version to be re-signed with the keys now authorised.

    Raises:
        ConfigError: an unknown role, a key added twice or removed that the role does not
            list, or a threshold the remaining keys cannot meet (nothing is changed).
    """
    added, removed = list(add), list(remove)
    if not added and not removed and threshold is None:
        raise ConfigError(f"nothing to change for {role!r}: give keys to add or remove")
    delegator, _, affected = _resolve(repo, role)
    resign = False
    shown = role
    if delegator == "root":
        with repo.edit_root() as root:
            resign = _change(root.roles[role], root.keys, shown, added, removed, threshold)
            _unused_keys(root.keys, _entries(root))
    else:
        with repo.edit_targets(delegator) as signed:
            delegations = signed.delegations
            assert delegations is not None  # _resolve found the role in them
            entry = delegations.succinct_roles or (delegations.roles or {})[role]
            resign = _change(entry, delegations.keys, shown, added, removed, threshold)
            _unused_keys(delegations.keys, _entries(signed))
    if not resign:
        return []
    return _renew(repo, [r for r in affected if r != "root"])


def _renew(repo: Repository, roles: Iterable[str]) -> list[str]:
    """Give each published role without a pending edit a new version (signed at publish)."""
    renewed = []
    pending = set(repo.pending)
    for role in roles:
        if role not in pending and repo.published_version(role):
            repo.bump(role)
        renewed.append(role)
    return renewed


def revoke_key(repo: Repository, keyid: str) -> list[str]:
    """Remove *keyid* from every role that authorises it and re-sign each of those roles.

    The repository also stops signing with the key. A new root still needs the published
    root's threshold: if that cannot be met without the revoked key, the publish is refused,
    naming it; giving its signer again (:meth:`Repository.add_signer`) then lets it sign that
    transition only, as no other role authorises it any more.

    Returns:
        the roles given a new version (re-signed by the next publish).

    Raises:
        ConfigError: no role authorises the key, or a role would be left with fewer keys than
            its threshold (nothing is changed).
    """
    root = repo.root.signed
    top = [name for name, entry in root.roles.items() if keyid in entry.keyids]
    holders = [
        (name, signed)
        for name, signed in _targets_roles(repo)
        if signed.delegations is not None and keyid in signed.delegations.keys
    ]
    if not top and not holders:
        raise ConfigError(f"key {keyid[:16]} is not authorised for any role")
    for name in top:  # check every threshold first: nothing changes unless all can be met
        entry = root.roles[name]
        _check_threshold(name, entry.threshold, len(entry.keyids) - 1)
    for _, signed in holders:
        for entry in _entries(signed):
            if keyid in entry.keyids:
                _check_threshold(_entry_name(entry), entry.threshold, len(entry.keyids) - 1)
    affected: list[str] = []
    if top:
        with repo.edit_root() as new_root:
            for name in top:
                new_root.roles[name].keyids.remove(keyid)
            _unused_keys(new_root.keys, _entries(new_root))
        affected += [name for name in top if name != "root"]
    for name, _ in holders:
        with repo.edit_targets(name) as signed:
            delegations = signed.delegations
            assert delegations is not None
            for entry in _entries(signed):
                if keyid in entry.keyids:
                    entry.keyids.remove(keyid)
                    affected += _names_of(delegations, entry)
            delegations.keys.pop(keyid, None)
    repo.remove_signer(keyid)
    return ["root", *_renew(repo, affected)] if top else _renew(repo, affected)


def _entry_name(entry: Role) -> str:
    name = getattr(entry, "name", None)
    return name if isinstance(name, str) else f"{getattr(entry, 'name_prefix', '?')}-*"


def _names_of(delegations: Delegations, entry: Role) -> list[str]:
    if delegations.succinct_roles is entry:
        return list(delegations.succinct_roles.get_roles())
    return [_entry_name(entry)]


def expiring(repo: Repository, horizon: timedelta, now: datetime) -> list[ExpiryWarning]:
    """Published roles that expire before *now* + *horizon*, soonest first.

    Every targets role is read (all bins too), so this is for cron jobs and CI, not hot paths.
    """
    if horizon < timedelta(0):
        raise ConfigError("the expiry horizon must not be negative")
    limit = now + horizon
    published: list[tuple[str, Signed]] = [
        ("root", repo.published_root.signed),
        ("timestamp", repo.timestamp.signed),
        ("snapshot", repo.snapshot.signed),
    ]
    out = [
        ExpiryWarning(role, signed.version, signed.expires, signed.expires <= now)
        for role, signed in published
        if signed.expires <= limit
    ]
    for role, signed in repo.published_targets_roles():
        if signed.expires <= limit:
            out.append(ExpiryWarning(role, signed.version, signed.expires, signed.expires <= now))
    return sorted(out, key=lambda warning: (warning.expires, warning.role))
