"""GPG-signed links made by the reference verify with tufkit (RSA and EdDSA keys, in Python)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import KeyFiles, Runner
from tufkit.intoto import (
    Layout,
    Metablock,
    Step,
    VerifyOptions,
    get_verification_result,
    key_to_layout_dict,
    load_private_key_file,
    write_metadata,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # Locally gpg is optional; in CI (CI=true) a missing gpg fails these tests instead.
    pytest.mark.skipif(
        shutil.which("gpg") is None and os.environ.get("CI") != "true",
        reason="gpg is not installed",
    ),
]


@pytest.fixture(scope="module")
def gpg_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    fingerprints = []
    for uid, algo in (("rsa <r@example.com>", "rsa2048"), ("ed <e@example.com>", "ed25519")):
        subprocess.run(
            [
                "gpg",
                "--homedir",
                str(home),
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                algo,
                "sign",
                "never",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    listing = subprocess.run(
        ["gpg", "--homedir", str(home), "--list-keys", "--with-colons"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")]
    return home, fingerprints


@pytest.mark.parametrize("which", [0, 1], ids=["rsa", "eddsa"])
@pytest.mark.parametrize("tamper", [False, True])
def test_gpg_signed_links_verify_like_reference(
    which: int,
    tamper: bool,
    gpg_home: tuple[Path, list[str]],
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    ref: Callable[..., Runner],
) -> None:
    from in_toto.models.metadata import Metadata as RefMetadata
    from in_toto.verifylib import in_toto_verify
    from securesystemslib._gpg.functions import export_pubkey

    home, fingerprints = gpg_home
    fpr = fingerprints[which]
    (tmp_path / "f").write_text("content")
    made = ref("run")(
        "-n", "build", "-p", "f", "-g", fpr, "--gpg-home", home, "--", "true", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    link = next(tmp_path.glob("build.*.link"))
    if tamper:
        data = json.loads(link.read_text())
        data["signed"]["products"]["f"]["sha256"] = "00" * 32
        link.write_text(json.dumps(data))
    gpg_key: dict[str, Any] = export_pubkey(fpr, homedir=str(home))
    owner = load_private_key_file(keydir["alice"].private, None)
    layout = Layout(
        steps=[Step(name="build", pubkeys=[gpg_key["keyid"]])], keys={gpg_key["keyid"]: gpg_key}
    )
    metadata = Metablock(layout)
    metadata.sign(owner)
    write_metadata(tmp_path / "root.layout", metadata)
    ours = get_verification_result(metadata, [owner.public_key], VerifyOptions(link_dir=tmp_path))
    try:
        in_toto_verify(
            RefMetadata.load(str(tmp_path / "root.layout")),
            {owner.public_key.keyid: key_to_layout_dict(owner.public_key)},
            str(tmp_path),
        )
        theirs = True
    except Exception:
        theirs = False
    assert ours.ok is theirs is (not tamper)
