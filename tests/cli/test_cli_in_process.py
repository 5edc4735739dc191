"""The command line run in-process (click's runner): the same scenarios as the process tests, fast,
and measured by coverage (code run in child processes is not).

Each case checks behaviour, not just that the code ran: exit codes, the one-line diagnostics, the
JSON error object, files written or left alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_repo import Repo, serve
from click.testing import CliRunner, Result

from tufkit.cli import main

pytestmark = pytest.mark.integration  # an HTTP server on 127.0.0.1


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def printable(result: Result) -> bool:
    return all(c.isprintable() or c == "\n" for c in result.stdout + result.stderr)


@pytest.fixture
def repo() -> Repo:
    repo = Repo()
    repo.delegate("team", ["team/*"])
    repo.add_target("hello.txt", b"hello\n", custom={"build": "\x1b[31mred"})
    repo.add_target("team/app.tgz", b"app 1.0", "team")
    return repo


def test_client_session(repo: Repo, tmp_path: Path) -> None:
    root = tmp_path / "root.json"
    root.write_bytes(repo.root_bytes())
    meta: list[str | Path] = ["client", "--metadata-dir", tmp_path / "m", "--target-dir"]
    meta.append(tmp_path / "t")
    with serve(repo.files()) as server:
        urls = ["--metadata-url", f"{server.url}/metadata", "--target-base-url"]
        urls.append(f"{server.url}/targets")
        init = run(*meta[:3], "--json", "init", "--bootstrap", root, *urls)
        assert init.exit_code == 0, init.output
        assert json.loads(init.stdout)["root_version"] == 1
        again = run(*meta[:3], "init", "--bootstrap", root)
        assert again.exit_code == 1
        assert "--force" in again.stderr
        forced = run(*meta[:3], "init", "--bootstrap", root, "--force", *urls)
        assert forced.exit_code == 0, forced.output
        assert "remembering the targets URL" in forced.stdout

        refreshed = run(*meta, "refresh")
        assert refreshed.stdout == "root v1, timestamp v1, snapshot v1, targets v1\n"
        assert json.loads(run(*meta, "--json", "refresh").stdout)["targets"] == 1
        info = run(*meta, "info", "hello.txt")
        assert info.exit_code == 0, info.output
        assert '  custom: {"build": "\\u001b[31mred"}' in info.stdout
        assert printable(info)
        chain = json.loads(run(*meta, "--json", "info", "team/app.tgz").stdout)["chain"]
        assert chain == ["targets", "team"]
        missing = run(*meta, "info", "team/none")
        assert missing.exit_code == 1
        assert missing.stdout == "  targets: -\n  targets -> team: -\n"
        assert "TargetNotFoundError: target 'team/none' is not listed" in missing.stderr

        got = run(*meta, "download", "team/app.tgz")
        assert got.exit_code == 0, got.output
        assert (tmp_path / "t" / "team%2Fapp.tgz").read_bytes() == b"app 1.0"
        again = run(*meta, "--json", "download", "team/app.tgz")
        assert json.loads(again.stdout)["cached"] is True
        out = tmp_path / "app.tgz"
        to_file = run(*meta[:3], "download", "team/app.tgz", "-o", out)
        assert to_file.exit_code == 0, to_file.output
        assert out.read_bytes() == b"app 1.0"
        not_listed = run(*meta, "--json", "download", "nothing")
        assert json.loads(not_listed.stdout)["error"]["category"] == "not-found"
    offline = run(*meta, "--offline", "--unsafe-max-staleness", "60", "info", "hello.txt")
    assert offline.exit_code == 0, offline.output
    assert offline.stderr.startswith("offline: using cached metadata last confirmed ")
    cached = run(*meta, "--offline", "download", "team/app.tgz")
    assert cached.stdout.endswith("(already present)\n")
    not_cached = run(*meta, "--offline", "download", "hello.txt")
    assert not_cached.exit_code == 1
    assert "is not downloaded yet" in not_cached.stderr


def _init(repo: Repo, tmp_path: Path) -> Path:
    root = tmp_path / "root.json"
    root.write_bytes(repo.root_bytes())
    result = run("client", "--metadata-dir", tmp_path / "m", "init", "--bootstrap", root)
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["refresh"], 2, "no metadata URL"),
        (["--metadata-url", "http://127.0.0.1:9/m", "download", "x"], 2, "no targets URL"),
        (["--unsafe-max-staleness", "1", "refresh"], 2, "applies only with --offline"),
        (["--offline", "--refresh-interval", "1", "refresh"], 2, "contradict"),
        (["--metadata-url", "http://[::1", "refresh"], 2, "URL with a host"),
        (["--metadata-url", "http://x/\x1b[2J", "refresh"], 2, "URL with a host"),
        (["download", "../x"], 2, "is not a safe relative path"),
        (["--target-dir", "t", "download", "x", "-o", "y"], 2, "contradict"),
        (["download", "x", "-o", "{tmp}/no/x"], 2, "does not exist"),
        (["--offline", "init"], 2, "does not apply to init"),
        (["--metadata-url", "http://a/", "init", "--metadata-url", "http://b/"], 2, "given twice"),
        (["--metadata-dir", "{tmp}/absent", "refresh"], 1, "does not exist; run init first"),
        (["--metadata-url", "http://127.0.0.1:9/m", "refresh"], 1, "DownloadError"),
    ],
)
def test_client_mistakes(
    repo: Repo, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    root = _init(repo, tmp_path)
    if "init" in args:
        args = [*args, "--bootstrap", "{root}"]
    filled = [a.format(tmp=tmp_path, root=root) for a in args]
    meta = [] if "--metadata-dir" in filled else ["--metadata-dir", str(tmp_path / "m")]
    for as_json in (False, True):
        result = run("client", *meta, *(["--json"] if as_json else []), *filled)
        assert result.exit_code == code, result.output
        assert printable(result)
        if as_json:
            error = json.loads(result.stdout)["error"]
            assert error["exit_code"] == code
            assert message in error["message"] or message == error["type"]
        else:
            assert message in result.stderr


def test_remembered_urls_file_that_init_did_not_write(repo: Repo, tmp_path: Path) -> None:
    _init(repo, tmp_path)
    (tmp_path / "m" / "repository.conf").write_bytes(b"proxy=http://evil/\n")
    result = run("client", "--metadata-dir", tmp_path / "m", "refresh")
    assert result.exit_code == 1
    assert "repository.conf is not a file written by init" in result.stderr


def test_metadata_show_and_verify(repo: Repo, tmp_path: Path) -> None:
    root = repo.write_role(tmp_path, "root")
    targets = repo.write_role(tmp_path, "targets")
    team = repo.write_role(tmp_path, "team")
    shown = run("metadata", "show", root)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("root v1 (spec ")
    assert "  role timestamp: 1 of [" in shown.stdout
    assert "delegates team/* to team" in run("metadata", "show", targets).stdout
    assert json.loads(run("metadata", "show", "--json", team).stdout)["targets"] == 1

    verified = run("metadata", "verify", targets, "--by", root, "--at", "2000-01-01T00:00:00Z")
    assert verified.stdout == "targets: 1 valid signature, threshold 1\ntargets: verified\n"
    expired = run("metadata", "verify", targets, "--by", root, "--at", "2999-01-01T00:00:00Z")
    assert expired.exit_code == 1
    assert "ExpiredMetadataError: role 'targets' expired at " in expired.stderr
    report = json.loads(
        run(
            "metadata", "verify", targets, "--by", root, "--json", "--at", "2999-01-01T00:00:00Z"
        ).stdout
    )
    assert report["verified"] is True
    assert report["error"]["type"] == "ExpiredMetadataError"
    assert run("metadata", "verify", team, "--by", targets).exit_code == 2
    unknown = run("metadata", "verify", team, "--by", targets, "--role", "other")
    assert unknown.exit_code == 1
    assert "does not delegate 'other' (it delegates: 'team')" in unknown.stderr
    absent = run("metadata", "verify", team, "--by", team.parent / "absent.json")
    assert absent.exit_code == 2
    assert "absent.json" in absent.stderr
    bad_at = run("metadata", "verify", team, "--by", targets, "--at", "soon")
    assert bad_at.exit_code == 2
    assert "'--at'" in bad_at.stderr


def test_the_demo_runs_and_prints_nothing_raw(tmp_path: Path) -> None:
    out = tmp_path / "demo\x1b[2J"
    result = run("demo", "--out", out)
    assert result.exit_code == 0, result.output
    assert printable(result)
    assert result.stdout.count("refused:") == 8
    assert "refused: a timestamp signed by the revoked key" in result.stdout
    assert "SECURITY FAILURE" not in result.stdout
    refused = run("demo", "--out", tmp_path)  # not made by the demo
    assert refused.exit_code == 1
    assert "was not made by the demo" in refused.stderr
