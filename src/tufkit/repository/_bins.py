"""Hashed bins: spreading many targets over delegated roles by the hash of their paths.

Succinct bins (TAP 15) delegate to ``2**bit_length`` roles named ``<prefix>-<hex>`` in one
``succinct_roles`` entry; classic bins list each role with its ``path_hash_prefixes``. Either may
sit below top-level targets or below any delegated role (bins for one project's files). The
bins are created empty by the next publish and filled through :meth:`Repository.add_targets`,
which finds each target's bin. This module only builds the delegation objects.
"""

from __future__ import annotations

from tufkit.crypto import Key
from tufkit.errors import ConfigError
from tufkit.metadata import DelegatedRole, Delegations, SuccinctRoles
from tufkit.repository._names import check_role_name

__all__ = ["classic_bins", "succinct_bins"]


def _keys_and_ids(keys: list[Key], threshold: int) -> tuple[dict[str, Key], list[str]]:
    if not keys:
        raise ConfigError("hashed bins need at least one key")
    if type(threshold) is not int or not 1 <= threshold <= len(keys):
        raise ConfigError(f"a bins threshold must be between 1 and {len(keys)}, not {threshold}")
    by_id = {key.keyid: key for key in keys}
    return by_id, list(by_id)


def succinct_bins(
    keys: list[Key], *, bit_length: int, name_prefix: str, threshold: int = 1
) -> Delegations:
    """A TAP 15 delegation to ``2**bit_length`` bins signed by *keys*.

    Raises:
        ConfigError: *bit_length* outside 1..32, a bad threshold, no keys, a bad prefix.
    """
    if type(bit_length) is not int or not 1 <= bit_length <= 32:
        raise ConfigError(f"bit_length must be between 1 and 32, not {bit_length}")
    check_role_name(f"{name_prefix}-0")
    by_id, keyids = _keys_and_ids(keys, threshold)
    bins = SuccinctRoles(keyids, threshold, bit_length=bit_length, name_prefix=name_prefix)
    return Delegations(by_id, succinct_roles=bins)


def classic_bins(
    keys: list[Key], *, number_of_bins: int, name_prefix: str, threshold: int = 1
) -> Delegations:
    """Classic hashed bins: *number_of_bins* (a power of two, 2..65536) roles, each with a
    contiguous range of SHA-256 path-hash prefixes, named ``<prefix>-<first>-<last>`` (or
    ``<prefix>-<first>`` when a bin holds one prefix).

    Raises:
        ConfigError: a bin count that is not a power of two in range, a bad threshold or prefix.
    """
    if type(number_of_bins) is not int or not 2 <= number_of_bins <= 65536:
        raise ConfigError(f"number_of_bins must be between 2 and 65536, not {number_of_bins}")
    if number_of_bins & (number_of_bins - 1):
        raise ConfigError(f"number_of_bins must be a power of two, not {number_of_bins}")
    by_id, keyids = _keys_and_ids(keys, threshold)
    digits = len(f"{number_of_bins - 1:x}")
    per_bin = 16**digits // number_of_bins
    roles: dict[str, DelegatedRole] = {}
    for index in range(number_of_bins):
        prefixes = [f"{p:0{digits}x}" for p in range(index * per_bin, (index + 1) * per_bin)]
        suffix = prefixes[0] if len(prefixes) == 1 else f"{prefixes[0]}-{prefixes[-1]}"
        name = f"{name_prefix}-{suffix}"
        roles[name] = DelegatedRole(
            name, list(keyids), threshold, False, path_hash_prefixes=prefixes
        )
    check_role_name(next(iter(roles)))
    return Delegations(by_id, roles)
