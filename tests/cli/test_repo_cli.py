"""``tufkit repo`` end to end, in real processes: a maintainer creates and publishes a repository,
``tufkit repo serve`` serves it on 127.0.0.1, and both tufkit's client and python-tuf's ngclient
(the reference, test-only) download its targets; a 2-of-3 targets ceremony runs through
``stage``/``sign``/``status``/``publish`` with each keyholder in their own directory and process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_repo import TUFKIT, tufkit
from tuf.ngclient import Updater

pytestmark = pytest.mark.integration


def ok(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = tufkit(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    return result


def ok_json(*args: str | Path, cwd: Path | None = None) -> dict[str, object]:
    doc: dict[str, object] = json.loads(ok(*args, "--json", cwd=cwd).stdout)
    return doc


@pytest.fixture
def server_for(tmp_path: Path) -> Iterator[Callable[[Path], dict[str, str]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(repo: Path) -> dict[str, str]:
        process = subprocess.Popen(
            [*TUFKIT, "repo", "serve", "--repo", str(repo), "--port", "0", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "}\n":
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            lines.append(line)
        urls: dict[str, str] = json.loads("".join(lines))
        return urls

    yield start
    for process in processes:
        process.terminate()
        process.communicate(timeout=10)  # also closes the pipes


def _fetch(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_init_add_delegate_bins_publish_serve_then_both_clients_download(
    tmp_path: Path, server_for: Callable[[Path], dict[str, str]]
) -> None:
    repo = tmp_path / "repo"
    dist = tmp_path / "dist"
    (dist / "app").mkdir(parents=True)
    (dist / "app" / "app-1.0.tar.gz").write_bytes(b"app one")
    (dist / "readme.txt").write_bytes(b"read me")
    (dist / "project-a").mkdir()
    for i in range(5):
        (dist / "project-a" / f"lib-{i}.whl").write_bytes(f"lib {i}".encode())

    created = ok_json("repo", "init", "--repo", repo, "--no-encrypt", "--expires", "targets=30")
    assert created["bootstrap"] == str(repo / "metadata" / "1.root.json")
    ok("repo", "add", "--repo", repo, "--base", dist, dist / "app", dist / "readme.txt")
    # a project's role with its own bins below it (a delegated role's hashed bins)
    ok("repo", "delegate", "--repo", repo, "project-a", "--path", "project-a/*",
       "--generate", "--no-encrypt")  # fmt: skip
    ok("repo", "delegate", "--repo", repo, "a-bin", "--from", "project-a", "--bins", "3",
       "--generate", "--no-encrypt")  # fmt: skip
    added = ok_json("repo", "add", "--repo", repo, "--base", dist, f"{dist}/project-a/*.whl")
    assert len(added["added"]) == 5  # type: ignore[arg-type]
    status = ok_json("repo", "status", "--repo", repo, "--all")
    roles = {r["role"]: r for r in status["roles"]}  # type: ignore[attr-defined]
    assert {"project-a", "a-bin-0", "a-bin-7"} <= set(roles)
    assert roles["timestamp"]["online"]
    assert not roles["root"]["online"]
    assert 29 < roles["targets"]["days_left"] <= 30

    urls = server_for(repo)
    # the server hands out metadata and targets, never keys, configuration or state
    assert _fetch(urls["metadata_url"] + "1.root.json") == 200
    assert _fetch(urls["metadata_url"].replace("metadata/", "tufkit-repo.toml")) == 404
    assert _fetch(urls["metadata_url"] + "../keys/root.pem") == 404
    assert _fetch(urls["metadata_url"] + "%2e%2e/keys/root.pem") == 404
    assert _fetch(urls["metadata_url"]) == 404  # no listing

    client_dir = tmp_path / "client"
    meta: list[str | Path] = ["client", "--metadata-dir", client_dir / "meta"]
    bootstrap = repo / "metadata" / "1.root.json"
    ok(*meta, "init", "--bootstrap", bootstrap, "--metadata-url", urls["metadata_url"],
       "--target-base-url", urls["target_base_url"])  # fmt: skip
    for path, content in [("app/app-1.0.tar.gz", b"app one"), ("project-a/lib-3.whl", b"lib 3")]:
        ok(*meta, "download", path, "--output", client_dir / "got")
        assert (client_dir / "got").read_bytes() == content

    reference = tmp_path / "pytuf"
    reference.mkdir()
    shutil.copy(repo / "metadata" / "1.root.json", reference / "root.json")
    updater = Updater(
        metadata_dir=str(reference),
        metadata_base_url=urls["metadata_url"],
        target_base_url=urls["target_base_url"],
        target_dir=str(tmp_path / "pytuf-targets"),
        bootstrap=None,  # the root.json in metadata_dir
    )
    updater.refresh()
    for path, content in [("readme.txt", b"read me"), ("project-a/lib-0.whl", b"lib 0")]:
        info = updater.get_targetinfo(path)
        assert info is not None, path
        with open(updater.download_target(info), "rb") as handle:
            assert handle.read() == content
    assert updater.get_targetinfo("project-a/lib-9.whl") is None

    # remove, then the cron bump: the reference client follows
    ok("repo", "remove", "--repo", repo, "readme.txt")
    ok("repo", "bump", "--repo", repo)
    updater = Updater(
        metadata_dir=str(reference),
        metadata_base_url=urls["metadata_url"],
        target_base_url=urls["target_base_url"],
        target_dir=str(tmp_path / "pytuf-targets"),
        bootstrap=None,  # the root.json in metadata_dir
    )
    updater.refresh()
    assert updater.get_targetinfo("readme.txt") is None
    assert updater.get_targetinfo("app/app-1.0.tar.gz") is not None


def _published(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((repo / "metadata").iterdir())}


def _keyholder(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A keyholder's own directory with a private key and its public key file."""
    home = tmp_path / name
    home.mkdir()
    shown = ok("key", "generate", "--out", home / "key.pem", "--no-encrypt")
    (home / "key.pub.json").write_text(shown.stdout)
    return home / "key.pem", home / "key.pub.json"


def test_two_of_three_targets_ceremony_across_directories_and_processes(tmp_path: Path) -> None:
    alice, bob, carol = (_keyholder(tmp_path, n) for n in ("alice", "bob", "carol"))
    repo = tmp_path / "repo"
    ok("repo", "init", "--repo", repo, "--no-encrypt", "--threshold", "targets=2",
       "--sign-once", f"targets={alice[0]}", "--sign-once", f"targets={bob[0]}",
       "--public-key", f"targets={carol[1]}")  # fmt: skip
    config = (repo / "tufkit-repo.toml").read_text()
    assert "alice" not in config
    assert "bob" not in config

    (tmp_path / "new.txt").write_bytes(b"new")
    before = _published(repo)
    staged = ok_json("repo", "add", "--repo", repo, "--base", tmp_path, tmp_path / "new.txt",
                     "--stage")  # fmt: skip
    assert _published(repo) == before  # staged, nothing published
    entry = staged["staged"][0]  # type: ignore[index]
    assert entry["role"] == "targets"
    assert not entry["complete"]
    assert len(entry["thresholds"][0]["missing"]) == 3

    # during the ceremony cron's bump still publishes a fresh timestamp and leaves it alone;
    # another edit that would publish is refused
    ok("repo", "bump", "--repo", repo)
    assert _published(repo) != before
    before = _published(repo)
    blocked = tufkit("repo", "add", "--repo", repo, "--base", tmp_path, tmp_path / "new.txt")
    assert blocked.returncode == 1
    assert "targets v2 has 0 valid signatures, threshold 2" in blocked.stderr
    assert _published(repo) == before
    assert len(ok_json("repo", "status", "--repo", repo)["staged"]) == 1  # type: ignore[arg-type]

    # each keyholder signs a copy in their own directory; no repository there
    copies = []
    for holder in (alice, carol):
        copy = holder[0].parent / "targets.staged.json"
        shutil.copy(entry["file"], copy)
        signed = ok_json("repo", "sign", copy, "--key", holder[0], cwd=holder[0].parent)
        assert signed["role"] == "targets"
        copies.append(copy)
    # a key outside the role is refused by the signing tool itself
    outsider = _keyholder(tmp_path, "mallory")
    refused = tufkit("repo", "sign", copies[0], "--key", outsider[0], "--json")
    assert refused.returncode == 1
    assert "not among its authorised keys" in json.loads(refused.stdout)["error"]["message"]

    # under threshold: refused, nothing published, the signature is kept
    under = tufkit("repo", "publish", "--repo", repo, copies[0], "--json")
    assert under.returncode == 1, under.stdout
    assert "threshold 2" in json.loads(under.stdout)["error"]["message"]
    assert _published(repo) == before
    status = ok_json("repo", "status", "--repo", repo)
    thresholds = status["staged"][0]["thresholds"][0]  # type: ignore[index]
    assert len(thresholds["signed"]) == 1
    assert not thresholds["met"]
    human = ok("repo", "status", "--repo", repo).stdout
    assert "1 of 2 needed (NOT met)" in human

    # a signed copy whose content was changed is refused, and nothing is published
    tampered = tmp_path / "tampered.json"
    doc = json.loads(copies[1].read_bytes())
    doc["metadata"]["signed"]["targets"]["new.txt"]["length"] = 4
    tampered.write_text(json.dumps(doc))
    refused = tufkit("repo", "publish", "--repo", repo, tampered, "--json")
    assert refused.returncode == 1
    assert "other content" in json.loads(refused.stdout)["error"]["message"]
    assert _published(repo) == before

    done = ok_json("repo", "publish", "--repo", repo, copies[1])
    assert "timestamp.json" in done["published"]  # type: ignore[operator]
    assert ok_json("repo", "status", "--repo", repo)["staged"] == []
    targets = json.loads((repo / "metadata" / "2.targets.json").read_bytes())
    assert "new.txt" in targets["signed"]["targets"]
    assert len(targets["signatures"]) == 2


def test_an_encrypted_online_key_from_the_environment_and_a_wrong_passphrase(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    env = {**os.environ, "REPO_PASS": "correct horse"}
    subprocess.run(
        [*TUFKIT, "repo", "init", "--repo", str(repo), "--passphrase-env", "REPO_PASS"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    assert b"ENCRYPTED" in (repo / "keys" / "timestamp.pem").read_bytes()
    before = _published(repo)
    env["REPO_PASS"] = "wrong"
    result = subprocess.run(
        [*TUFKIT, "repo", "bump", "--repo", str(repo), "--json"],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["category"] == "config"
    # (a wrong passphrase can also decrypt to garbage: the message then says it is unreadable)
    assert "not a readable private key" in error["message"]
    assert "file:keys/" in error["message"]  # names the key
    assert _published(repo) == before
    env["REPO_PASS"] = "correct horse"
    subprocess.run(
        [*TUFKIT, "repo", "bump", "--repo", str(repo)], env=env, check=True, capture_output=True
    )
    assert _published(repo) != before


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    ok("repo", "init", "--repo", repo, "--no-encrypt")
    return repo


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("format = 1\n[expiry\n", "not valid TOML"),
        ("[expiry]\ntimestmp = 1\n", "unknown key expiry.'timestmp'; did you mean 'timestamp'"),
        ("format = 1\nrole = {}\n", "did you mean 'roles'"),
        ("[roles.timestamp]\nthreshold = 0\n", "roles.timestamp.threshold must be"),
        ("[roles.timestamp]\nsignrs = []\n", "did you mean 'signers'"),
        ('[roles."a/b"]\n', "must not contain '/'"),
        ('[roles."a\\u0000b"]\n', "control characters"),
        ('[roles.".."]\n', "must not start with '.'"),
        ("[expiry]\nroot = -1\n", "expiry.root must be more than 0"),
        ("[expiry]\nroot = 'soon'\n", "expiry.root must be a number of days"),
    ],
)  # fmt: skip
def test_a_bad_configuration_is_refused_naming_the_key(
    small_repo: Path, toml: str, expected: str
) -> None:
    (small_repo / "tufkit-repo.toml").write_text(toml)
    before = _published(small_repo)
    result = tufkit("repo", "bump", "--repo", small_repo)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert _published(small_repo) == before


def test_bad_input_gives_clear_errors_and_publishes_nothing(
    small_repo: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside.txt").write_bytes(b"x")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "a.txt").write_bytes(b"a")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"a.txt,1,sha256:{'0' * 64}\n")
    (tmp_path / "dist" / "link.txt").symlink_to(tmp_path / "outside.txt")
    bad_manifest = tmp_path / "bad.csv"
    bad_manifest.write_text("../etc/passwd,1,sha256:00\n")
    before = _published(small_repo)
    cases: list[tuple[list[str | Path], int, str]] = [
        (["add", "--base", tmp_path / "dist", tmp_path / "outside.txt"], 1, "outside --base"),
        (["add", "--base", tmp_path / "dist", tmp_path / "dist" / "a.txt", "--manifest", manifest],
         1, "given twice"),
        (["add", "--manifest", bad_manifest], 1, ".."),
        (["add", "--base", tmp_path / "dist", tmp_path / "dist"], 1, "links to a file) outside"),
        (["add", tmp_path / "missing.txt"], 1, "no such file"),
        (["remove", "never/listed.txt"], 1, "does not list"),
        (["remove", "../x"], 1, ".."),
        (["delegate", "a/b", "--path", "x/*", "--generate", "--no-encrypt"], 1, "'/'"),
        (["delegate", "..", "--path", "x/*", "--generate", "--no-encrypt"], 1, "'.'"),
        (["delegate", "Targets", "--path", "x/*", "--generate", "--no-encrypt"], 1, "top-level"),
        (["delegate", "p", "--generate", "--no-encrypt"], 2, "--path"),
        (["init", "--threshold", "root=x"], 2, "positive integer"),
        (["init", "--online", "bogus"], 2, "not a top-level role"),
        (["init", "--no-encrypt"], 1, "already holds a repository"),
        (["stage", "snapshot"], 1, "never staged"),
        (["publish", tmp_path / "dist" / "a.txt"], 1, "malformed staged file"),
    ]  # fmt: skip
    for args, code, message in cases:
        for as_json in (False, True):
            extra = ["--json"] if as_json else []
            result = tufkit("repo", *map(str, args), "--repo", small_repo, *extra)
            assert result.returncode == code, (args, result.stdout, result.stderr)
            text = json.loads(result.stdout)["error"]["message"] if as_json else result.stderr
            assert message in text, (args, text)
            if as_json:
                assert json.loads(result.stdout)["error"]["exit_code"] == code
            assert "Traceback" not in result.stderr
            assert "internal error" not in text
    assert _published(small_repo) == before


def test_no_repository_and_help_teach_instead_of_failing(tmp_path: Path) -> None:
    result = tufkit("repo", "status", "--repo", tmp_path / "nothing", "--json")
    assert result.returncode == 1
    assert "tufkit repo init" in json.loads(result.stdout)["error"]["message"]
    for verb in ("init", "add", "remove", "delegate", "stage", "sign", "status", "publish",
                 "bump", "serve"):  # fmt: skip
        shown = ok("repo", verb, "--help").stdout
        assert "tufkit repo" in shown, verb  # every verb's help shows an example
    assert "repo" in ok("--help").stdout


def test_completion_script_is_available() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from tufkit.cli import main; main(prog_name='tufkit')"],
        env={**os.environ, "_TUFKIT_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
    )
    assert "_TUFKIT_COMPLETE" in result.stdout


def _run_in_terminal(command: list[str]) -> tuple[int, str]:
    """Run *command* with stdout and stderr on a pseudo-terminal; return status and output."""
    import pty

    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=child_fd, stderr=child_fd)
    os.close(child_fd)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_bulk_add_shows_a_progress_bar_on_a_terminal_only(small_repo: Path, tmp_path: Path) -> None:
    bulk = tmp_path / "bulk"
    bulk.mkdir()
    for i in range(300):
        (bulk / f"f{i}.txt").write_bytes(os.urandom(20000))
    command = [*TUFKIT, "repo", "add", "--repo", str(small_repo), "--base", str(tmp_path)]
    status, shown = _run_in_terminal([*command, str(bulk)])
    assert status == 0, shown
    assert "hashing targets" in shown
    assert "\u2501" in shown
    (bulk / "one.txt").write_bytes(b"1")
    piped = ok(*command[3:], bulk / "one.txt")
    assert "hashing" not in piped.stderr
    assert "\u2501" not in piped.stderr
    assert "added 1 targets" in piped.stdout


def test_a_failed_init_leaves_nothing_in_the_way_of_the_next(tmp_path: Path) -> None:
    carol = _keyholder(tmp_path, "carol")
    dave = _keyholder(tmp_path, "dave")
    repo = tmp_path / "repo"
    keys = ["--public-key", f"targets={carol[1]}", "--public-key", f"targets={dave[1]}"]
    refused = tufkit(
        "repo", "init", "--repo", repo, "--no-encrypt", "--threshold", "targets=2", *keys
    )
    assert refused.returncode == 1
    assert "targets v1 has 0 valid signatures, threshold 2" in refused.stderr
    assert not (repo / "metadata" / "root.json").exists()
    assert not list((repo / "keys").iterdir())  # the keys generated for it are gone
    ok("repo", "init", "--repo", repo, "--no-encrypt")
