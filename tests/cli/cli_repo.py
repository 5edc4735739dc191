"""A small TUF repository for command-line tests, built with tufkit's metadata API, served from
memory on 127.0.0.1.

Role names, target paths and custom fields can be anything, hostile ones included: the server
answers the exact (percent-quoted) request paths the client makes, so no name ever touches the
file system here. Target bodies can be trickled, to interrupt a download half-way.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tufkit.crypto import CryptoSigner, generate
from tufkit.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

TUFKIT = [sys.executable, "-m", "tufkit"]


def tufkit(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``tufkit ARGS`` as a user does, in a fresh process."""
    return subprocess.run(
        [*TUFKIT, *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        cwd=cwd,
        timeout=120,
    )


def _expiry(days: int = 30) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


@dataclass
class Repo:
    """A consistent-snapshot repository: top-level roles, delegations and targets."""

    signers: dict[str, CryptoSigner] = field(default_factory=dict)
    roles: dict[str, Targets] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)  # target path -> content

    def __post_init__(self) -> None:
        for role in ("root", "timestamp", "snapshot", "targets"):
            self.signers[role] = generate("ed25519")
        self.root = Root(expires=_expiry(), consistent_snapshot=True)
        for role in ("root", "timestamp", "snapshot", "targets"):
            self.root.add_key(self.signers[role].public_key, role)
        self.roles["targets"] = Targets(expires=_expiry())

    def delegate(self, name: str, patterns: list[str], parent: str = "targets") -> None:
        signer = generate("ed25519")
        key = signer.public_key
        delegator = self.roles[parent]
        if delegator.delegations is None:
            delegator.delegations = Delegations({}, {})
        assert delegator.delegations.roles is not None
        delegator.delegations.keys[key.keyid] = key
        delegator.delegations.roles[name] = DelegatedRole(name, [key.keyid], 1, False, patterns)
        self.signers[name] = signer
        self.roles[name] = Targets(expires=_expiry())

    def add_target(
        self, path: str, data: bytes, role: str = "targets", custom: dict[str, Any] | None = None
    ) -> None:
        info = TargetFile.from_data(path, data, ("sha256",), custom=custom)
        self.roles[role].targets[path] = info
        self.blobs[path] = data

    def root_bytes(self) -> bytes:
        md = Metadata(self.root)
        md.sign(self.signers["root"])
        return md.to_bytes()

    def files(self) -> dict[str, bytes]:
        """Every file the repository serves, by request path."""
        out = {"/metadata/1.root.json": self.root_bytes()}
        snapshot = Snapshot(expires=_expiry())
        for name, targets in self.roles.items():
            md = Metadata(targets)
            md.sign(self.signers[name])
            data = md.to_bytes()
            out[f"/metadata/1.{quote(name, safe='')}.json"] = data
            snapshot.meta[f"{name}.json"] = MetaFile(1)
        snapshot_md = Metadata(snapshot)
        snapshot_md.sign(self.signers["snapshot"])
        out["/metadata/1.snapshot.json"] = snapshot_md.to_bytes()
        timestamp = Timestamp(expires=_expiry())
        timestamp.snapshot_meta = MetaFile(1)
        timestamp_md = Metadata(timestamp)
        timestamp_md.sign(self.signers["timestamp"])
        out["/metadata/timestamp.json"] = timestamp_md.to_bytes()
        for path, data in self.blobs.items():
            *folders, name = path.split("/")
            digest = hashlib.sha256(data).hexdigest()
            segments = [*folders, f"{digest}.{name}"]
            out["/targets/" + "/".join(quote(s, safe="") for s in segments)] = data
        return out

    def write_role(self, directory: Path, name: str) -> Path:
        """Write role *name*'s signed metadata to *directory* (for ``tufkit metadata``)."""
        if name == "root":
            data = self.root_bytes()
        else:
            md = Metadata(self.roles[name])
            md.sign(self.signers[name])
            data = md.to_bytes()
        path = directory / f"{len(list(directory.iterdir()))}.json"
        path.write_bytes(data)
        return path


@dataclass
class Trickle:
    """Serve target bodies slowly: *first* bytes at once, then *step* bytes every *delay* s."""

    first: int = 64 * 1024
    step: int = 16 * 1024
    delay: float = 0.25
    started: threading.Event = field(default_factory=threading.Event)


@contextmanager
def serve(files: dict[str, bytes], trickle: Trickle | None = None) -> Iterator[Server]:
    """Serve *files* (request path -> body) on 127.0.0.1 while the block runs."""
    server = Server(files, trickle)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=10)


class Server:
    """A threaded HTTP server over a dict of files; records the paths requested."""

    def __init__(self, files: dict[str, bytes], trickle: Trickle | None) -> None:
        self.files = files
        self.trickle = trickle
        self.requests: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                trickle = server.trickle
                if trickle is None or not self.path.startswith("/targets/"):
                    self.wfile.write(data)
                    return
                try:
                    self._trickle(data, trickle)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went away

            def _trickle(self, data: bytes, trickle: Trickle) -> None:
                self.wfile.write(data[: trickle.first])
                self.wfile.flush()
                trickle.started.set()
                for start in range(trickle.first, len(data), trickle.step):
                    time.sleep(trickle.delay)
                    self.wfile.write(data[start : start + trickle.step])
                    self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
