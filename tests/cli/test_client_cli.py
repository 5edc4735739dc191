"""``tufkit client`` as a user meets it: init, remembered URLs, usage errors, ``--json`` failures,
``download -o``, and what an interrupted download leaves behind. Real processes, real HTTP on
127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest
from cli_repo import TUFKIT, Repo, Trickle, serve, tufkit

pytestmark = pytest.mark.integration


@pytest.fixture
def repo() -> Repo:
    repo = Repo()
    repo.delegate("team", ["team/*"])
    repo.add_target("hello.txt", b"hello\n")
    repo.add_target("team/app.tgz", b"app 1.0", "team")
    return repo


def _meta(tmp_path: Path) -> list[str]:
    return ["client", "--metadata-dir", str(tmp_path / "m")]


def _init(tmp_path: Path, repo: Repo, *extra: str) -> subprocess.CompletedProcess[str]:
    root = tmp_path / f"root-{id(repo)}.json"
    root.write_bytes(repo.root_bytes())
    return tufkit(*_meta(tmp_path), "init", "--bootstrap", root, *extra)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        assert "internal error" not in text


# -- init -----------------------------------------------------------------------------------


def test_init_refuses_to_replace_a_trusted_root_without_force(repo: Repo, tmp_path: Path) -> None:
    assert _init(tmp_path, repo).returncode == 0
    trusted = (tmp_path / "m" / "root.json").read_bytes()
    other = Repo()
    refused = _init(tmp_path, other)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    _no_traceback(refused)
    assert (tmp_path / "m" / "root.json").read_bytes() == trusted


def test_init_force_starts_clean(repo: Repo, tmp_path: Path) -> None:
    with serve(repo.files()) as server:
        assert _init(tmp_path, repo, "--metadata-url", f"{server.url}/metadata").returncode == 0
        assert tufkit(*_meta(tmp_path), "refresh").returncode == 0
    cached = sorted(p.name for p in (tmp_path / "m").glob("*.json"))
    assert cached == ["root.json", "snapshot.json", "targets.json", "timestamp.json"]
    other = Repo()
    replaced = _init(tmp_path, other, "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert [p.name for p in (tmp_path / "m").glob("*.json")] == ["root.json"]
    assert (tmp_path / "m" / "root.json").read_bytes() == other.root_bytes()
    # the old repository's URL is forgotten too
    forgotten = tufkit(*_meta(tmp_path), "refresh")
    assert forgotten.returncode == 2
    assert "--metadata-url" in forgotten.stderr


def test_init_remembers_urls_and_options_override_them(repo: Repo, tmp_path: Path) -> None:
    with serve(repo.files()) as server:
        urls = ["--metadata-url", f"{server.url}/metadata"]
        urls += ["--target-base-url", f"{server.url}/targets"]
        assert _init(tmp_path, repo, *urls).returncode == 0
        got = tufkit(*_meta(tmp_path), "--target-dir", tmp_path / "t", "download", "team/app.tgz")
        assert got.returncode == 0, got.stderr
        assert (tmp_path / "t" / "team%2Fapp.tgz").read_bytes() == b"app 1.0"
        served = len(server.requests)
        dead = "http://127.0.0.1:9/metadata"  # nothing listens on port 9
        overridden = tufkit(*_meta(tmp_path), "--metadata-url", dead, "refresh")
        assert overridden.returncode == 1
        assert "127.0.0.1:9" in overridden.stderr
        assert len(server.requests) == served
    # given before and after init, the same option must agree
    twice = _init(tmp_path, repo, "--force", *urls[:2])
    assert twice.returncode == 0
    clash = tufkit(
        *_meta(tmp_path), "--metadata-url", "http://127.0.0.1:1/a", "init", "--force",
        "--bootstrap", tmp_path / f"root-{id(repo)}.json", "--metadata-url", "http://127.0.0.1:1/b",
    )  # fmt: skip
    assert clash.returncode == 2
    assert "--metadata-url" in clash.stderr


# -- usage errors ---------------------------------------------------------------------------


class Usage(NamedTuple):
    """A command line that is wrong, and the option the error must name."""

    args: tuple[str, ...]
    names: str


USAGE_ERRORS = [
    Usage(("refresh",), "--metadata-url"),
    Usage(("--metadata-url", "{url}/metadata", "download", "hello.txt"), "--target-base-url"),
    Usage(("--unsafe-max-staleness", "60", "info", "x"), "--unsafe-max-staleness"),
    Usage(("--offline", "--refresh-interval", "60", "info", "x"), "--refresh-interval"),
    Usage(("--unsafe-max-staleness", "-1", "--offline", "info", "x"), "--unsafe-max-staleness"),
    Usage(("--metadata-url", "not a url", "refresh"), "--metadata-url"),
    Usage(("--target-dir", "{tmp}/t", "download", "x", "-o", "{tmp}/x"), "--target-dir"),
    Usage(("download", "x", "-o", "{tmp}/missing/x"), "--output"),
    Usage(("--offline", "init", "--bootstrap", "{tmp}/root.json"), "--offline"),
    Usage(("init",), "--bootstrap"),
    Usage(("download",), "PATH"),
    Usage(("download", "../etc/passwd"), "PATH"),
    Usage(("info", "a//b"), "PATH"),
]


@pytest.mark.parametrize("case", USAGE_ERRORS, ids=lambda case: " ".join(case.args))
def test_missing_or_contradictory_options_are_usage_errors(
    repo: Repo, tmp_path: Path, case: Usage
) -> None:
    assert _init(tmp_path, repo).returncode == 0
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    with serve(repo.files()) as server:
        args = [a.format(url=server.url, tmp=tmp_path) for a in case.args]
        result = tufkit(*_meta(tmp_path), *args)
        as_json = tufkit(*_meta(tmp_path), "--json", *args)
        assert server.requests == []
    assert result.returncode == 2, result.stderr
    assert case.names in result.stderr
    _no_traceback(result)
    assert as_json.returncode == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["category"] == "usage"
    assert error["exit_code"] == 2
    assert case.names in error["message"]


# -- --json failures and the target that is not listed ------------------------------------


def test_json_failures_are_one_error_object_with_the_same_exit_code(
    repo: Repo, tmp_path: Path
) -> None:
    files = repo.files()
    assert _init(tmp_path, repo).returncode == 0
    with serve(files) as server:
        online = [*_meta(tmp_path), "--metadata-url", f"{server.url}/metadata"]
        online += ["--target-base-url", f"{server.url}/targets", "--target-dir", str(tmp_path)]
        missing = tufkit(*online, "--json", "download", "nothing.txt")
        missing_text = tufkit(*online, "download", "nothing.txt")
        info_missing = tufkit(*online, "--json", "info", "nothing.txt")
        files["/metadata/timestamp.json"] = b"{}"
        broken = tufkit(*online, "--json", "refresh")
    offline = tufkit(*_meta(tmp_path), "--json", "--offline", "download", "hello.txt")

    error = json.loads(missing.stdout)["error"]
    assert missing.returncode == error["exit_code"] == 1
    assert error == {
        "type": "TargetNotFoundError",
        "category": "not-found",
        "message": "target 'nothing.txt' is not listed by the repository",
        "exit_code": 1,
    }
    assert missing.stderr == ""
    # the same failure as text: not reported as a repository fault
    assert missing_text.returncode == 1
    assert missing_text.stderr == (
        "error: TargetNotFoundError: target 'nothing.txt' is not listed by the repository\n"
    )
    # info keeps what it found and adds the error
    report = json.loads(info_missing.stdout)
    assert info_missing.returncode == 1
    assert report["target"] is None
    assert [v["chain"] for v in report["visited"]] == [["targets"]]
    assert report["error"]["type"] == "TargetNotFoundError"

    error = json.loads(broken.stdout)["error"]
    assert broken.returncode == error["exit_code"] == 1
    assert error["category"] == "repository"
    assert error["type"] == "FormatError"

    error = json.loads(offline.stdout)["error"]
    assert offline.returncode == error["exit_code"] == 1
    assert "--offline" in error["message"]


# -- download -o ----------------------------------------------------------------------------


def test_download_to_an_output_file(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out" / "app.tgz"
    out.parent.mkdir()
    with serve(repo.files()) as server:
        urls = ["--metadata-url", f"{server.url}/metadata"]
        urls += ["--target-base-url", f"{server.url}/targets"]
        assert _init(tmp_path, repo, *urls).returncode == 0
        first = tufkit(*_meta(tmp_path), "download", "team/app.tgz", "-o", out)
        fetched = len(server.requests)
        second = tufkit(*_meta(tmp_path), "--json", "download", "team/app.tgz", "--output", out)
    assert first.returncode == 0, first.stderr
    assert out.read_bytes() == b"app 1.0"
    assert [p.name for p in out.parent.iterdir()] == ["app.tgz"]
    assert not (tmp_path / ".tufkit").exists()  # nothing went to the default target directory
    assert json.loads(second.stdout) == {
        "path": "team/app.tgz",
        "file": str(out),
        "cached": True,
        "length": 7,
    }
    assert not any(p.startswith("/targets/") for p in server.requests[fetched:])


# -- interrupted downloads ------------------------------------------------------------------


def _tree(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if not p.is_dir()}


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["TERM", "INT"]
)
@pytest.mark.parametrize("output", [False, True], ids=["target-dir", "-o"])
def test_an_interrupted_download_leaves_nothing_behind(
    tmp_path: Path, signum: int, status: int, output: bool
) -> None:
    repo = Repo()
    repo.add_target("big.bin", os.urandom(1 << 20))
    work = tmp_path / "work"
    trickle = Trickle()
    with serve(repo.files(), trickle) as server:
        client = ["client", "--metadata-dir", str(work / "m")]
        urls = ["--metadata-url", f"{server.url}/metadata"]
        urls += ["--target-base-url", f"{server.url}/targets"]
        (tmp_path / "root.json").write_bytes(repo.root_bytes())
        assert tufkit(*client, "init", "--bootstrap", tmp_path / "root.json", *urls).returncode == 0
        assert tufkit(*client, "refresh").returncode == 0
        (work / "out").mkdir()
        before = _tree(work)
        if output:
            where = [*client, "download", "big.bin", "-o", str(work / "out" / "big.bin")]
        else:
            where = [*client, "--target-dir", str(work / "t"), "download", "big.bin"]
        pipe = subprocess.PIPE
        process = subprocess.Popen([*TUFKIT, *where], stdout=pipe, stderr=pipe)
        try:
            assert trickle.started.wait(timeout=60), "the download never started"
            deadline = time.monotonic() + 10
            while not _tree(work) - before and time.monotonic() < deadline:
                time.sleep(0.02)  # the first bytes are on their way to a temporary file
            assert _tree(work) - before, "no temporary file appeared"
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == status, stderr
    assert b"Traceback" not in stderr
    assert _tree(work) == before  # no partial file, no temporary file, anywhere


# -- a progress bar on a terminal only, and rich imported only then ------------------------


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
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_no_rich_otherwise(tmp_path: Path) -> None:
    repo = Repo()
    repo.add_target("big.bin", os.urandom(3 << 20))
    repo.add_target("small.txt", b"small")
    with serve(repo.files(), Trickle(first=1 << 20, step=1 << 20, delay=0.3)) as server:
        urls = ["--metadata-url", f"{server.url}/metadata"]
        urls += ["--target-base-url", f"{server.url}/targets"]
        assert _init(tmp_path, repo, *urls).returncode == 0
        meta = [*_meta(tmp_path), "--target-dir", str(tmp_path / "t")]
        status, shown = _run_in_terminal([*TUFKIT, *meta, "download", "big.bin"])
        assert status == 0, shown
        status, small = _run_in_terminal([*TUFKIT, *meta, "download", "small.txt"])
        assert status == 0, small
        (tmp_path / "t" / "big.bin").unlink()
        piped = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "tufkit", *meta, "download", "big.bin"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "\u2501" in shown  # the bar itself
    assert "MB" in shown  # bytes done / total
    assert "big.bin ->" in shown
    assert "\u2501" not in small  # small downloads show no bar
    assert piped.returncode == 0, piped.stderr
    assert "\u2501" not in piped.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in piped.stderr.splitlines()}
    assert "tufkit.client" in imported
    assert not {name for name in imported if name == "rich" or name.startswith("rich.")}


def test_client_info_imports_nothing_it_does_not_use(repo: Repo, tmp_path: Path) -> None:
    with serve(repo.files()) as server:
        assert _init(tmp_path, repo, "--metadata-url", f"{server.url}/metadata").returncode == 0
        assert tufkit(*_meta(tmp_path), "refresh").returncode == 0
    offline = [*_meta(tmp_path), "--offline", "info", "hello.txt"]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tufkit", *offline],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "tufkit.client" in imported
    unused = {"rich", "tufkit.cli._io", "tufkit.cli.metadata", "tufkit.cli.key", "pathlib"}
    unused |= {"tufkit.cli.intoto", "tufkit.cli.demo"}
    assert imported & unused == set(), result.stderr
