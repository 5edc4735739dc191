"""Real processes: several clients sharing one cache, and the command lines under hostile input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pytuf_repo import PyTufRepo, serve
from tuf.api.metadata import TargetFile

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent

WORKER = """
import sys
from pathlib import Path
from tufkit.client import Updater
meta, url, root, targets, rounds = sys.argv[1:]
for _ in range(int(rounds)):
    updater = Updater(
        meta, url + "/metadata", trusted_root=Path(root).read_bytes(),
        target_dir=targets, target_base_url=url + "/targets",
    )
    updater.refresh()
    info = updater.get_targetinfo("team/app.tgz")
    assert info is not None
    updater.download_target(info)
"""


def _watch(meta: Path, targets: Path, stop: threading.Event, problems: list[str]) -> None:
    """Read every stored file, lock-free, while the workers run: each must be complete."""
    while not stop.is_set():
        for path in list(meta.glob("*.json")) + list(targets.glob("*")):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if path.suffix == ".json":
                try:
                    json.loads(data)
                except ValueError:
                    problems.append(f"{path.name}: incomplete ({len(data)} bytes)")
            elif not path.name.startswith(".") and data != b"app" * 10_000:
                problems.append(f"{path.name}: wrong content ({len(data)} bytes)")


def test_processes_share_one_cache(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    for _ in range(4):
        repo.rotate_root()
    for i in range(2000):  # a targets file of a few hundred KB: writes take a while
        repo.roles["targets"].signed.targets[f"f/{i}"] = TargetFile(1, {"sha256": "00" * 32}, "x")
    repo.delegate("targets", "team", ["team/*"])
    repo.add_target("team/app.tgz", b"app" * 10_000, "team")
    repo.publish()
    root = tmp_path / "root.json"
    root.write_bytes(repo.root_bytes())
    meta, targets = tmp_path / "shared-meta", tmp_path / "shared-targets"
    problems: list[str] = []
    stop = threading.Event()
    with serve(tmp_path / "repo") as (url, _):
        watcher = threading.Thread(target=_watch, args=(meta, targets, stop, problems))
        watcher.start()
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(meta), url, str(root), str(targets), "4"],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        errors = [w.communicate(timeout=120)[1] for w in workers]
        stop.set()
        watcher.join()
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    assert problems == []
    served = tmp_path / "repo" / "metadata"
    assert sorted(p.name for p in meta.iterdir()) == [
        ".lock",
        "root.json",
        "snapshot.json",
        "targets.json",
        "team.json",
        "timestamp.json",
    ]
    assert (meta / "root.json").read_bytes() == (served / "5.root.json").read_bytes()
    for role in ("snapshot", "targets", "team"):
        assert (meta / f"{role}.json").read_bytes() == (served / f"1.{role}.json").read_bytes()
    assert [p.name for p in targets.iterdir()] == ["team%2Fapp.tgz"]
    from tufkit.client import Updater

    offline = Updater.from_trusted_cache(meta, "http://127.0.0.1:9/")
    offline.load_offline()  # every stored file verifies, with no network
    assert offline.get_targetinfo("team/app.tgz") is not None


def _tufkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tufkit"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tufkit-conformance-client"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line_failure(result: subprocess.CompletedProcess[str], codes: tuple[int, ...]) -> str:
    assert result.returncode in codes, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if "rror" in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_refuses_traversal_in_role_names_and_target_paths(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    for path in ("../../escape.txt", "a/../../escape.txt"):  # listed, never written anywhere
        repo.roles["targets"].signed.targets[path] = TargetFile.from_data(path, b"evil")
    repo.delegate("targets", "../evil", ["evil/*"])
    repo.add_target("evil/x", b"inside", "../evil")
    repo.publish()
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    work = tmp_path / "work"
    base = ["client", "--metadata-dir", str(work / "m"), "--target-dir", str(work / "t")]
    assert _tufkit(*base, "init", "--bootstrap", str(tmp_path / "root.json")).returncode == 0
    with serve(tmp_path / "repo") as (url, paths):
        online = [*base, "--metadata-url", f"{url}/metadata", "--target-base-url", f"{url}/targets"]
        for path in ("../../escape.txt", "a/../../escape.txt"):
            line = _one_line_failure(_tufkit(*online, "download", path), (2,))  # usage
            assert "is not a safe relative path" in line
        assert not any("escape" in p for p in paths)
        result = _tufkit(*online, "download", "evil/x")
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (work / "m").glob("*.json")) == [
        "..%2fevil.json",  # role file names: lowercase percent-encoding
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    assert [p.name for p in (work / "t").iterdir()] == ["evil%2Fx"]
    assert sorted(p.name for p in work.iterdir()) == ["m", "t"]
    assert not list(tmp_path.glob("**/escape.txt"))


def test_cli_hostile_input_exits_cleanly(tmp_path: Path) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.publish()
    good = tmp_path / "root.json"
    good.write_bytes(repo.root_bytes())
    (tmp_path / "notjson.json").write_bytes(b"\x00\xffnot json")
    (tmp_path / "list.json").write_text("[1, 2]")
    meta = ["client", "--metadata-dir", str(tmp_path / "m")]
    _one_line_failure(_tufkit(*meta, "init", "--bootstrap", str(tmp_path / "missing")), (2,))
    for bad in ("notjson.json", "list.json"):
        _one_line_failure(_tufkit(*meta, "init", "--bootstrap", str(tmp_path / bad)), (1,))
    assert not (tmp_path / "m" / "root.json").exists()
    _one_line_failure(_tufkit(*meta, "--metadata-url", "http://127.0.0.1:9/", "refresh"), (1,))
    assert _tufkit(*meta, "init", "--bootstrap", str(good)).returncode == 0
    for url in ("not a url", "ftp://127.0.0.1/m", "http://[::1", ""):  # usage errors
        _one_line_failure(_tufkit(*meta, "--metadata-url", url, "refresh"), (2,))
    _one_line_failure(_tufkit(*meta, "--metadata-url", "http://127.0.0.1:9/m", "refresh"), (1,))
    _one_line_failure(_tufkit(*meta, "refresh"), (2,))  # no URL given or remembered
    _one_line_failure(_tufkit(*meta, "--unsafe-max-staleness", "soon", "refresh"), (2,))
    _one_line_failure(_tufkit(*meta, "--offline", "info", "x"), (1,))

    cmeta = ["--metadata-dir", str(tmp_path / "c")]
    _one_line_failure(_conformance(*cmeta, "init", str(tmp_path / "missing")), (1,))
    _one_line_failure(_conformance(*cmeta, "init"), (1,))
    _one_line_failure(_conformance(*cmeta, "frobnicate"), (2,))
    assert _conformance(*cmeta, "init", str(tmp_path / "notjson.json")).returncode == 0
    for url in ("not a url", "http://[::1", "http://127.0.0.1:9/m"):
        _one_line_failure(_conformance(*cmeta, "--metadata-url", url, "refresh"), (1,))
    shutil.rmtree(tmp_path / "c")
    _one_line_failure(
        _conformance(*cmeta, "--metadata-url", "http://127.0.0.1:9/", "refresh"), (1,)
    )
