"""``tufkit metadata`` messages as a user reads them: the expected form of ``--at``, a hint to
``--role``, the malformed file named, signatures counted in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_repo import Repo, tufkit

from tufkit.crypto import generate
from tufkit.metadata import Metadata, Role

pytestmark = pytest.mark.integration


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    repo = Repo()
    repo.delegate("team", ["team/*"])
    repo.add_target("team/app.tgz", b"app", "team")
    return {
        "root": repo.write_role(tmp_path, "root"),
        "targets": repo.write_role(tmp_path, "targets"),
        "team": repo.write_role(tmp_path, "team"),
    }


@pytest.mark.parametrize("value", ["tomorrow", "2030-01-01", "2030-13-01T00:00:00Z"])
def test_at_names_the_option_once_and_the_expected_form(files: dict[str, Path], value: str) -> None:
    result = tufkit("metadata", "verify", files["root"], "--by", files["root"], "--at", value)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.count("--at") == 1, error
    assert "YYYY-MM-DDTHH:MM:SSZ" in error
    assert repr(value) in error


def test_verify_suggests_role_when_it_cannot_tell(files: dict[str, Path]) -> None:
    result = tufkit("metadata", "verify", files["team"], "--by", files["targets"])
    assert result.returncode == 2
    assert "--role NAME" in result.stderr
    assert "'team'" in result.stderr  # what the delegator delegates
    unsigned = tufkit("metadata", "verify", files["team"], "--by", files["root"])
    assert unsigned.returncode == 1
    assert "--role" in unsigned.stderr
    by_targets: list[str | Path] = [files["team"], "--by", files["targets"]]
    verified = tufkit("metadata", "verify", *by_targets, "--role", "team")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == "team: 1 valid signature, threshold 1\nteam: verified\n"


@pytest.mark.parametrize(
    "content", [b'{"signed": 5', b"[]", b'{"signed": {"_type": "mirrors"}, "signatures": []}']
)
@pytest.mark.parametrize("where", ["file", "by"])
def test_a_malformed_file_is_named(
    files: dict[str, Path], tmp_path: Path, content: bytes, where: str
) -> None:
    bad = tmp_path / "broken-file.json"
    bad.write_bytes(content)
    args: list[str | Path] = [bad, "--by", files["root"]]
    if where == "by":
        args = [files["root"], "--by", bad]
    for result in (tufkit("metadata", "verify", *args), tufkit("metadata", "show", bad)):
        assert result.returncode == 1
        assert f"FormatError: {bad}: " in result.stderr
        assert "Traceback" not in result.stderr


def test_signatures_are_counted_in_words(tmp_path: Path) -> None:
    """Five valid signatures over a threshold of three: no "5/3"."""
    repo = Repo()
    signers = [generate("ed25519") for _ in range(5)]
    repo.root.roles["root"] = Role([], 3)
    for signer in signers:
        repo.root.add_key(signer.public_key, "root")
    md = Metadata(repo.root)
    for signer in signers:
        md.sign(signer, append=True)
    root = tmp_path / "root.json"
    root.write_bytes(md.to_bytes())
    text = tufkit("metadata", "verify", root, "--by", root)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == "root: 5 valid signatures, threshold 3"
    report = json.loads(tufkit("metadata", "verify", root, "--by", root, "--json").stdout)
    assert (len(report["signed_by"]), report["threshold"]) == (5, 3)

    md.signatures.clear()
    for signer in signers[:2]:
        md.sign(signer, append=True)
    root.write_bytes(md.to_bytes())
    short = tufkit("metadata", "verify", root, "--by", root)
    assert short.returncode == 1
    assert short.stdout == "root: 2 valid signatures, threshold 3\n"
    assert short.stderr == (
        "error: UnsignedMetadataError: role 'root' has 2 valid signatures, threshold 3\n"
    )
    failed = tufkit("metadata", "verify", root, "--by", root, "--json")
    report = json.loads(failed.stdout)
    assert failed.returncode == report["error"]["exit_code"] == 1
    assert report["verified"] is False
    assert report["error"]["type"] == "UnsignedMetadataError"
