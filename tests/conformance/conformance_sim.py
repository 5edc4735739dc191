"""A TUF repository served over real HTTP on 127.0.0.1, for driving the conformance executable.

The repository holds the *current* metadata objects (python-tuf 7.0.1 is the test-only builder,
the same library tuf-conformance builds its repositories with) and, per role, the list of
*published* byte strings; version N of a role is the N-th published document. Tests mutate
the current objects, then :meth:`Repository.publish` signs and serialises them (indented,
sorted JSON: deliberately not canonical on the wire) and records them in snapshot/timestamp.

The defaults are tuf-conformance's: consistent snapshots on, one ecdsa key per top-level role,
metafile hashes and lengths off, targets fetched as ``<dir>/<sha256>.<name>``.

Every request is recorded twice: :attr:`Repository.requests` as ``(role, version)`` the way
the suite counts metadata requests (the role name as it appeared in the URL, still quoted;
``None`` for unversioned names) and :attr:`Repository.paths` as the raw URL paths, so a test
can also see requests the suite's bookkeeping would not count.

This module does not run a client; see ``conformance_runner``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Key, Signer
from tuf.api.metadata import (
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
from tuf.api.serialization.json import JSONSerializer

TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")
_NOT_DELEGATED = frozenset({"root", "timestamp", "snapshot"})


def days_from_now(days: float) -> datetime:
    """A whole-second UTC time *days* from now (negative for the past)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def new_signer(keytype: str = "ecdsa", scheme: str = "ecdsa-sha2-nistp256") -> CryptoSigner:
    """A freshly generated signer of the given key type and scheme."""
    if keytype == "ecdsa":
        return CryptoSigner.generate_ecdsa()
    if keytype == "ed25519":
        return CryptoSigner.generate_ed25519()
    if keytype == "rsa":
        return CryptoSigner.generate_rsa(scheme=scheme)
    raise ValueError(f"unsupported key type {keytype}")


def recompute_keyid(key: Key) -> None:
    """Give *key* the keyid of its current content (after fields were added to it)."""
    encoded = encode_canonical(key.to_dict())
    assert encoded is not None
    key.keyid = hashlib.sha256(encoded.encode()).hexdigest()


@dataclass
class Artifact:
    """A target file the repository serves and the TargetFile that describes it."""

    data: bytes
    info: TargetFile


@dataclass
class Repository:
    """One simulated repository (see the module docstring)."""

    mds: dict[str, Metadata[Any]] = field(default_factory=dict)
    published: dict[str, list[bytes]] = field(default_factory=dict)
    signers: dict[str, dict[str, Signer]] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    hashes_in_meta: bool = False
    requests: list[tuple[str, int | None]] = field(default_factory=list)
    artifact_requests: list[tuple[str, str | None]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    safe_expiry: datetime = field(default_factory=lambda: days_from_now(30))

    def __post_init__(self) -> None:
        self.mds["root"] = Metadata(Root(expires=self.safe_expiry))
        self.mds["timestamp"] = Metadata(Timestamp(expires=self.safe_expiry))
        self.mds["snapshot"] = Metadata(Snapshot(expires=self.safe_expiry))
        self.mds["targets"] = Metadata(Targets(expires=self.safe_expiry))
        for role in TOP_LEVEL:
            self.add_key(role)
        self.publish(["targets", "snapshot", "timestamp", "root"])

    # -- the current objects ---------------------------------------------------------------

    @property
    def root(self) -> Root:
        signed = self.mds["root"].signed
        assert isinstance(signed, Root)
        return signed

    @property
    def timestamp(self) -> Timestamp:
        signed = self.mds["timestamp"].signed
        assert isinstance(signed, Timestamp)
        return signed

    @property
    def snapshot(self) -> Snapshot:
        signed = self.mds["snapshot"].signed
        assert isinstance(signed, Snapshot)
        return signed

    @property
    def targets(self) -> Targets:
        return self.any_targets("targets")

    def any_targets(self, role: str) -> Targets:
        signed = self.mds[role].signed
        assert isinstance(signed, Targets)
        return signed

    # -- keys ------------------------------------------------------------------------------

    def add_signer(self, role: str, signer: Signer) -> None:
        """Sign *role* with *signer* from now on (the key is not added to any delegator)."""
        self.signers.setdefault(role, {})[signer.public_key.keyid] = signer

    def add_key(
        self, role: str, delegator: str = "root", signer: CryptoSigner | None = None
    ) -> CryptoSigner:
        """Add a key for *role* to *delegator* (a new ecdsa key unless given) and sign with it."""
        signer = signer if signer is not None else new_signer()
        self.append_keyid(role, signer.public_key, delegator)
        self.add_signer(role, signer)
        return signer

    def append_keyid(self, role: str, key: Key, delegator: str = "root") -> None:
        """Append *key*'s keyid to *role*'s keyids in *delegator*, even if already listed."""
        signed = self.mds[delegator].signed
        if isinstance(signed, Root):
            signed.keys[key.keyid] = key
            signed.roles[role].keyids.append(key.keyid)
            return
        assert isinstance(signed, Targets)
        assert signed.delegations is not None
        assert signed.delegations.keys is not None
        assert signed.delegations.roles is not None
        signed.delegations.keys[key.keyid] = key
        signed.delegations.roles[role].keyids.append(key.keyid)

    def rotate_keys(self, role: str) -> None:
        """Replace every key of top-level *role* with *threshold* new ones."""
        self.root.roles[role].keyids.clear()
        self.signers[role].clear()
        for _ in range(self.root.roles[role].threshold):
            self.add_key(role)

    # -- publishing ------------------------------------------------------------------------

    def publish(self, roles: Iterable[str], *, check_version: bool = True) -> None:
        """Sign and serialise each role in order, bumping its version if already published.

        A published targets role is recorded in snapshot's meta and a published snapshot in
        timestamp's meta (with hashes and length if :attr:`hashes_in_meta`).
        """
        for role in roles:
            md = self.mds[role]
            history = self.published.setdefault(role, [])
            if history:
                md.signed.version += 1
            if check_version and md.signed.version != len(history) + 1:
                raise ValueError(
                    f"{role} v{md.signed.version} would be published as {role} "
                    f"v{len(history) + 1}; pass check_version=False"
                )
            md.signatures.clear()
            for signer in self.signers.get(role, {}).values():
                md.sign(signer, append=True)
            data = md.to_bytes(JSONSerializer())
            history.append(data)
            length, hashes = None, None
            if self.hashes_in_meta:
                length, hashes = len(data), {"sha256": hashlib.sha256(data).hexdigest()}
            if role == "snapshot":
                self.timestamp.snapshot_meta = MetaFile(md.signed.version, length, hashes)
            elif role not in _NOT_DELEGATED:
                self.snapshot.meta[f"{role}.json"] = MetaFile(md.signed.version, length, hashes)

    def latest(self, role: str) -> bytes:
        """The newest published bytes of *role*."""
        return self.published[role][-1]

    # -- content ---------------------------------------------------------------------------

    def add_artifact(
        self, role: str, data: bytes, path: str, algos: Iterable[str] = ("sha256",)
    ) -> TargetFile:
        """List *data* as *path* in *role* (not yet published) and serve it."""
        info = TargetFile.from_data(path, data, list(algos))
        self.any_targets(role).targets[path] = info
        self.artifacts[path] = Artifact(data, info)
        return info

    def add_delegation(
        self,
        delegator: str,
        role: DelegatedRole,
        targets: Targets | None = None,
        *,
        signer: CryptoSigner | None = None,
    ) -> CryptoSigner:
        """Delegate from *delegator* to *role* with one new key; create the role if new."""
        delegating = self.any_targets(delegator)
        if delegating.delegations is None:
            delegating.delegations = Delegations({}, roles={})
        assert delegating.delegations.roles is not None
        delegating.delegations.roles[role.name] = role
        signer = signer if signer is not None else new_signer()
        self.append_keyid(role.name, signer.public_key, delegator)
        self.add_signer(role.name, signer)
        if role.name not in self.mds:
            self.mds[role.name] = Metadata(targets or Targets(expires=self.safe_expiry))
        return signer

    # -- serving ---------------------------------------------------------------------------

    def serve(self, path: str) -> bytes | None:
        """The bytes for a URL path below the repository (``metadata/...``, ``targets/...``)."""
        self.paths.append(path)
        if path.startswith("metadata/") and path.endswith(".json"):
            return self._serve_metadata(path[len("metadata/") : -len(".json")])
        if path.startswith("targets/"):
            return self._serve_target(path[len("targets/") :])
        return None

    def _serve_metadata(self, name: str) -> bytes | None:
        prefix, _, role = name.partition(".")
        version: int | None
        if role == "root" or (self.root.consistent_snapshot and name != "timestamp"):
            if not prefix.isdigit():
                return None
            version = int(prefix)
        else:
            role, version = name, None
        self.requests.append((role, version))
        history = self.published.get(unquote(role), [])
        if not history:
            return None
        if version is None:
            return history[-1]
        if not 1 <= version <= len(history):
            return None
        return history[version - 1]

    def _serve_target(self, target: str) -> bytes | None:
        directory, sep, filename = target.rpartition("/")
        digest: str | None = None
        if self.root.consistent_snapshot:
            digest, _, filename = filename.partition(".")
        path = f"{directory}{sep}{filename}"
        self.artifact_requests.append((path, digest))
        artifact = self.artifacts.get(path)
        if artifact is None:
            return None
        if digest is not None and digest not in artifact.info.hashes.values():
            return None
        return artifact.data


@dataclass(frozen=True)
class Endpoints:
    """Where a client finds one repository, and the root it starts from."""

    metadata_url: str
    targets_url: str
    trusted_root: bytes


class _Handler(BaseHTTPRequestHandler):
    server: RepositoryServer

    def do_GET(self) -> None:
        name, _, rest = self.path.lstrip("/").partition("/")
        data = self.server.lookup(unquote(name), rest)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


class RepositoryServer(ThreadingHTTPServer):
    """An HTTP/1.0 server on 127.0.0.1 serving many repositories, one per test name.

    Simulated repositories live under ``/<quoted test name>/``; static repositories (a
    directory with ``metadata/`` and ``targets/``) under ``/static/<name>/``.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._lock = threading.Lock()
        self._repos: dict[str, Repository] = {}
        self._static: dict[str, Path] = {}
        self.static_paths: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    def new_repository(self, name: str) -> tuple[Endpoints, Repository]:
        """A fresh simulated repository for test *name* and how a client reaches it."""
        repo = Repository()
        with self._lock:
            self._repos[name] = repo
        base = f"{self.base_url}/{quote(name, safe='')}"
        return Endpoints(f"{base}/metadata/", f"{base}/targets/", repo.published["root"][0]), repo

    def add_static(self, name: str, directory: Path) -> Endpoints:
        """Serve *directory* as a static repository."""
        with self._lock:
            self._static[name] = directory
        base = f"{self.base_url}/static/{name}"
        root = (directory / "initial_root.json").read_bytes()
        return Endpoints(f"{base}/metadata/", f"{base}/targets/", root)

    def lookup(self, name: str, rest: str) -> bytes | None:
        with self._lock:
            if name == "static":
                static_name, _, inner = rest.partition("/")
                self.static_paths.append(rest)
                directory = self._static.get(static_name)
                if directory is None:
                    return None
                candidate = (directory / inner).resolve()
                if directory.resolve() not in candidate.parents or not candidate.is_file():
                    return None
                return candidate.read_bytes()
            repo = self._repos.get(name)
            if repo is None:
                return None
            return repo.serve(rest)

    def close(self) -> None:
        self.shutdown()
        self.server_close()
