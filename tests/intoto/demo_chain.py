"""The in-toto demo supply chain (clone, update-version, package, untar), built from local files.

``build_demo`` lays out ``<root>/functionaries`` (where steps run) and ``<root>/final`` (what the
end user receives: tarball, layout, alice's public key, links). Steps are recorded either with
tufkit's CLI or with the reference's, in either envelope; the layout is signed by either library.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import KeyFiles, Runner

UPSTREAM_FILES = {"foo.py": "print('hello')\nVERSION = 'foo-v0'\n"}


def demo_layout(keys: dict[str, KeyFiles], *, expires: datetime | None = None) -> dict[str, Any]:
    """The demo layout as a dict; bob clones and packages, carl updates the version."""
    from tufkit.intoto import key_to_layout_dict, load_public_key_pem

    bob = load_public_key_pem(keys["bob"].public.read_bytes())
    carl = load_public_key_pem(keys["carl"].public.read_bytes())
    when = expires or datetime.now(UTC) + timedelta(days=30)
    return {
        "_type": "layout",
        "expires": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "readme": "demo",
        "keys": {bob.keyid: key_to_layout_dict(bob), carl.keyid: key_to_layout_dict(carl)},
        "steps": [
            {
                "_type": "step",
                "name": "clone",
                "expected_materials": [],
                "expected_products": [["CREATE", "demo-project/foo.py"], ["DISALLOW", "*"]],
                "pubkeys": [bob.keyid],
                "expected_command": ["git", "clone", "https://example.com/demo-project.git"],
                "threshold": 1,
            },
            {
                "_type": "step",
                "name": "update-version",
                "expected_materials": [
                    ["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "clone"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [["ALLOW", "demo-project/foo.py"], ["DISALLOW", "*"]],
                "pubkeys": [carl.keyid],
                "expected_command": [],
                "threshold": 1,
            },
            {
                "_type": "step",
                "name": "package",
                "expected_materials": [
                    ["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "update-version"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [["CREATE", "demo-project.tar.gz"], ["DISALLOW", "*"]],
                "pubkeys": [bob.keyid],
                "expected_command": ["tar", "-zcvf", "demo-project.tar.gz", "demo-project"],
                "threshold": 1,
            },
        ],
        "inspect": [
            {
                "_type": "inspection",
                "name": "untar",
                "expected_materials": [
                    ["MATCH", "demo-project.tar.gz", "WITH", "PRODUCTS", "FROM", "package"],
                    ["ALLOW", ".keep"],
                    ["ALLOW", "alice.pub"],
                    ["ALLOW", "root.layout"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [
                    ["MATCH", "demo-project/foo.py", "WITH", "PRODUCTS", "FROM", "update-version"],
                    ["ALLOW", "demo-project/.git/*"],
                    ["ALLOW", "demo-project.tar.gz"],
                    ["ALLOW", ".keep"],
                    ["ALLOW", "alice.pub"],
                    ["ALLOW", "root.layout"],
                    ["DISALLOW", "*"],
                ],
                "run": ["tar", "xzf", "demo-project.tar.gz"],
            }
        ],
    }


def sign_layout_tufkit(layout: dict[str, Any], key: KeyFiles, *, dsse: bool) -> bytes:
    """Sign with tufkit and return the file bytes."""
    from tufkit.intoto import DsseEnvelope, Layout, Metablock, load_private_key_file

    parsed = Layout.from_dict(layout)
    metadata = DsseEnvelope.from_payload(parsed) if dsse else Metablock(parsed)
    metadata.sign(load_private_key_file(key.private, None))
    return metadata.to_bytes()


def sign_layout_ref(layout: dict[str, Any], key: KeyFiles, *, dsse: bool) -> bytes:
    """Sign with the reference and return the file bytes."""
    import copy

    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from in_toto.models.layout import Layout as RefLayout
    from in_toto.models.metadata import Envelope, Metablock
    from securesystemslib.signer import CryptoSigner

    ref_layout = RefLayout.read(copy.deepcopy(layout))
    metadata = Envelope.from_signable(ref_layout) if dsse else Metablock(signed=ref_layout)
    signer = CryptoSigner(load_pem_private_key(key.private.read_bytes(), None))
    metadata.create_signature(signer)
    if dsse:
        import json

        return json.dumps(metadata.to_dict(), sort_keys=True).encode()
    return str(metadata).encode()


def build_demo(
    root: Path,
    keys: dict[str, KeyFiles],
    *,
    functionary: Runner,
    dsse: bool,
    sign_layout: Callable[..., bytes] = sign_layout_tufkit,
    layout: dict[str, Any] | None = None,
) -> Path:
    """Run the three steps with *functionary* (``tk``-style runner) and assemble ``final/``."""
    upstream = root / "upstream" / "demo-project"
    upstream.mkdir(parents=True)
    for name, text in UPSTREAM_FILES.items():
        (upstream / name).write_text(text)
    work = root / "functionaries"
    work.mkdir()
    dsse_args = ["--use-dsse"] if dsse else []
    bob, carl = keys["bob"].private, keys["carl"].private

    def step(*args: object) -> None:
        result = functionary(*args, cwd=work)
        assert result.returncode == 0, result.stderr

    step(
        "run",
        "-n",
        "clone",
        "-p",
        "demo-project/foo.py",
        "--signing-key",
        bob,
        *dsse_args,
        "--",
        "cp",
        "-r",
        str(upstream),
        ".",
    )
    step(
        "record",
        "start",
        "-n",
        "update-version",
        "-m",
        "demo-project/foo.py",
        "--signing-key",
        carl,
        *dsse_args,
    )
    foo = work / "demo-project" / "foo.py"
    foo.write_text(foo.read_text().replace("foo-v0", "foo-v1"))
    step(
        "record", "stop", "-n", "update-version", "-p", "demo-project/foo.py", "--signing-key", carl
    )
    step(
        "run",
        "-n",
        "package",
        "-m",
        "demo-project",
        "-p",
        "demo-project.tar.gz",
        "--signing-key",
        bob,
        *dsse_args,
        "--",
        "tar",
        "--exclude",
        ".git",
        "-zcf",
        "demo-project.tar.gz",
        "demo-project",
    )
    final = root / "final"
    final.mkdir()
    for link in work.glob("*.link"):
        shutil.copy(link, final)
    shutil.copy(work / "demo-project.tar.gz", final)
    shutil.copy(keys["alice"].public, final / "alice.pub")
    data = layout if layout is not None else demo_layout(keys)
    (final / "root.layout").write_bytes(sign_layout(data, keys["alice"], dsse=dsse))
    return final
