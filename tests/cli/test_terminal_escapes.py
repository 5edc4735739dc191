"""Hostile metadata cannot act on the user's terminal through any command's output.

A repository served over HTTP on 127.0.0.1 puts escape sequences (clear screen, colours, a window
title, a C1 CSI, a bidirectional override, a fake newline) into a delegated role's name, a target
path and a target's custom field. Every byte ``tufkit client`` and ``tufkit metadata`` then print,
on stdout and stderr, text or JSON, success or failure, must be printable (newlines aside), while
``--json`` still gives back the exact strings.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_repo import Repo, serve, tufkit

pytestmark = pytest.mark.integration

NASTY = "\x1b[2J\x1b[31m\x1b]0;pwned\x07\x9b1m\u202e\r\nfake: ok\x7f"
ROLE = f"team{NASTY}"
PATH = f"team/app{NASTY}.tgz"
CUSTOM = {"note": f"hello{NASTY}", f"key{NASTY}": [NASTY]}


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    """Nothing on stdout or stderr that a terminal would act on."""
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        bad = sorted({c for c in text if not (c.isprintable() or c == "\n")})
        assert not bad, f"{name} carries raw {bad!r}: {text!r}"
        assert "Traceback" not in text


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    repo = Repo()
    repo.delegate(ROLE, ["team/*"])
    repo.add_target(PATH, b"app 1.0", ROLE, custom=CUSTOM)
    return repo


def test_client_output_escapes_hostile_names_and_custom_fields(
    hostile: Repo, tmp_path: Path
) -> None:
    (tmp_path / "root.json").write_bytes(hostile.root_bytes())
    with serve(hostile.files()) as server:
        base: list[str | Path] = [
            *("client", "--metadata-dir", tmp_path / "m", "--target-dir", tmp_path / "t"),
            *("--metadata-url", f"{server.url}/metadata"),
            *("--target-base-url", f"{server.url}/targets"),
        ]
        init = tufkit(*base[:3], "init", "--bootstrap", tmp_path / "root.json")
        assert init.returncode == 0, init.stderr
        runs = {
            "refresh": tufkit(*base, "refresh"),
            "info": tufkit(*base, "info", PATH),
            "info --json": tufkit(*base, "--json", "info", PATH),
            "download": tufkit(*base, "download", PATH),
            "download --json": tufkit(*base, "--json", "download", PATH),
            "not listed": tufkit(*base, "download", f"team/other{NASTY}"),
            "not listed --json": tufkit(*base, "--json", "download", f"team/other{NASTY}"),
        }
    for name, result in runs.items():
        assert_clean(result)
        assert result.returncode == (1 if "not listed" in name else 0), (name, result.stderr)
    # what the text says is visible, escaped
    assert "team\\x1b[2J\\x1b[31m" in runs["info"].stdout
    assert "\\u202e" in runs["info"].stdout
    assert "\\x9b1m" in runs["info"].stdout
    assert '"note": "hello\\u001b[2J' in runs["info"].stdout  # custom, as ASCII JSON
    assert "team/other\\x1b[2J" in runs["not listed"].stderr
    # JSON gives the exact strings back
    report = json.loads(runs["info --json"].stdout)
    assert report["chain"] == ["targets", ROLE]
    assert report["target"]["path"] == PATH
    assert report["target"]["custom"] == CUSTOM
    assert json.loads(runs["download --json"].stdout)["path"] == PATH
    error = json.loads(runs["not listed --json"].stdout)["error"]
    assert error["type"] == "TargetNotFoundError"
    assert NASTY in error["message"] or repr(NASTY)[1:-1] in error["message"]
    # and the file really arrived, under its encoded name
    assert [p.read_bytes() for p in (tmp_path / "t").iterdir()] == [b"app 1.0"]


def test_failure_naming_a_hostile_role_is_escaped(hostile: Repo, tmp_path: Path) -> None:
    """A delegated role that fails verification is named in the error: escaped."""
    files = hostile.files()
    role_file = next(p for p in files if p.startswith("/metadata/1.team"))
    files[role_file] = files[role_file].replace(b'"version":1', b'"version":2', 1)  # unsigned now
    (tmp_path / "root.json").write_bytes(hostile.root_bytes())
    with serve(files) as server:
        meta = ["client", "--metadata-dir", str(tmp_path / "m")]
        tufkit(*meta, "init", "--bootstrap", tmp_path / "root.json")
        base = [*meta, "--metadata-url", f"{server.url}/metadata"]
        text = tufkit(*base, "info", PATH)
        as_json = tufkit(*base, "--json", "info", PATH)
    for result in (text, as_json):
        assert result.returncode == 1
        assert_clean(result)
    assert "UnsignedMetadataError" in text.stderr
    assert "team\\x1b[2J" in text.stderr or "team\\x1b" in text.stderr
    assert json.loads(as_json.stdout)["error"]["category"] == "repository"


def test_metadata_show_and_verify_escape_hostile_files(hostile: Repo, tmp_path: Path) -> None:
    targets = hostile.write_role(tmp_path, "targets")
    delegated = hostile.write_role(tmp_path, ROLE)
    runs = [
        tufkit("metadata", "show", targets),
        tufkit("metadata", "show", "--json", targets),
        tufkit("metadata", "verify", delegated, "--by", targets, "--role", ROLE),
        tufkit("metadata", "verify", delegated, "--by", targets, "--role", ROLE, "--json"),
        tufkit("metadata", "verify", delegated, "--by", targets),  # which role? names them
        tufkit("metadata", "verify", delegated, "--by", targets, "--role", f"x{NASTY}"),
    ]
    for result in runs:
        assert_clean(result)
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 2, 1]
    assert f"to {ROLE}" not in runs[0].stdout
    assert "to team\\x1b[2J" in runs[0].stdout
    shown = json.loads(runs[1].stdout)
    assert shown["delegations"]["roles"][0]["name"] == ROLE
    assert json.loads(runs[3].stdout)["role"] == ROLE
    assert "--role" in runs[4].stderr
