"""The demo and ``tufkit metadata`` run as real processes, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TUFKIT = [sys.executable, "-m", "tufkit"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TUFKIT, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a directory name that would clear the screen and reverse the text if printed raw
    out = tmp_path_factory.mktemp("demo") / "out\x1b[2J\u202e"
    result = run("demo", "--out", out)
    assert result.returncode == 0, result.stderr
    for text in (result.stdout, result.stderr):
        assert all(c.isprintable() or c == "\n" for c in text), text
    assert "out\\x1b[2J\\u202e" in result.stdout
    assert "SECURITY FAILURE" not in result.stdout
    assert result.stdout.count("refused:") == 8
    assert "the client updated to root v2 and accepted the new timestamp" in result.stdout
    assert "RuleVerificationError in check-product" in result.stdout
    return out


@pytest.mark.parametrize("tool", ["tufkit", "in-toto-verify"])
def test_demo_supply_chain_verifies_with_both_tools(
    demo_dir: Path, tmp_path: Path, tool: str
) -> None:
    import shutil

    work = tmp_path / "chain"
    shutil.copytree(demo_dir / "supply-chain", work)
    (work / "check-product.link").unlink(missing_ok=True)
    args = ["-l", "root.layout", "--verification-keys", "owner.pub"]
    command = (
        [*TUFKIT, "intoto", "verify", *args]
        if tool == "tufkit"
        else [str(Path(sys.executable).parent / "in-toto-verify"), *args]
    )
    assert subprocess.run(command, cwd=work, capture_output=True, timeout=120).returncode == 0
    (work / "dist" / "app.zip").write_bytes(b"not the built archive")
    (work / "check-product.link").unlink(missing_ok=True)
    assert subprocess.run(command, cwd=work, capture_output=True, timeout=120).returncode == 1


def test_demo_client_downloads_the_delegated_target_and_keeps_nothing_refused(
    demo_dir: Path,
) -> None:
    downloaded = list((demo_dir / "client" / "targets").iterdir())
    assert len(downloaded) == 1
    assert downloaded[0].read_bytes() == (demo_dir / "targets/releases/app-1.0.tar.gz").read_bytes()
    assert list((demo_dir / "client-2" / "targets").iterdir()) == []
    stored = sorted(p.name for p in (demo_dir / "client" / "metadata").glob("*.json"))
    assert stored == [
        "releases.json",
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]


def test_demo_writes_consistent_snapshot_metadata(demo_dir: Path) -> None:
    names = sorted(p.name for p in (demo_dir / "metadata").iterdir())
    assert names == [
        "1.releases.json",
        "1.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "timestamp.json",
    ]


def test_demo_output_verifies_in_python_tuf(demo_dir: Path) -> None:
    from tuf.api.metadata import Metadata, Root, Targets

    md = demo_dir / "metadata"
    root = Metadata[Root].from_bytes((md / "1.root.json").read_bytes())
    root.verify_delegate("root", root)
    for role in ("targets", "snapshot"):
        root.verify_delegate(role, Metadata.from_bytes((md / f"1.{role}.json").read_bytes()))
    root.verify_delegate("timestamp", Metadata.from_bytes((md / "timestamp.json").read_bytes()))
    targets = Metadata[Targets].from_bytes((md / "1.targets.json").read_bytes())
    targets.verify_delegate("releases", Metadata.from_bytes((md / "1.releases.json").read_bytes()))


def test_demo_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = run("demo", "--out", tmp_path)
    assert result.returncode == 1
    assert "was not made by the demo" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_metadata_verify_accepts_the_right_delegator(demo_dir: Path) -> None:
    md = demo_dir / "metadata"
    result = run(
        "metadata",
        "verify",
        md / "1.releases.json",
        "--by",
        md / "1.targets.json",
        "--role",
        "releases",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is True
    assert report["threshold"] == 1


@pytest.mark.parametrize(
    ("file", "by", "extra", "message"),
    [
        ("1.releases.json", "1.root.json", ["--role", "releases"], "does not delegate 'releases'"),
        ("1.targets.json", "1.snapshot.json", [], "not a delegator"),
        ("1.targets.json", "1.root.json", ["--at", "2999-01-01T00:00:00Z"], "expired"),
        ("1.snapshot.json", "1.root.json", ["--role", "timestamp"], "0 valid signatures, thr"),
    ],
)
def test_metadata_verify_refuses(
    demo_dir: Path, file: str, by: str, extra: list[str], message: str
) -> None:
    md = demo_dir / "metadata"
    result = run("metadata", "verify", md / file, "--by", md / by, *extra)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_metadata_verify_refuses_a_tampered_file(demo_dir: Path, tmp_path: Path) -> None:
    md = demo_dir / "metadata"
    raw = (md / "1.targets.json").read_bytes()
    tampered = tmp_path / "targets.json"
    tampered.write_bytes(raw.replace(b'"version":1', b'"version":2', 1))
    result = run("metadata", "verify", tampered, "--by", md / "1.root.json")
    assert result.returncode == 1
    assert "0 valid signatures, threshold 1" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"signed": 5', "invalid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"signed": {"_type": "mirrors"}, "signatures": []}', "unknown _type"),
        (b'{"signed": {"_type": "root", "version": 1.5}, "signatures": []}', "floating point"),
    ],
)
def test_metadata_show_names_what_is_wrong(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = run("metadata", "show", bad)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_metadata_show_json_describes_root(demo_dir: Path) -> None:
    result = run("metadata", "show", demo_dir / "metadata" / "1.root.json", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["type"] == "root"
    assert info["roles"]["root"]["threshold"] == 2
    assert len(info["signatures"]) == 2


def test_unknown_option_is_a_usage_error() -> None:
    result = run("metadata", "verify", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["intoto", "layout", "{junk}", "--signing-key", "{junk}"], "not UTF-8 text"),
        (
            [
                "client",
                "--metadata-dir",
                "{empty}",
                "--metadata-url",
                "http://127.0.0.1:9/",
                "refresh",
            ],
            "run init first",
        ),
        (["client", "init", "--bootstrap", "{junk}"], "invalid JSON"),
        (["metadata", "show", "{junk}"], "invalid JSON"),
    ],
)
def test_hostile_input_gets_one_line_and_no_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty").mkdir()
    filled = [a.format(junk=junk, empty=tmp_path / "empty") for a in args]
    result = run(*filled, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
