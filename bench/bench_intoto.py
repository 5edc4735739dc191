"""Benchmark: record 10,000 files of 1 KiB in 3 steps and verify the 3-step layout over them.

tufkit and in-toto 3.1.0 do the same work in the same run, in process (no CLI start-up):
each step records materials and products of the whole tree and signs its link (Ed25519,
Metablock), then the layout is verified from the link files. The two sides alternate
``--repeat`` times and each phase keeps its best time (the machine is shared; the best run is
the one least disturbed), both wall-clock and CPU time (``time.process_time``: every thread of
the process, steadier than wall time on a loaded machine). Prints both and the ratios.

Run alone: ``.venv/bin/python bench/bench_intoto.py [--files N] [--repeat R]``. Measure as a user
runs it: tufkit installed from its wheel. The bench byte-compiles both implementations' packages
first, as pip does on install (``PYTHONDONTWRITEBYTECODE`` would otherwise leave them
uncompiled).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STEPS = ("fetch", "build", "package")
Times = tuple[float, float, float, float]  # record wall, verify wall, record CPU, verify CPU


def byte_compile(packages: tuple[str, ...]) -> None:
    """Compile the installed *packages* to bytecode, as installing a wheel does."""
    for package in packages:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(location, quiet=1)


def make_tree(root: Path, count: int) -> None:
    """Write *count* files of 1 KiB under ``root/src`` (100 per directory)."""
    for index in range(count):
        directory = root / "src" / f"d{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{index:05d}.txt").write_bytes(os.urandom(1024))


def layout_dict(keyid: str, key: dict[str, Any]) -> dict[str, Any]:
    """Three steps over the tree, each matched against the previous one."""
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def step(name: str, materials: list[list[str]], products: list[list[str]]) -> dict[str, Any]:
        return {
            "_type": "step",
            "name": name,
            "pubkeys": [keyid],
            "threshold": 1,
            "expected_command": [],
            "expected_materials": materials,
            "expected_products": products,
        }

    return {
        "_type": "layout",
        "expires": expires,
        "readme": "bench",
        "keys": {keyid: key},
        "inspect": [],
        "steps": [
            step("fetch", [], [["CREATE", "src/*"], ["DISALLOW", "*"]]),
            step(
                "build",
                [["MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"], ["DISALLOW", "*"]],
                [["MATCH", "src/*", "WITH", "MATERIALS", "FROM", "build"], ["DISALLOW", "*"]],
            ),
            step(
                "package",
                [["MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "IN", "src", "FROM", "build"]],
                [["ALLOW", "src/*"], ["DISALLOW", "*"]],
            ),
        ],
    }


def run_tufkit(work: Path, links: Path, pem: bytes) -> Times:
    """Record the three steps and verify; return wall and CPU seconds of each phase."""
    from tufkit.crypto import CryptoSigner
    from tufkit.intoto import (
        Layout,
        Metablock,
        RecordOptions,
        VerifyOptions,
        key_to_layout_dict,
        link_filename,
        read_metadata,
        run_step,
        verify_layout,
        write_metadata,
    )

    signer = CryptoSigner.from_private_pem(pem)
    options = RecordOptions(base_path=work)
    start, cpu = time.perf_counter(), time.process_time()
    for name in STEPS:
        materials = [] if name == "fetch" else ["src"]
        link = run_step(name, [], materials=materials, products=["src"], options=options)
        metadata = Metablock(link)
        metadata.sign(signer)
        write_metadata(links / link_filename(name, signer.public_key.keyid), metadata)
    recorded, cpu_recorded = time.perf_counter(), time.process_time()
    key = key_to_layout_dict(signer.public_key)
    layout = Metablock(Layout.from_dict(layout_dict(signer.public_key.keyid, key)))
    layout.sign(signer)
    write_metadata(links / "root.layout", layout)
    begin, cpu_begin = time.perf_counter(), time.process_time()
    verify_layout(read_metadata(links / "root.layout"), [signer.public_key], VerifyOptions(links))
    return (
        recorded - start,
        time.perf_counter() - begin,
        cpu_recorded - cpu,
        time.process_time() - cpu_begin,
    )


def run_reference(work: Path, links: Path, pem: bytes) -> Times:
    """The same with in-toto 3.1.0."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from in_toto.models.layout import Layout
    from in_toto.models.metadata import Metablock, Metadata
    from in_toto.runlib import in_toto_run
    from in_toto.verifylib import in_toto_verify
    from securesystemslib.signer import CryptoSigner

    signer = CryptoSigner(load_pem_private_key(pem, None))
    old = os.getcwd()
    os.chdir(work)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for name in STEPS:
            materials = [] if name == "fetch" else ["src"]
            in_toto_run(name, materials, ["src"], [], signer=signer, metadata_directory=str(links))
        recorded, cpu_recorded = time.perf_counter(), time.process_time()
    finally:
        os.chdir(old)
    key = signer.public_key.to_dict()
    key["keyid"] = signer.public_key.keyid
    layout = Metablock(signed=Layout.read(layout_dict(signer.public_key.keyid, key)))
    layout.create_signature(signer)
    layout.dump(str(links / "root.layout"))
    begin, cpu_begin = time.perf_counter(), time.process_time()
    in_toto_verify(Metadata.load(str(links / "root.layout")), {key["keyid"]: key}, str(links))
    return (
        recorded - start,
        time.perf_counter() - begin,
        cpu_recorded - cpu,
        time.process_time() - cpu_begin,
    )


def measure(
    name: str, function: Callable[[Path, Path, bytes], Times], tree: Path, pem: bytes
) -> Times:
    links = Path(tempfile.mkdtemp(prefix=f"bench-{name}-links-"))
    try:
        return function(tree, links, pem)
    finally:
        shutil.rmtree(links)


def best(times: list[Times]) -> Times:
    """The best time of each phase (wall and CPU) over the runs."""
    return (
        min(t[0] for t in times),
        min(t[1] for t in times),
        min(t[2] for t in times),
        min(t[3] for t in times),
    )


def report(label: str, ours: tuple[float, float], theirs: tuple[float, float]) -> None:
    for side, (record, verify) in (("tufkit", ours), ("in-toto 3.1.0", theirs)):
        total = record + verify
        print(
            f"{side:>14} {label}: record {record:7.3f} s  verify {verify:7.3f} s  "
            f"total {total:7.3f} s"
        )
    print(
        f"{'ratio':>14} {label}: record {theirs[0] / ours[0]:6.1f}x  "
        f"verify {theirs[1] / ours[1]:6.1f}x  total {sum(theirs) / sum(ours):6.1f}x  "
        "(in-toto time / tufkit time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    byte_compile(("tufkit", "in_toto", "securesystemslib"))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tree = Path(tempfile.mkdtemp(prefix="bench-intoto-tree-"))
    try:
        make_tree(tree, args.files)
        measure("warmup", run_tufkit, tree, pem)  # page cache and imports for both
        runs: dict[str, list[Times]] = {"tufkit": [], "ref": []}
        for _ in range(max(1, args.repeat)):
            runs["tufkit"].append(measure("tufkit", run_tufkit, tree, pem))
            runs["ref"].append(measure("ref", run_reference, tree, pem))
    finally:
        shutil.rmtree(tree)
    ours, theirs = (best(runs[side]) for side in ("tufkit", "ref"))
    load = os.getloadavg()[0]
    print(
        f"{args.files} files x 1 KiB, 3 steps (materials+products), 3-step layout, "
        f"best of {max(1, args.repeat)}, load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    report("wall", ours[:2], theirs[:2])
    report("CPU ", ours[2:], theirs[2:])


if __name__ == "__main__":
    main()
