"""tufkit's client against repositories built by python-tuf, served over HTTP on 127.0.0.1.

Each scenario runs tufkit's Updater and python-tuf's ngclient on the same repository and checks
that they agree on every verdict (and on the bytes downloaded).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytuf_repo import PyTufRepo, serve

from tufkit.client import Updater
from tufkit.errors import Error

pytestmark = pytest.mark.integration

Outcome = dict[str, bytes | None]


def _tufkit(repo: PyTufRepo, url: str, work: Path, paths: list[str]) -> Outcome | str:
    updater = Updater(
        work / "tk-meta",
        f"{url}/metadata/",
        trusted_root=repo.root_bytes(),
        target_dir=work / "tk-targets",
        target_base_url=f"{url}/targets/",
    )
    try:
        updater.refresh()
        out: Outcome = {}
        for path in paths:
            info = updater.get_targetinfo(path)
            out[path] = None if info is None else Path(updater.download_target(info)).read_bytes()
        return out
    except Error as exc:
        return f"error:{type(exc).__name__}"


def _python_tuf(repo: PyTufRepo, url: str, work: Path, paths: list[str]) -> Outcome | str:
    from tuf.api.exceptions import DownloadError, RepositoryError
    from tuf.ngclient import Updater as ReferenceUpdater

    (work / "ref-meta").mkdir(exist_ok=True)
    (work / "ref-targets").mkdir(exist_ok=True)
    updater = ReferenceUpdater(
        str(work / "ref-meta"),
        f"{url}/metadata/",
        str(work / "ref-targets"),
        f"{url}/targets/",
        bootstrap=repo.root_bytes(),
    )
    try:
        updater.refresh()
        out: Outcome = {}
        for path in paths:
            info = updater.get_targetinfo(path)
            out[path] = None if info is None else Path(updater.download_target(info)).read_bytes()
        return out
    except (RepositoryError, DownloadError) as exc:
        return f"error:{type(exc).__name__}"


def _layout_delegated(repo: PyTufRepo) -> None:
    repo.delegate("targets", "team", ["team/*"])
    repo.delegate("team", "team/sub role", ["team/*.bin"], terminating=True)
    repo.add_target("team/a.txt", b"team a", "team")
    repo.add_target("team/b.bin", b"deep b", "team/sub role")


def _layout_bins(repo: PyTufRepo) -> None:
    repo.add_succinct_bins(3)
    for i in range(5):
        path = f"pkg/{i}.tgz"
        repo.add_target(path, f"package {i}".encode(), repo.bin_for(path))


LAYOUTS: dict[str, tuple[Callable[[PyTufRepo], None], list[str]]] = {
    "top-level": (lambda r: None, ["file.txt", "a/b/c.txt", "missing"]),
    "delegated": (_layout_delegated, ["team/a.txt", "team/b.bin", "other/x"]),
    "succinct bins": (_layout_bins, ["pkg/0.tgz", "pkg/4.tgz", "pkg/9.tgz"]),
}


@pytest.mark.parametrize("consistent", [True, False], ids=["consistent", "plain"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_agree_with_python_tuf(tmp_path: Path, layout: str, consistent: bool) -> None:
    repo = PyTufRepo(tmp_path / "repo", consistent=consistent)
    repo.add_target("file.txt", b"hello")
    repo.add_target("a/b/c.txt", b"nested")
    build, paths = LAYOUTS[layout]
    build(repo)
    repo.publish()
    with serve(tmp_path / "repo") as (url, _):
        mine = _tufkit(repo, url, tmp_path, paths)
        reference = _python_tuf(repo, url, tmp_path, paths)
    assert isinstance(mine, dict)
    assert mine == reference
    assert sum(v is not None for v in mine.values()) == len(paths) - 1


def _rollback_timestamp(repo: PyTufRepo, base: Path) -> None:
    old = (base / "metadata/timestamp.json").read_bytes()
    repo.publish(bump=("targets",))
    (base / "metadata/timestamp.json").write_bytes(old)


def _substitute_target(repo: PyTufRepo, base: Path) -> None:
    for file in (base / "targets").rglob("*file.txt"):
        file.write_bytes(b"HELLO")


def _rotate_root(repo: PyTufRepo, base: Path) -> None:
    repo.rotate_root()
    repo.rotate_root()


def _remove_snapshot(repo: PyTufRepo, base: Path) -> None:
    repo.publish(bump=("targets",))
    (base / "metadata/2.snapshot.json").unlink()


ATTACKS: dict[str, Callable[[PyTufRepo, Path], None]] = {
    "timestamp rollback": _rollback_timestamp,
    "substituted target": _substitute_target,
    "root rotations": _rotate_root,
    "missing snapshot": _remove_snapshot,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_verdicts_agree(tmp_path: Path, attack: str) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("file.txt", b"hello")
    repo.publish()
    with serve(tmp_path / "repo") as (url, _):
        assert isinstance(_tufkit(repo, url, tmp_path, []), dict)
        assert isinstance(_python_tuf(repo, url, tmp_path, []), dict)
        ATTACKS[attack](repo, tmp_path / "repo")
        mine = _tufkit(repo, url, tmp_path, ["file.txt"])
        reference = _python_tuf(repo, url, tmp_path, ["file.txt"])
    assert isinstance(mine, str) == isinstance(reference, str), (mine, reference)
    if isinstance(mine, dict):
        assert mine == reference
    assert not any(p.read_bytes() == b"HELLO" for p in (tmp_path / "tk-targets").rglob("*"))


def _conformance(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("tufkit-conformance-client", path=str(Path(sys.executable).parent))
    assert exe is not None
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)


def test_conformance_client_cli(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("path/to/file.txt", b"deep")
    repo.publish()
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    meta, targets = tmp_path / "meta", tmp_path / "targets"
    assert (
        _conformance("--metadata-dir", str(meta), "init", str(tmp_path / "root.json")).returncode
        == 0
    )
    with serve(tmp_path / "repo") as (url, paths):
        common = ["--metadata-dir", str(meta), "--metadata-url", f"{url}/metadata"]
        assert _conformance(*common, "refresh").returncode == 0
        assert paths == [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/1.snapshot.json",
            "/metadata/1.targets.json",
        ]
        download = [
            *common,
            "--target-name",
            "path/to/file.txt",
            "--target-base-url",
            f"{url}/targets",
            "--target-dir",
            str(targets),
            "download",
        ]
        for _ in range(2):
            result = _conformance(*download)
            assert result.returncode == 0, result.stderr
        assert sum("file.txt" in p for p in paths) == 1  # second run used the local copy
        missing = _conformance(
            *common,
            "--target-name",
            "nope",
            "--target-base-url",
            f"{url}/targets",
            "--target-dir",
            str(targets),
            "download",
        )
        assert missing.returncode == 1
        assert "Traceback" not in missing.stderr
    assert sorted(p.name for p in meta.glob("*.json")) == [
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    assert [p.read_bytes() for p in targets.rglob("*") if p.is_file()] == [b"deep"]


def test_conformance_client_refuses_bad_root_without_requests(tmp_path: Path) -> None:
    (tmp_path / "root.json").write_bytes(b'{"signed": {}, "signatures": []}')
    meta = tmp_path / "meta"
    assert (
        _conformance("--metadata-dir", str(meta), "init", str(tmp_path / "root.json")).returncode
        == 0
    )
    with serve(tmp_path) as (url, paths):
        result = _conformance("--metadata-dir", str(meta), "--metadata-url", url, "refresh")
    assert result.returncode == 1
    assert paths == []
    assert "Traceback" not in result.stderr


def test_tufkit_client_cli(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from tufkit.cli import main

    repo = PyTufRepo(tmp_path / "repo")
    repo.delegate("targets", "team", ["team/*"])
    repo.add_target("team/app.tgz", b"app", "team")
    repo.publish()
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    runner = CliRunner()
    base = ["client", "--metadata-dir", str(tmp_path / "m"), "--target-dir", str(tmp_path / "t")]
    result = runner.invoke(main, [*base, "init", "--bootstrap", str(tmp_path / "root.json")])
    assert result.exit_code == 0, result.output
    with serve(tmp_path / "repo") as (url, _):
        online = [*base, "--metadata-url", f"{url}/metadata", "--target-base-url", f"{url}/targets"]
        result = runner.invoke(main, [*online, "--json", "refresh"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["targets"] == 1
        result = runner.invoke(main, [*online, "--json", "info", "team/app.tgz"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["chain"] == ["targets", "team"]
        result = runner.invoke(main, [*online, "download", "team/app.tgz"])
        assert result.exit_code == 0, result.output
        assert runner.invoke(main, [*online, "info", "nothing"]).exit_code == 1
    # the server is gone: offline mode still answers from the verified cache
    result = runner.invoke(main, [*base, "--offline", "info", "team/app.tgz"])
    assert result.exit_code == 0, result.output
    assert "team/app.tgz: 3 bytes" in result.output


@pytest.mark.parametrize("fetcher_name", ["HttpFetcher", "Urllib3Fetcher"])
def test_slow_retrieval_is_aborted(tmp_path: Path, fetcher_name: str) -> None:
    import socket
    import threading
    import time

    import tufkit.client
    from tufkit.client import UpdaterConfig
    from tufkit.errors import SlowRetrievalError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.1)
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    config = UpdaterConfig(min_average_speed=100, slow_retrieval_grace=0.5, read_timeout=5)
    fetcher = getattr(tufkit.client, fetcher_name)(config)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/timestamp.json"
    try:
        with pytest.raises(SlowRetrievalError):
            fetcher.fetch(url, 1000)
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        fetcher.close()


@pytest.mark.parametrize("fetcher_name", ["HttpFetcher", "Urllib3Fetcher"])
def test_oversized_response_is_cut(tmp_path: Path, fetcher_name: str) -> None:
    import tufkit.client
    from tufkit.errors import DownloadHTTPError, DownloadLengthMismatchError

    (tmp_path / "big").write_bytes(b"x" * 200_000)
    fetcher = getattr(tufkit.client, fetcher_name)()
    with serve(tmp_path) as (url, _):
        with pytest.raises(DownloadLengthMismatchError):
            fetcher.fetch(f"{url}/big", 1000)
        assert fetcher.fetch(f"{url}/big", 200_000) == b"x" * 200_000
        with pytest.raises(DownloadHTTPError):
            fetcher.fetch(f"{url}/missing", 1000)
    fetcher.close()
