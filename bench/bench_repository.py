"""Benchmark: publishing a repository with hashed bins; tufkit.repository vs python-tuf's API.

Workload (issue 9): N targets (path ``files/pkg-%07d.bin``, sha256, from a manifest: no file
content) into 2**B succinct bins (TAP 15) delegated from top-level targets; every bin signed,
then targets, snapshot (listing every bin) and timestamp, all written to disk with consistent
snapshots. ed25519 keys everywhere. python-tuf does the same with its Metadata API, the way its
documentation shows (one ``Metadata`` per bin, ``sign``, ``to_file``, which fsyncs each file),
and once more writing ``to_bytes`` without fsync, the fastest a careful user could make it. Each
side runs in a fresh process so peak memory (ru_maxrss) is its own; the ratio is printed because
absolute times drift on shared machines. A last measurement adds one target to the published
tufkit repository and publishes again (bin, snapshot, timestamp), median of 20, in one process.

Run alone: ``.venv/bin/python bench/bench_repository.py [--targets 100000] [--bits 14]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = bytes(range(32))


def _entries(n: int) -> list[tuple[str, str]]:
    return [
        (p, hashlib.sha256(p.encode()).hexdigest())
        for p in (f"files/pkg-{i:07d}.bin" for i in range(n))
    ]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_pytuf(n: int, bits: int, out: Path, *, durable: bool = True) -> dict[str, float]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
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
    from tuf.api.serialization.json import JSONSerializer

    entries = _entries(n)
    start = time.perf_counter()
    signer = CryptoSigner(Ed25519PrivateKey.from_private_bytes(SEED))
    key = signer.public_key
    expires = datetime.now(UTC) + timedelta(days=30)
    out.mkdir(parents=True)
    compact = JSONSerializer(compact=True)

    def write(md: Metadata[Any], path: Path) -> None:
        if durable:  # to_file, as python-tuf documents it: each file written and fsynced
            md.to_file(str(path), compact)
        else:
            path.write_bytes(md.to_bytes(compact))

    root = Root(expires=expires, consistent_snapshot=True)
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.add_key(key, role)
    bins = SuccinctRoles([key.keyid], 1, bits, "bin")
    targets = Targets(expires=expires)
    targets.delegations = Delegations({key.keyid: key}, succinct_roles=bins)
    bin_targets = {name: Targets(expires=expires) for name in bins.get_roles()}
    for path, digest in entries:
        role = bins.get_role_for_target(path)
        bin_targets[role].targets[path] = TargetFile(1024, {"sha256": digest}, path)
    snapshot = Snapshot(expires=expires)
    for name, signed in bin_targets.items():
        md = Metadata(signed)
        md.sign(signer)
        write(md, out / f"1.{name}.json")
        snapshot.meta[f"{name}.json"] = MetaFile(1)
    for name, signed in (("root", root), ("targets", targets), ("snapshot", snapshot)):
        md = Metadata(signed)
        md.sign(signer)
        write(md, out / f"1.{name}.json")
    snapshot_bytes = (out / "1.snapshot.json").read_bytes()
    timestamp = Timestamp(expires=expires)
    timestamp.snapshot_meta = MetaFile(
        1, len(snapshot_bytes), {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}
    )
    md = Metadata(timestamp)
    md.sign(signer)
    write(md, out / "timestamp.json")
    return {"publish_s": time.perf_counter() - start, "peak_mib": _peak_mib()}


def worker_tufkit(n: int, bits: int, out: Path) -> dict[str, float]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tufkit.crypto import CryptoSigner
    from tufkit.metadata import Role, Root, TargetFile
    from tufkit.repository import FilesystemStorage, Repository, succinct_bins

    entries = _entries(n)
    start = time.perf_counter()
    pem = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = CryptoSigner.from_private_pem(pem)
    root = Root(roles={r: Role([], 1) for r in ("root", "targets", "snapshot", "timestamp")})
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.add_key(signer.public_key, role)
    storage = FilesystemStorage(out)
    repo = Repository.create(storage, root, signers=[signer])
    with repo.edit_targets() as targets:
        targets.delegations = succinct_bins([signer.public_key], bit_length=bits, name_prefix="bin")
    repo.list_targets(TargetFile(1024, {"sha256": digest}, path) for path, digest in entries)
    repo.publish()
    publish_s = time.perf_counter() - start
    peak = _peak_mib()
    one = []
    for i in range(20):
        t = time.perf_counter()
        path = f"new/extra-{i}.bin"
        repo.list_targets(
            [TargetFile(1, {"sha256": hashlib.sha256(path.encode()).hexdigest()}, path)]
        )
        repo.publish()
        one.append(time.perf_counter() - t)
    return {"publish_s": publish_s, "peak_mib": peak, "add_one_ms": statistics.median(one) * 1000}


def _run(side: str, n: int, bits: int, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            side,
            "--targets",
            str(n),
            "--bits",
            str(bits),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--bits", type=int, default=14)
    parser.add_argument("--worker", choices=["pytuf", "pytuf-nosync", "tufkit"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        if args.worker == "tufkit":
            result = worker_tufkit(args.targets, args.bits, args.out)
        else:
            durable = args.worker == "pytuf"
            result = worker_pytuf(args.targets, args.bits, args.out, durable=durable)
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        theirs = _run("pytuf", args.targets, args.bits, Path(tmp) / "pytuf")
        nosync = _run("pytuf-nosync", args.targets, args.bits, Path(tmp) / "pytuf-nosync")
        ours = _run("tufkit", args.targets, args.bits, Path(tmp) / "tufkit")
    bins = 2**args.bits
    print(f"{args.targets} targets into {bins} succinct bins, signed and written:")
    print(
        f"  python-tuf, to_file (fsync per file)  {theirs['publish_s']:.2f} s, "
        f"peak {theirs['peak_mib']:.0f} MiB"
    )
    print(
        f"  python-tuf, to_bytes + write (no fsync)  {nosync['publish_s']:.2f} s, "
        f"peak {nosync['peak_mib']:.0f} MiB"
    )
    print(
        f"  tufkit (journal fsynced, one flush)  {ours['publish_s']:.2f} s, "
        f"peak {ours['peak_mib']:.0f} MiB"
    )
    print(f"  ratio vs to_file      {theirs['publish_s'] / ours['publish_s']:.2f}x (goal >= 4x)")
    print(f"  ratio vs no fsync     {nosync['publish_s'] / ours['publish_s']:.2f}x")
    print(
        f"add one target and publish (bin, snapshot, timestamp): {ours['add_one_ms']:.0f} ms "
        "median of 20 (goal < 100 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
