"""Building and publishing TUF repositories.

:class:`Repository` edits, signs and publishes a repository's metadata over a :class:`Storage`
(:class:`FilesystemStorage` for static hosting, :class:`MemoryStorage` for tests). Publishing is
journalled and ordered so that clients never see a half-published state. This package does not
fetch anything and never imports the client: a repository is checked by the same metadata rules
the client applies, from the metadata package.
"""

from tufkit.repository._bins import classic_bins, succinct_bins
from tufkit.repository._lifecycle import ExpiryWarning
from tufkit.repository._names import check_new_role_name, check_role_name, metadata_filename
from tufkit.repository._policy import ExpiryPolicy
from tufkit.repository._repository import Repository
from tufkit.repository._staging import (
    Authorisation,
    StagedRole,
    ThresholdStatus,
    read_staged,
    sign_staged,
)
from tufkit.repository._storage import Storage
from tufkit.repository._target_files import Source, check_target_path, hash_sources
from tufkit.repository._verify import (
    PROBLEM_KINDS,
    Problem,
    RepositoryReport,
    get_repository_result,
    verify_repository,
)
from tufkit.repository.filesystem import FilesystemStorage
from tufkit.repository.memory import MemoryStorage

__all__ = [
    "PROBLEM_KINDS",
    "Authorisation",
    "ExpiryPolicy",
    "ExpiryWarning",
    "FilesystemStorage",
    "MemoryStorage",
    "Problem",
    "Repository",
    "RepositoryReport",
    "Source",
    "StagedRole",
    "Storage",
    "ThresholdStatus",
    "check_new_role_name",
    "check_role_name",
    "check_target_path",
    "classic_bins",
    "get_repository_result",
    "hash_sources",
    "metadata_filename",
    "read_staged",
    "sign_staged",
    "succinct_bins",
    "verify_repository",
]
