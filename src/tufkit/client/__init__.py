"""The TUF client: the specification's update workflow over a cache directory and a fetcher.

Start with :class:`Updater`; :class:`UpdaterConfig` holds every limit; :class:`Fetcher` is the
network seam (tests and other transports implement it); :class:`HttpFetcher` (standard library)
is the default, :class:`Urllib3Fetcher` the alternative. This package never trusts a cache
directory silently: the trust anchor is given to the :class:`Updater` explicitly.
"""

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
