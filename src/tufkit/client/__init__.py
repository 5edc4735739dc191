"""The TUF client: the specification's update workflow over a cache directory and a fetcher.

Start with :class:`Updater`; :class:`UpdaterConfig` holds every limit; :class:`Fetcher` is the
network seam (tests and other transports implement it); :class:`HttpFetcher` (HTTP/1.1 through
h11) is the default, :class:`Urllib3Fetcher` the alternative. This package never trusts a cache
directory silently: the trust anchor is given to the :class:`Updater` explicitly.

Names are imported on first use, so a program that needs one module (``tufkit.client.cache``
for ``init``, say) does not load the updater, the metadata layer and the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tufkit.client.config import UpdaterConfig
    from tufkit.client.fetcher import Fetcher, HttpFetcher, Urllib3Fetcher
    from tufkit.client.updater import RoleVisit, TargetLookup, Updater

__all__ = [
    "Fetcher",
    "HttpFetcher",
    "RoleVisit",
    "TargetLookup",
    "Updater",
    "UpdaterConfig",
    "Urllib3Fetcher",
]

# public name -> the module defining it
_HOMES = {
    "Fetcher": "tufkit.client.fetcher",
    "HttpFetcher": "tufkit.client.fetcher",
    "RoleVisit": "tufkit.client.updater",
    "TargetLookup": "tufkit.client.updater",
    "Updater": "tufkit.client.updater",
    "UpdaterConfig": "tufkit.client.config",
    "Urllib3Fetcher": "tufkit.client.fetcher",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tufkit.client' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(home), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("_"))})
