"""The loader of link files: a link directory seen as the ``links`` a verification reads.

:func:`~tufkit.intoto.verify_supply_chain` asks for links by relative path
(``<step>.<keyid8>.link``, and ``<step>.<keyid8>/<inner>.<keyid8>.link`` inside a sublayout's
directory); a :class:`LinkDirectory` answers by reading that file under its root, only when asked,
so files are read in the reference's order and nothing the layout does not name is opened. Only
regular files of bounded size are read: a FIFO, a device or a directory counts as no file (as
an unreadable file does in the reference), never a hang; a file over the bound is an error. A plain
``dict`` of already parsed envelopes serves the same purpose when links come from elsewhere (a
download, an archive). This module does not verify anything.
"""

from __future__ import annotations

import errno
import logging
import os

from tufkit._atomic import read_bounded
from tufkit.errors import Error
from tufkit.intoto._envelope import DEFAULT_MAX_METADATA_BYTES, Envelope, load_metadata
from tufkit.intoto._errors import InvalidMetadataError
from tufkit.intoto._files import check_name

__all__ = ["LinkDirectory"]

_LOG = logging.getLogger(__name__)


class LinkDirectory:
    """The link files under one directory, read on demand (each at most once).

    Args:
        root: the link directory (``--link-dir``).
        max_bytes: larger files are refused.
    """

    def __init__(
        self, root: str | os.PathLike[str] = ".", *, max_bytes: int = DEFAULT_MAX_METADATA_BYTES
    ) -> None:
        self.root = os.fspath(root)
        self.max_bytes = max_bytes
        self._cache: dict[str, Envelope | None] = {}

    def get(self, relative: str) -> Envelope | None:
        """The envelope in the file at *relative* (``/``-separated), or None if there is none.

        Raises:
            InvalidMetadataError: the path has an unsafe component, or the file is too large or
                is not valid in-toto metadata (named with its path).
        """
        if relative not in self._cache:
            parts = [check_name(part, "link path component") for part in relative.split("/")]
            path = os.path.join(self.root, *parts)
            data = self._read(path)
            envelope = None
            if data is not None:
                try:
                    envelope = load_metadata(data, max_bytes=self.max_bytes)
                except Error as exc:
                    raise InvalidMetadataError(f"{path}: {exc}") from exc
            self._cache[relative] = envelope
        return self._cache[relative]

    def _read(self, path: str) -> bytes | None:
        try:
            return read_bounded(path, self.max_bytes)
        except OSError as exc:
            if exc.errno == errno.EFBIG:
                raise InvalidMetadataError(f"{path}: {exc.strerror}") from exc
            if not isinstance(exc, FileNotFoundError):
                _LOG.info("%s skipped: %s", path, exc.strerror or exc)
            return None
