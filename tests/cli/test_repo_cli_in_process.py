"""``tufkit repo`` run in-process (click's runner): the scenarios of the process tests, fast and
measured by coverage. Each case checks behaviour: exit codes, output, files published or left
alone, and what a real client (tufkit's, over HTTP on 127.0.0.1) makes of the result.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tufkit.cli import main
from tufkit.cli._repo_server import make_server
from tufkit.client import Updater

pytestmark = pytest.mark.integration  # an HTTP server on 127.0.0.1


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def ok_json(*args: str | Path) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def _published(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((repo / "metadata").iterdir())}


@pytest.fixture
def served() -> Iterator[Any]:
    servers = []

    def start(repo: Path) -> str:
        server = make_server(repo, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _client(repo: Path, base: str, where: Path) -> Updater:
    return Updater(
        metadata_dir=where / "metadata",
        metadata_base_url=f"{base}/metadata/",
        trusted_root=(repo / "metadata" / "1.root.json").read_bytes(),
        target_dir=where / "targets",
        target_base_url=f"{base}/targets/",
    )


def _download(client: Updater, path: str) -> bytes:
    client.refresh()
    found = client.lookup(path)
    assert found.target is not None, path
    with open(client.download_target(found.target), "rb") as handle:
        return handle.read()


def test_a_maintainer_session(tmp_path: Path, served: Any) -> None:
    repo, dist = tmp_path / "repo", tmp_path / "dist"
    (dist / "docs").mkdir(parents=True)
    (dist / "a.txt").write_bytes(b"a")
    (dist / "docs" / "guide.md").write_bytes(b"# guide")
    (dist / "p").mkdir()
    (dist / "p" / "x.whl").write_bytes(b"wheel")
    created = ok_json(
        "repo", "init", "--repo", repo, "--no-encrypt", "--bins", "2", "--bins-prefix", "b",
        "--threshold", "root=2", "--expires", "timestamp=2", "--online", "targets",
    )  # fmt: skip
    assert created["roles"]["targets"]["online"] is True
    assert len(created["roles"]["root"]["keyids"]) == 2
    assert sorted(p.name for p in (repo / "keys").iterdir()) == [
        "bins.pem", "root-1.pem", "root-2.pem", "snapshot.pem", "targets.pem", "timestamp.pem",
    ]  # fmt: skip
    shown = ok("repo", "init", "--help").stdout
    assert "tufkit repo init --repo r" in shown

    added = ok("repo", "add", "--repo", repo, "--base", dist, dist / "a.txt", dist / "docs")
    assert "added 2 targets" in added.stdout
    manifest = tmp_path / "m.csv"
    digest = hashlib.sha256(b"wheel").hexdigest()
    manifest.write_text(f"# path,length,hashes\np/x.whl,5,sha256:{digest}\n")
    (repo / "targets" / "p").mkdir()
    (repo / "targets" / "p" / f"{digest}.x.whl").write_bytes(b"wheel")  # published elsewhere
    listed = ok_json("repo", "add", "--repo", repo, "--manifest", manifest)
    assert listed["added"] == ["p/x.whl"]

    base = served(repo)
    client = _client(repo, base, tmp_path / "c1")
    assert _download(client, "docs/guide.md") == b"# guide"
    assert _download(client, "p/x.whl") == b"wheel"

    status = ok_json("repo", "status", "--repo", repo, "--all")
    by_role = {r["role"]: r for r in status["roles"]}
    assert by_role["timestamp"]["days_left"] > 1.9
    assert {"b-0", "b-1", "b-2", "b-3"} <= set(by_role)
    human = ok("repo", "status", "--repo", repo).stdout
    assert "timestamp v" in human
    assert "no staged roles" in human

    removed = ok_json("repo", "remove", "--repo", repo, "a.txt")
    assert removed["removed"] == ["a.txt"]
    bumped = ok_json("repo", "bump", "--repo", repo)
    assert bumped["bumped"] == ["snapshot", "timestamp"]
    client = _client(repo, base, tmp_path / "c2")
    client.refresh()
    assert client.lookup("a.txt").target is None
    assert ok("repo", "bump", "--repo", repo, "-q").stdout == ""


def test_a_root_and_targets_ceremony_in_one_signing_event(tmp_path: Path) -> None:
    holders = []
    for name in ("alice", "bob"):
        (tmp_path / name).mkdir()
        shown = ok("key", "generate", "--out", tmp_path / name / "k.pem", "--no-encrypt")
        (tmp_path / name / "k.pub").write_text(shown.stdout)
        holders.append(tmp_path / name)
    repo = tmp_path / "repo"
    ok("repo", "init", "--repo", repo, "--no-encrypt", "--threshold", "root=2",
       "--sign-once", f"root={holders[0] / 'k.pem'}", "--sign-once", f"root={holders[1] / 'k.pem'}",
       "--key", f"targets={holders[0] / 'k.pem'}")  # fmt: skip
    before = _published(repo)
    staged = ok_json("repo", "stage", "--repo", repo, "root", "targets")["staged"]
    assert {s["role"] for s in staged} == {"root", "targets"}
    root_entry = next(s for s in staged if s["role"] == "root")
    assert [t["by"] for t in root_entry["thresholds"]] == ["root v1", "new root"]
    targets_entry = next(s for s in staged if s["role"] == "targets")
    assert targets_entry["complete"]  # the configured targets key signed it here

    signed = tmp_path / "root-signed.json"
    for holder in holders:
        source = signed if signed.exists() else root_entry["file"]
        out = ok("repo", "sign", source, "--key", holder / "k.pem", "--out", signed).stdout
        assert "signed root v2" in out
    assert _published(repo) == before
    published = ok_json("repo", "publish", "--repo", repo, signed)
    assert "2.root.json" in published["published"]
    assert ok_json("repo", "status", "--repo", repo)["staged"] == []
    again = run("repo", "sign", signed, "--key", holders[0] / "k.pem", "--passphrase-env", "X",
                "--json")  # fmt: skip
    assert again.exit_code == 0  # an unencrypted key ignores the passphrase variable


def test_failures_are_one_line_or_one_json_object_and_publish_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    ok("repo", "init", "--repo", repo, "--no-encrypt")
    before = _published(repo)
    (tmp_path / "f.txt").write_bytes(b"f")
    shutil.copy(repo / "tufkit-repo.toml", tmp_path / "good.toml")
    cases: list[tuple[list[str | Path], int, str]] = [
        (["add", "--repo", repo], 2, "give FILES"),
        (["add", "--repo", repo, "--base", tmp_path, tmp_path / "f.txt", "--hash", "md5"], 1,
         "md5"),
        (["add", "--repo", repo, "--base", tmp_path, "nothing-*.txt"], 1, "matches no file"),
        (["remove", "--repo", repo], 2, "give target PATHS"),
        (["delegate", "--repo", repo, "x", "--path", "x/*"], 2, "--generate"),
        (["delegate", "--repo", repo, "x", "--path", "x/*", "--generate", "--no-encrypt",
          "--threshold", "2"], 1, "threshold 2 is more than the 1 keys"),
        (["bump", "--repo", repo, "targets", "--stage", "--stage"], 0, ""),
        (["status", "--repo", tmp_path / "none"], 1, "no repository configuration"),
        (["init", "--repo", tmp_path / "n", "--threshold", "bogus"], 2, "ROLE=VALUE"),
        (["init", "--repo", tmp_path / "n", "--expires", "bin=3"], 2, "not a top-level role"),
        (["init", "--repo", tmp_path / "n", "--no-encrypt", "--passphrase-env", "X"], 2,
         "contradict"),
        (["init", "--repo", tmp_path / "n", "--passphrase-env", "UNSET_TUFKIT_VAR"], 1,
         "UNSET_TUFKIT_VAR is unset"),
        (["init", "--repo", tmp_path / "n", "--public-key", f"root={tmp_path / 'f.txt'}"], 1,
         "is not a public key"),
        (["init", "--repo", tmp_path / "n", "--key", "root=env:NO_SUCH_TUFKIT_KEY"], 1,
         "NO_SUCH_TUFKIT_KEY"),
        (["init", "--repo", tmp_path / "n", "--threshold", "root=2", "--key",
          f"root={repo / 'keys' / 'root.pem'}"], 1, "only 1 keys"),
    ]  # fmt: skip
    for args, code, message in cases:
        result = run("repo", *args, "--json")
        assert result.exit_code == code, (args, result.output)
        if code:
            error = json.loads(result.stdout)["error"]
            assert message in error["message"], (args, error)
            assert error["exit_code"] == code
            assert "internal" not in error["category"]
    # the staged bump above is the one change: nothing was published
    assert _published(repo) == before
    assert not (tmp_path / "n" / "metadata").exists()
    assert not (repo / "keys" / "x.pem").exists()  # the refused delegation's key is gone
    (repo / "tufkit-repo.toml").write_text("[roles.timestamp]\nonlin = true\n")
    bad = run("repo", "bump", "--repo", repo)
    assert bad.exit_code == 1
    assert "did you mean 'online'" in bad.stderr


def test_delegations_with_existing_and_public_keys_then_bins_below(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    ok("repo", "init", "--repo", repo, "--no-encrypt")
    shown = ok("key", "generate", "--out", tmp_path / "team.pem", "--no-encrypt").stdout
    (tmp_path / "other.pub").write_text(
        ok("key", "generate", "--out", tmp_path / "other.pem", "--no-encrypt").stdout
    )
    done = ok_json("repo", "delegate", "--repo", repo, "team", "--path", "team/*",
                   "--key", tmp_path / "team.pem", "--public-key", tmp_path / "other.pub",
                   "--terminating")  # fmt: skip
    assert done["delegated"] == "team"
    targets = json.loads((repo / "metadata" / "2.targets.json").read_bytes())["signed"]
    role = targets["delegations"]["roles"][0]
    assert role["terminating"] is True
    assert json.loads(shown)["keyid"] in role["keyids"]
    assert len(role["keyids"]) == 2
    ok("repo", "delegate", "--repo", repo, "t-bin", "--from", "team", "--bins", "1",
       "--generate", "--no-encrypt")  # fmt: skip
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "lib.whl").write_bytes(b"lib")
    ok("repo", "add", "--repo", repo, "--base", tmp_path, tmp_path / "team" / "lib.whl")
    config = (repo / "tufkit-repo.toml").read_text()
    assert '[roles."t-bin"]' in config
    assert 'delegator = "team"' in config
    published = {p.name for p in (repo / "metadata").iterdir()}
    assert {"1.t-bin-0.json", "1.t-bin-1.json", "1.team.json"} <= published
    assert {"2.t-bin-0.json", "2.t-bin-1.json"} & published  # the target went into one bin
    twice = run("repo", "delegate", "--repo", repo, "TEAM", "--path", "x/*", "--generate",
                "--no-encrypt")  # fmt: skip
    assert twice.exit_code == 1
    assert "collides with existing role 'team'" in twice.stderr
