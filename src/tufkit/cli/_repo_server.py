"""A static HTTP server for a repository under development, on 127.0.0.1 only.

It answers GET and HEAD for regular files below ``<repo>/metadata/`` and ``<repo>/targets/``
and nothing else: never the configuration, keys, journal or staged roles beside them, never a
directory listing, never a file reached through ``..`` or a symbolic link leading out of those
two directories. It is for trying a repository with a client on the same machine; production
hosting is any static web server pointed at the same two directories.
"""

from __future__ import annotations

import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["make_server"]

_SERVED = ("metadata", "targets")


def make_server(repo_dir: Path, port: int) -> ThreadingHTTPServer:
    """A server for *repo_dir* bound to 127.0.0.1:*port* (0: any free port).

    Raises:
        OSError: the port is taken.
    """
    base = repo_dir.resolve()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(base), **kwargs)

        def translate_path(self, path: str) -> str:
            parts = unquote(urlsplit(path).path).split("/")
            segments = [p for p in parts if p]
            if (
                len(segments) < 2
                or segments[0] not in _SERVED
                or any(s in (".", "..") or "\\" in s or "\0" in s for s in segments)
            ):
                return ""
            top = (base / segments[0]).resolve()
            candidate = (top / "/".join(segments[1:])).resolve()
            if top not in candidate.parents or not candidate.is_file():
                return ""
            return str(candidate)

        def list_directory(self, path: str | os.PathLike[str]) -> None:
            self.send_error(404, "Not Found")
            return

        def send_head(self) -> Any:
            if not self.translate_path(self.path):
                self.send_error(404, "Not Found")
                return None
            return super().send_head()

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: a development server, the client says what it fetched

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
