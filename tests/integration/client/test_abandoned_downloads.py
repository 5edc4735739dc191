"""A download killed half-way leaves no partial file under the target's name, and the hidden
temporary file it leaves is removed by the next download once its writer is gone; a temporary
file still being written is never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pytuf_repo import PyTufRepo, serve

from tufkit._atomic import remove_abandoned, replace_atomically

BIG = os.urandom(1 << 20)


@contextmanager
def stalling_server(directory: Path) -> Iterator[str]:
    """Serve *directory*, but stall every target body after its first 64 KiB."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = directory / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if "/targets/" not in self.path:
                self.wfile.write(data)
                return
            self.wfile.write(data[: 64 * 1024])
            self.wfile.flush()
            time.sleep(30)  # the client is killed long before this ends

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(meta: Path, targets: Path, url: str) -> list[str]:
    exe = shutil.which("tufkit-conformance-client", path=str(Path(sys.executable).parent))
    assert exe is not None
    return [
        exe,
        "--metadata-dir",
        str(meta),
        "--metadata-url",
        f"{url}/metadata",
        "--target-name",
        "big.bin",
        "--target-base-url",
        f"{url}/targets",
        "--target-dir",
        str(targets),
        "download",
    ]


def _parts(directory: Path) -> list[Path]:
    return sorted(directory.glob(".tufkit+*.part"))


def test_killed_download_leaves_only_a_hidden_part_that_the_next_download_removes(
    tmp_path: Path,
) -> None:
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("big.bin", BIG)
    repo.publish()
    meta, targets = tmp_path / "meta", tmp_path / "targets"
    meta.mkdir()
    (meta / "root.json").write_bytes(repo.root_bytes())
    targets.mkdir()

    with stalling_server(tmp_path / "repo") as url:
        process = subprocess.Popen(_client(meta, targets, url))
        deadline = time.monotonic() + 20
        while not _parts(targets) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)  # let some bytes reach the temporary file
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    left = _parts(targets)
    assert len(left) == 1, "the killed download should have left its hidden temporary file"
    assert [p.name for p in targets.iterdir()] == [left[0].name]  # nothing under the real name
    assert 0 < left[0].stat().st_size < len(BIG)

    old = time.time() - 3600
    os.utime(left[0], (old, old))
    with serve(tmp_path / "repo") as (fast_url, _paths):
        result = subprocess.run(
            _client(meta, targets, fast_url), capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    files = list(targets.iterdir())
    assert len(files) == 1
    assert files[0].read_bytes() == BIG


def test_a_temporary_file_being_written_is_never_removed(tmp_path: Path) -> None:
    target = tmp_path / "file"
    with replace_atomically(target) as handle:
        handle.write(b"in progress")
        handle.flush()
        (part,) = _parts(tmp_path)
        old = time.time() - 3600
        os.utime(part, (old, old))
        assert remove_abandoned(tmp_path) == 0
        assert part.exists()
    assert target.read_bytes() == b"in progress"
    assert _parts(tmp_path) == []


def test_a_recent_unlocked_temporary_file_is_kept(tmp_path: Path) -> None:
    fresh = tmp_path / ".tufkit+0123456789abcdef.part"
    fresh.write_bytes(b"x")
    assert remove_abandoned(tmp_path) == 0  # may belong to a writer that has not locked it yet
    old = time.time() - 3600
    os.utime(fresh, (old, old))
    assert remove_abandoned(tmp_path) == 1
    assert not fresh.exists()
