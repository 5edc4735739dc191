"""Benchmark: the TUF client, tufkit vs python-tuf 7.0.1's ngclient, as whole processes.

Workloads (issue 3), each a repository with consistent snapshots, ed25519 keys, built once with
python-tuf's Metadata API and cached under ``bench/.cache/``:

* ``a``: 10,000 targets in top-level targets;
* ``b``: 100,000 targets in 256 succinct bins;
* ``c``: 100,000 targets in 16,384 succinct bins;
* ``d``: a chain of 30 root rotations (trusted root v1, repository at v31), 10 targets.

Both clients run as a user installs them: tufkit is built into a wheel and installed, with
python-tuf 7.0.1, into a fresh virtual environment under ``bench/.cache/venv``, whose modules
are then byte-compiled explicitly (this environment sets PYTHONDONTWRITEBYTECODE). Every run is
a fresh process of that environment's interpreter (start-up and imports count), from a trusted
root to one 1 KiB target downloaded, in two forms:

* ``api``: a ``python -c`` program using each library's ``Updater`` (the same steps on both
  sides: trust a root, refresh, look the target up, download it unless present);
* ``conformance``: the tuf-conformance command line, one process per update:
  ``tufkit-conformance-client`` (the installed console script) and
  ``bench/pytuf_conformance_client.py`` (the same protocol over python-tuf's ngclient).

**Cold**: the first update of an empty cache (trusting root v1; for ``conformance`` the untimed
``init`` has stored it). **Warm**: the same cache again, no repository change. Both clients talk
to the same HTTP/1.1 server on 127.0.0.1 (keep-alive, TCP_NODELAY), which counts requests and
response bytes (headers included). Times are medians over ``--repeat`` runs of wall time, and of
the child's CPU time (user + system, steadier on a shared machine); ratio = python-tuf / tufkit.

Run alone: ``.venv/bin/python bench/bench_client.py [--workloads a,b,c,d] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
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


# -- installing both clients as a user does ------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PYTUF_CLIENT = Path(__file__).resolve().parent / "pytuf_conformance_client.py"
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Install:
    python: str
    scripts: Path


def install(*, reuse: bool) -> Install:
    """Build tufkit's wheel and install it with python-tuf into a fresh, byte-compiled venv."""
    venv, wheels = CACHE / "venv", CACHE / "wheels"
    made = Install(str(venv / "bin" / "python"), venv / "bin")
    if reuse and (venv / "done").exists():
        return made
    shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(wheels, ignore_errors=True)
    start = time.perf_counter()
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels)]
    subprocess.run([*pip, str(ROOT)], **quiet)  # type: ignore[call-overload]
    wheel = next(wheels.glob("tufkit-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], **quiet)  # type: ignore[call-overload]
    subprocess.run(
        [made.python, "-m", "pip", "install", "--quiet", str(wheel), "tuf==7.0.1"], **quiet
    )  # type: ignore[call-overload]
    site = subprocess.run(
        [made.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(  # what pip does unless bytecode writing is off
        [made.python, "-m", "compileall", "-q", "-j", "0", site], env=_ENV, **quiet
    )  # type: ignore[call-overload]
    compiled = list(Path(site, "tufkit", "client", "__pycache__").glob("updater.*.pyc"))
    if not compiled:
        raise SystemExit("bench_client: tufkit was not byte-compiled")
    (venv / "done").write_text(wheel.name + "\n")
    print(f"  installed {wheel.name} + tuf 7.0.1 in {time.perf_counter() - start:.0f}s")
    return made


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

IMPLS = ("tufkit", "python-tuf")
FORMS = ("api", "conformance")


def _conformance_program(env: Install, impl: str) -> list[str]:
    if impl == "tufkit":
        return [str(env.scripts / "tufkit-conformance-client")]
    return [env.python, str(PYTUF_CLIENT)]


def _commands(
    env: Install, form: str, impl: str, base: str, work_dir: Path, root: str, wanted: str
) -> tuple[list[list[str]], list[str]]:
    """The untimed set-up commands and the timed update command of one run."""
    if form == "api":
        child = _TUFKIT_CHILD if impl == "tufkit" else _PYTHON_TUF_CHILD
        return [], [env.python, "-c", child, base, str(work_dir), root, wanted]
    program = _conformance_program(env, impl)
    meta = ["--metadata-dir", str(work_dir / "metadata")]
    setup = [] if root == "-" else [[*program, *meta, "init", root]]
    update = [
        *program,
        *meta,
        "--metadata-url",
        f"{base}/metadata",
        "--target-name",
        wanted,
        "--target-base-url",
        f"{base}/targets",
        "--target-dir",
        str(work_dir / "targets"),
        "download",
    ]
    return setup, update


@dataclass
class Sample:
    seconds: float
    cpu: float
    requests: int
    bytes: int


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_client(
    server: _Server, env: Install, form: str, impl: str, work_dir: Path, root: str, work: Workload
) -> Sample:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (work_dir / "metadata").mkdir(parents=True, exist_ok=True)
    setup, update = _commands(env, form, impl, base, work_dir, root, work.wanted)
    for command in setup:
        subprocess.run(command, check=True, capture_output=True)
    server.stats.reset()
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(update, check=False, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu
    requests, sent = server.stats.reset()
    if result.returncode != 0:
        raise SystemExit(f"{impl} ({form}) failed on {work.label}:\n{result.stderr[-2000:]}")
    files = [p for p in (work_dir / "targets").rglob("*") if p.is_file()]
    if [p.read_bytes() for p in files] != [_content(work.wanted)]:
        raise SystemExit(f"{impl} ({form}) left {files} in its target directory")
    return Sample(elapsed, cpu, requests, sent)


Results = dict[tuple[str, str, str], list[Sample]]  # (form, impl, cold|warm) -> samples


def _measure(env: Install, work: Workload, repeat: int, scratch: Path) -> Results:
    repo = _repository(work)
    server = _Server(repo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    out: Results = {(f, i, m): [] for f in FORMS for i in IMPLS for m in ("cold", "warm")}
    root = str(repo / "root-1.json")
    try:
        for form in FORMS:
            for impl in IMPLS:  # untimed: page cache
                _run_client(server, env, form, impl, scratch / "warm-up", root, work)
                shutil.rmtree(scratch / "warm-up")
        for i in range(repeat):
            for form in FORMS:
                for impl in IMPLS if i % 2 == 0 else IMPLS[::-1]:
                    work_dir = scratch / f"{work.key}-{form}-{impl}-{i}"
                    cold = _run_client(server, env, form, impl, work_dir, root, work)
                    out[form, impl, "cold"].append(cold)
                    warm = _run_client(server, env, form, impl, work_dir, "-", work)
                    out[form, impl, "warm"].append(warm)
                    shutil.rmtree(work_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return out


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.cpu for s in samples),
        max(s.requests for s in samples),
        max(s.bytes for s in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="a,b,c,d")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    parser.add_argument(
        "--reuse-venv", action="store_true", help="keep the installed venv of an earlier run"
    )
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    scratch = CACHE / "client-runs"
    shutil.rmtree(scratch, ignore_errors=True)
    print("bench_client: whole-process runs, tufkit vs python-tuf 7.0.1 ngclient, installed")
    env = install(reuse=args.reuse_venv)
    print("(ratio = python-tuf / tufkit, of wall time and of CPU time; bytes = HTTP response")
    print(" bytes incl. headers, identical on both sides unless shown)")
    header = (
        f"{'workload':<29} {'form':<11} {'run':<4} {'tufkit':>7} {'py-tuf':>7} {'ratio':>6}"
        f" {'cpu ratio':>9} {'bytes':>10} {'requests':>8}"
    )
    print(header)
    rows: list[dict[str, Any]] = []
    for key in args.workloads.split(","):
        work = WORKLOADS[key]
        results = _measure(env, work, args.repeat, scratch)
        for form in FORMS:
            for mode in ("cold", "warm"):
                mine = _median(results[form, "tufkit", mode])
                ref = _median(results[form, "python-tuf", mode])
                ratio, cpu_ratio = ref.seconds / mine.seconds, ref.cpu / mine.cpu
                same = (mine.bytes, mine.requests) == (ref.bytes, ref.requests)
                traffic = (
                    f"{mine.bytes:>10,} {mine.requests:>8}"
                    if same
                    else f"{mine.bytes:,}/{ref.bytes:,} {mine.requests}/{ref.requests}"
                )
                print(
                    f"{work.label:<29} {form:<11} {mode:<4} {mine.seconds * 1000:5.0f}ms"
                    f" {ref.seconds * 1000:5.0f}ms {ratio:5.2f}x {cpu_ratio:8.2f}x {traffic}",
                    flush=True,
                )
                rows.append(
                    {"workload": work.label, "form": form, "run": mode, "ratio": ratio}
                    | {"cpu_ratio": cpu_ratio}
                    | {f"tufkit_{k}": v for k, v in vars(mine).items()}
                    | {f"python_tuf_{k}": v for k, v in vars(ref).items()}
                )
    shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
