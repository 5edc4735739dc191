"""Benchmark: targets metadata load + verify, serialise + sign, import time; tufkit vs python-tuf.

Workload (issue 2): one targets metadata file with N entries (path ``files/pkg-%07d.bin``, 1 KiB,
sha256 only), ed25519, one signature. Both libraries read the very same bytes (written by
python-tuf's default serialiser). Every measurement runs in a fresh process so peak memory
(ru_maxrss) belongs to that measurement alone; the ratio is printed because absolute times drift
on shared machines.

Run alone: ``.venv/bin/python bench/bench_metadata.py [--sizes 1000,10000,100000,1000000]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = bytes(range(32))  # fixed ed25519 seed: both sides sign with the same key
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def _paths(n: int) -> list[tuple[str, str]]:
    return [
        (p, hashlib.sha256(p.encode()).hexdigest())
        for p in (f"files/pkg-{i:07d}.bin" for i in range(n))
    ]


def _tuf_signer():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from securesystemslib.signer import CryptoSigner

    return CryptoSigner(Ed25519PrivateKey.from_private_bytes(SEED))


def _tufkit_signer():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tufkit.crypto import CryptoSigner

    pem = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return CryptoSigner.from_private_pem(pem)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- workers (each runs in its own process) -------------------------------------------------


def worker_make(n: int, out: Path) -> None:
    from tuf.api.metadata import Metadata, TargetFile, Targets

    targets = Targets(version=1, expires=EXPIRES)
    for path, digest in _paths(n):
        targets.targets[path] = TargetFile(1024, {"sha256": digest}, path)
    md = Metadata(targets)
    md.sign(_tuf_signer())
    out.write_bytes(md.to_bytes())
    public = md.signatures and next(iter(md.signatures))
    key = _tuf_signer().public_key
    (out.with_suffix(".key")).write_text(
        json.dumps({"keyid": public, "keytype": key.keytype, "scheme": key.scheme, **key.keyval})
    )


def worker_load(impl: str, path: Path) -> dict[str, float]:
    raw = path.read_bytes()
    info = json.loads(path.with_suffix(".key").read_text())
    start = time.perf_counter()
    if impl == "python-tuf":
        from securesystemslib.signer import SSlibKey
        from tuf.api.metadata import Metadata

        md = Metadata.from_bytes(raw)
        key = SSlibKey(info["keyid"], info["keytype"], info["scheme"], {"public": info["public"]})
        key.verify_signature(md.signatures[info["keyid"]], md.signed_bytes)
        count = len(md.signed.targets)
    else:
        from tufkit.crypto import Key
        from tufkit.metadata import Metadata

        md = Metadata.from_bytes(raw)
        key = Key(info["keyid"], info["keytype"], info["scheme"], {"public": info["public"]})
        if not key.verify_signature(md.signatures[info["keyid"]], md.verification_payload):
            raise SystemExit("tufkit failed to verify")
        count = len(md.signed.targets)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "peak_mib": _peak_mib(), "entries": count}


def worker_sign(impl: str, n: int) -> dict[str, float]:
    entries = _paths(n)
    if impl == "python-tuf":
        from tuf.api.metadata import Metadata, TargetFile, Targets

        targets = Targets(version=1, expires=EXPIRES)
        for path, digest in entries:
            targets.targets[path] = TargetFile(1024, {"sha256": digest}, path)
        md = Metadata(targets)
        signer = _tuf_signer()
        start = time.perf_counter()
        md.sign(signer)
        data = md.to_bytes()
    else:
        from tufkit.metadata import Metadata, TargetFile, Targets

        targets = Targets(version=1, expires=EXPIRES)
        for path, digest in entries:
            targets.targets[path] = TargetFile(1024, {"sha256": digest}, path)
        md = Metadata(targets)
        signer = _tufkit_signer()
        start = time.perf_counter()
        md.sign(signer)
        data = md.to_bytes()
    return {"seconds": time.perf_counter() - start, "bytes": len(data), "peak_mib": _peak_mib()}


def worker_import(module: str) -> dict[str, float]:
    start = time.perf_counter()
    __import__(module)
    return {"seconds": time.perf_counter() - start}


# -- driver ---------------------------------------------------------------------------------


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _row(label: str, ours: float, theirs: float, unit: str = "s") -> str:
    ratio = theirs / ours if ours else float("inf")
    return (
        f"  {label:<28} tufkit {ours:10.3f}{unit}  python-tuf {theirs:10.3f}{unit}"
        f"  ratio {ratio:6.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--worker", nargs="*")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "make":
            worker_make(int(rest[0]), Path(rest[1]))
            print("{}")
        elif kind == "load":
            print(json.dumps(worker_load(rest[0], Path(rest[1]))))
        elif kind == "sign":
            print(json.dumps(worker_sign(rest[0], int(rest[1]))))
        else:
            print(json.dumps(worker_import(rest[0])))
        return

    CACHE.mkdir(exist_ok=True)
    print("bench_metadata: tufkit vs python-tuf 7.0.1 (ratio = python-tuf time / tufkit time)")
    imports = {m: [] for m in ("tufkit.metadata", "tuf.api.metadata", "tuf.ngclient")}
    for _ in range(5):
        for module, samples in imports.items():
            samples.append(_run("import", module)["seconds"] * 1000)
    medians = {m: statistics.median(s) for m, s in imports.items()}
    print(
        f"  import (median of 5)         tufkit.metadata {medians['tufkit.metadata']:.1f} ms  "
        f"tuf.api.metadata {medians['tuf.api.metadata']:.1f} ms  "
        f"tuf.ngclient {medians['tuf.ngclient']:.1f} ms"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        path = CACHE / f"targets-{n}.json"
        if not path.exists() or not path.with_suffix(".key").exists():
            _run("make", str(n), str(path))
        print(f"{n:,} targets ({path.stat().st_size / 1e6:.1f} MB):")
        ours, theirs = _run("load", "tufkit", str(path)), _run("load", "python-tuf", str(path))
        print(_row("load + verify", ours["seconds"], theirs["seconds"]))
        print(_row("  peak memory", ours["peak_mib"], theirs["peak_mib"], " MiB"))
        mine, ref = _run("sign", "tufkit", str(n)), _run("sign", "python-tuf", str(n))
        print(_row("serialise + sign", mine["seconds"], ref["seconds"]))


if __name__ == "__main__":
    main()
