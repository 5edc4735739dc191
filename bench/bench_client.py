"""Benchmark: the TUF client, tufkit vs python-tuf 7.0.1's ngclient, as whole processes.

Workloads (issue 3), each a repository with consistent snapshots, ed25519 keys, built once with
python-tuf's Metadata API and cached under ``bench/.cache/``:

* ``a``: 10,000 targets in top-level targets;
* ``b``: 100,000 targets in 256 succinct bins;
* ``c``: 100,000 targets in 16,384 succinct bins;
* ``d``: a chain of 30 root rotations (trusted root v1, repository at v31), 10 targets.

Each client runs in a fresh process (interpreter start and imports count, as a user sees it):
from a trusted root to one 1 KiB target downloaded, **cold** (empty cache, bootstrap root v1)
and **warm** (the same cache again, no repository change, trusting the cached root). Both talk
to the same HTTP/1.1 server on 127.0.0.1 (keep-alive, TCP_NODELAY), which counts requests and
response bytes (headers included). Times are medians over ``--repeat`` runs.

Run alone: ``.venv/bin/python bench/bench_client.py [--workloads a,b,c,d] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

CACHE = Path(__file__).resolve().parent / ".cache"
FORMAT = 1  # bump to rebuild cached repositories
EXPIRES = datetime(2099, 1, 1, tzinfo=UTC)
TARGET_LENGTH = 1024  # bytes


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    targets: int
    bins: int  # 0: every target in top-level targets
    rotations: int
    wanted: str  # the target downloaded


WORKLOADS = {
    "a": Workload("a", "10,000 targets, top-level", 10_000, 0, 0, "files/pkg-0005432.bin"),
    "b": Workload("b", "100,000 targets, 256 bins", 100_000, 256, 0, "files/pkg-0054321.bin"),
    "c": Workload("c", "100,000 targets, 16,384 bins", 100_000, 16_384, 0, "files/pkg-0054321.bin"),
    "d": Workload("d", "30 root rotations", 10, 0, 30, "files/pkg-0000007.bin"),
}


# -- building (python-tuf's Metadata API) ---------------------------------------------------


def _content(path: str) -> bytes:
    seed = hashlib.sha256(path.encode()).digest()
    return (seed * (TARGET_LENGTH // len(seed) + 1))[:TARGET_LENGTH]


def build(work: Workload, out: Path) -> None:
    """Write the repository of *work* under *out* (``metadata/``, ``targets/``, ``root-1.json``)."""
    from securesystemslib.signer import CryptoSigner
    from tuf.api.metadata import (
        Delegations,
        Metadata,
        MetaFile,
        Root,
        Snapshot,
        SuccinctRoles,
        TargetFile,
        Targets,
        Timestamp,
    )

    meta_dir, target_dir = out / "metadata", out / "targets"
    meta_dir.mkdir(parents=True)
    target_dir.mkdir()
    signers = {role: CryptoSigner.generate_ed25519() for role in ("timestamp", "snapshot")}
    signers["targets"] = CryptoSigner.generate_ed25519()
    root_signer = CryptoSigner.generate_ed25519()
    root = Metadata(Root(expires=EXPIRES, consistent_snapshot=True))
    for role, signer in signers.items():
        root.signed.add_key(signer.public_key, role)
    root.signed.add_key(root_signer.public_key, "root")
    root.sign(root_signer)
    (meta_dir / "1.root.json").write_bytes(root.to_bytes())
    shutil.copy(meta_dir / "1.root.json", out / "root-1.json")
    for _ in range(work.rotations):  # each new root signed by the old and the new root key
        new_signer = CryptoSigner.generate_ed25519()
        root.signed.revoke_key(root_signer.public_key.keyid, "root")
        root.signed.add_key(new_signer.public_key, "root")
        root.signed.version += 1
        root.signatures.clear()
        root.sign(root_signer, append=True)
        root.sign(new_signer, append=True)
        (meta_dir / f"{root.signed.version}.root.json").write_bytes(root.to_bytes())
        root_signer = new_signer

    top = Targets(expires=EXPIRES)
    roles: dict[str, Targets] = {"targets": top}
    succinct = None
    if work.bins:
        bins_signer = CryptoSigner.generate_ed25519()
        bit_length = work.bins.bit_length() - 1
        succinct = SuccinctRoles([], 1, bit_length, "bin")
        top.delegations = Delegations({}, succinct_roles=succinct)
        top.add_key(bins_signer.public_key)
        for name in succinct.get_roles():
            roles[name] = Targets(expires=EXPIRES)
            signers[name] = bins_signer
    for i in range(work.targets):
        path = f"files/pkg-{i:07d}.bin"
        if path == work.wanted:
            info = TargetFile.from_data(path, _content(path), ["sha256"])
            folder = target_dir / "files"
            folder.mkdir()
            (folder / f"{info.hashes['sha256']}.pkg-{i:07d}.bin").write_bytes(_content(path))
        else:  # metadata only: the bytes of these targets are never fetched
            digest = hashlib.sha256(path.encode()).hexdigest()
            info = TargetFile(TARGET_LENGTH, {"sha256": digest}, path)
        role = succinct.get_role_for_target(path) if succinct else "targets"
        roles[role].targets[path] = info

    snapshot = Snapshot(expires=EXPIRES)
    for name, signed in roles.items():
        md = Metadata(signed)
        md.sign(signers["targets"] if name == "targets" else signers[name])
        (meta_dir / f"1.{name}.json").write_bytes(md.to_bytes())
        snapshot.meta[f"{name}.json"] = MetaFile(1)
    snap = Metadata(snapshot)
    snap.sign(signers["snapshot"])
    (meta_dir / "1.snapshot.json").write_bytes(snap.to_bytes())
    timestamp = Metadata(Timestamp(expires=EXPIRES, snapshot_meta=MetaFile(1)))
    timestamp.sign(signers["timestamp"])
    (meta_dir / "timestamp.json").write_bytes(timestamp.to_bytes())


def _repository(work: Workload) -> Path:
    out = CACHE / f"client-{work.key}-v{FORMAT}"
    if (out / "done").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    build(work, out)
    (out / "done").write_text("ok\n")
    print(f"  built {work.label} in {time.perf_counter() - start:.1f}s", flush=True)
    return out


# -- the server -----------------------------------------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0

    def reset(self) -> tuple[int, int]:
        with self.lock:
            out = (self.requests, self.bytes)
            self.requests = self.bytes = 0
        return out


class _CountingWriter:
    def __init__(self, inner: Any, stats: _Stats) -> None:
        self._inner, self._stats = inner, stats

    def write(self, data: bytes) -> int:
        with self._stats.lock:
            self._stats.bytes += len(data)
        written: int = self._inner.write(data)
        return written

    def __getattr__(self, name: str) -> Any:  # flush, close, closed
        return getattr(self._inner, name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.wfile = _CountingWriter(self.wfile, self.server.stats)  # type: ignore[assignment]

    def do_GET(self) -> None:
        with self.server.stats.lock:
            self.server.stats.requests += 1
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        path = (self.server.root / relative).resolve()
        data = None
        if path.is_relative_to(self.server.root) and path.is_file():
            data = path.read_bytes()
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.stats = _Stats()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is fine
            super().handle_error(request, client_address)


# -- the clients (each run in its own process) ----------------------------------------------

# What a user's program does: trust a root, update, download the target unless already present.
# Run with ``python -c`` so the process imports nothing but the client under test.
_TUFKIT_CHILD = """
import sys
from tufkit.client import Updater
base, work, root_file, wanted = sys.argv[1:]
kwargs = {"target_dir": work + "/targets", "target_base_url": base + "/targets/"}
if root_file == "-":
    updater = Updater.from_trusted_cache(work + "/metadata", base + "/metadata/", **kwargs)
else:
    with open(root_file, "rb") as handle:
        root = handle.read()
    updater = Updater(work + "/metadata", base + "/metadata/", trusted_root=root, **kwargs)
updater.refresh()
info = updater.get_targetinfo(wanted)
if info is None:
    sys.exit("not found")
if updater.find_cached_target(info) is None:
    updater.download_target(info)
"""

_PYTHON_TUF_CHILD = """
import os
import sys
from tuf.ngclient import Updater
base, work, root_file, wanted = sys.argv[1:]
os.makedirs(work + "/metadata", exist_ok=True)
os.makedirs(work + "/targets", exist_ok=True)
bootstrap = None
if root_file != "-":
    with open(root_file, "rb") as handle:
        bootstrap = handle.read()
updater = Updater(
    work + "/metadata", base + "/metadata/", work + "/targets", base + "/targets/",
    bootstrap=bootstrap,
)
updater.refresh()
info = updater.get_targetinfo(wanted)
if info is None:
    sys.exit("not found")
if updater.find_cached_target(info) is None:
    updater.download_target(info)
"""

CHILDREN = {"tufkit": _TUFKIT_CHILD, "python-tuf": _PYTHON_TUF_CHILD}


# -- driver ---------------------------------------------------------------------------------


# Installed packages come with bytecode (pip compiles on install); a source checkout gets it on
# first import unless bytecode writing is off, so let the children write it, and warm up first.
_CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Sample:
    seconds: float
    requests: int
    bytes: int


def _run_client(server: _Server, impl: str, work_dir: Path, root: str, work: Workload) -> Sample:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.stats.reset()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILDREN[impl], base, str(work_dir), root, work.wanted],
        check=False,
        capture_output=True,
        text=True,
        env=_CHILD_ENV,
    )
    elapsed = time.perf_counter() - start
    requests, sent = server.stats.reset()
    if result.returncode != 0:
        raise SystemExit(f"{impl} failed on {work.label}:\n{result.stderr[-2000:]}")
    files = [p for p in (work_dir / "targets").rglob("*") if p.is_file()]
    if [p.read_bytes() for p in files] != [_content(work.wanted)]:
        raise SystemExit(f"{impl} left {files} in its target directory")
    return Sample(elapsed, requests, sent)


def _measure(work: Workload, repeat: int, scratch: Path) -> dict[str, dict[str, list[Sample]]]:
    repo = _repository(work)
    server = _Server(repo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    out: dict[str, dict[str, list[Sample]]] = {
        impl: {"cold": [], "warm": []} for impl in ("tufkit", "python-tuf")
    }
    try:
        for impl in ("tufkit", "python-tuf"):  # untimed: bytecode, page cache
            _run_client(server, impl, scratch / "warm-up", str(repo / "root-1.json"), work)
            shutil.rmtree(scratch / "warm-up")
        for i in range(repeat):
            for impl in ("tufkit", "python-tuf") if i % 2 == 0 else ("python-tuf", "tufkit"):
                work_dir = scratch / f"{work.key}-{impl}-{i}"
                root = str(repo / "root-1.json")
                out[impl]["cold"].append(_run_client(server, impl, work_dir, root, work))
                out[impl]["warm"].append(_run_client(server, impl, work_dir, "-", work))
                shutil.rmtree(work_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return out


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        max(s.requests for s in samples),
        max(s.bytes for s in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="a,b,c,d")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    scratch = CACHE / "client-runs"
    shutil.rmtree(scratch, ignore_errors=True)
    print("bench_client: whole-process runs, tufkit vs python-tuf 7.0.1 ngclient")
    print("(ratio = python-tuf time / tufkit time; bytes = HTTP response bytes incl. headers)")
    header = (
        f"{'workload':<30} {'run':<5} {'tufkit':>9} {'python-tuf':>11} {'ratio':>6}"
        f" {'bytes tk':>10} {'bytes ref':>10} {'req tk':>6} {'req ref':>7}"
    )
    print(header)
    rows: list[dict[str, Any]] = []
    for key in args.workloads.split(","):
        work = WORKLOADS[key]
        results = _measure(work, args.repeat, scratch)
        for mode in ("cold", "warm"):
            mine, ref = _median(results["tufkit"][mode]), _median(results["python-tuf"][mode])
            ratio = ref.seconds / mine.seconds
            print(
                f"{work.label:<30} {mode:<5} {mine.seconds * 1000:7.0f}ms"
                f" {ref.seconds * 1000:9.0f}ms"
                f" {ratio:5.2f}x {mine.bytes:>10,} {ref.bytes:>10,} {mine.requests:>6}"
                f" {ref.requests:>7}",
                flush=True,
            )
            rows.append(
                {"workload": work.label, "run": mode, "ratio": ratio}
                | {f"tufkit_{k}": v for k, v in vars(mine).items()}
                | {f"python_tuf_{k}": v for k, v in vars(ref).items()}
            )
    shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
