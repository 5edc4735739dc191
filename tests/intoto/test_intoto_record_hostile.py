"""Recording hostile trees: files swapped while they are recorded (by a real racing process),
symlink graphs that multiply paths, recordings that outlast their timeout."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tufkit.errors import ConfigError
from tufkit.intoto import (
    CommandError,
    Inspection,
    RecordOptions,
    WorkdirInspectionRunner,
    record_artifacts,
)

RACE_SECONDS = 4.0

# Swaps root/victim between a regular file and either a symlink to an outside file or a FIFO
# (hard links of one FIFO, so the test can open its other end).
SWAPPER = textwrap.dedent(
    """
    import os, sys, time
    root, stash, secret, mode = sys.argv[1:5]
    end = time.monotonic() + float(sys.argv[5])
    tmp = os.path.join(stash, "tmp")
    victims = [os.path.join(root, f"victim{index}") for index in range(VICTIMS)]
    while time.monotonic() < end:
        for victim in victims:
            if mode == "symlink":
                os.symlink(secret, tmp)
            else:
                os.link(os.path.join(stash, "fifo"), tmp)
            os.replace(tmp, victim)
            os.link(os.path.join(stash, "inside"), tmp)
            os.replace(tmp, victim)
    """
).replace("VICTIMS", "8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _race_tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    root, stash, outside = tmp_path / "root", tmp_path / "stash", tmp_path / "outside"
    for directory in (root, stash, outside):
        directory.mkdir()
    (outside / "secret").write_bytes(b"outside")
    (stash / "inside").write_bytes(b"inside")
    os.mkfifo(stash / "fifo")
    for index in range(8):
        os.link(stash / "inside", root / f"victim{index}")
    return root, stash, outside / "secret"


@pytest.mark.parametrize("mode", ["symlink", "fifo"])
def test_file_swapped_while_recording(mode: str, tmp_path: Path) -> None:
    """Never the outside file's hash (or a FIFO's) under the inside name; never blocked."""
    root, stash, secret = _race_tree(tmp_path)
    inside = _sha(b"inside")
    seen: dict[str, int] = {"inside": 0, "absent": 0, "refused": 0}
    wrong: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def record_until_stopped() -> None:
        try:
            while not stop.is_set():
                try:
                    hashes = record_artifacts(["."], RecordOptions(base_path=root))
                except ConfigError:  # a symlink to outside when listed: refused
                    seen["refused"] += 1
                    continue
                for index in range(8):
                    digest = hashes.get(f"victim{index}", {}).get("sha256")
                    if digest is None:
                        seen["absent"] += 1
                    elif digest == inside:
                        seen["inside"] += 1
                    else:
                        wrong.append(digest)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    before = _open_descriptors()
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, *map(str, (root, stash, secret, mode, RACE_SECONDS))]
    )
    recorder = threading.Thread(target=record_until_stopped, daemon=True)
    try:
        recorder.start()
        swapper.wait(timeout=RACE_SECONDS + 30)
    finally:
        swapper.kill()
        swapper.wait()
        stop.set()
    recorder.join(timeout=10)
    hung = recorder.is_alive()
    if hung:  # blocked opening the FIFO: give it a writer so the thread can end
        os.close(os.open(stash / "fifo", os.O_WRONLY | os.O_NONBLOCK))
        recorder.join(timeout=10)
    assert not hung, "recording blocked on a FIFO swapped in while it recorded"
    assert not failures, failures
    assert not wrong, (
        f"{len(wrong)} wrong hashes under the inside name ({_sha(b'outside')} is outside's); {seen}"
    )
    assert seen["inside"] > 0, seen
    assert _open_descriptors() == before


def _link_graph(root: Path, levels: int) -> None:
    """root/L0 .. root/L<levels>: each level holds a file and two links to the next."""
    for index in range(levels + 1):
        (root / f"L{index}").mkdir()
        (root / f"L{index}" / "f").write_bytes(b"level")
    for index in range(levels):
        for name in ("a", "b"):
            (root / f"L{index}" / name).symlink_to(f"../L{index + 1}")


@pytest.mark.timeout(60)
def test_symlink_graph_is_walked_in_linear_time(tmp_path: Path) -> None:
    levels = 30  # 2**30 paths for a walk that follows every link
    _link_graph(tmp_path, levels)
    start = time.monotonic()
    hashes = record_artifacts(["L0"], RecordOptions(base_path=tmp_path))
    # each level is entered once through a link: the first one, "a", in sorted order
    assert set(hashes) == {"L0/f"} | {"L0/" + "a/" * depth + "f" for depth in range(1, levels + 1)}
    everything = record_artifacts(["."], RecordOptions(base_path=tmp_path))
    # every level under its own name, and once more under the first link reaching it
    assert {f"L{index}/f" for index in range(levels + 1)} <= set(everything)
    assert len(everything) <= 2 * (levels + 1)
    assert time.monotonic() - start < 30


def test_symlinked_directory_reached_twice_is_recorded_under_first_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_bytes(b"x")
    (tmp_path / "a-link").symlink_to("real")
    (tmp_path / "b-link").symlink_to("real")
    hashes = record_artifacts(["."], RecordOptions(base_path=tmp_path))
    assert set(hashes) == {"real/f", "a-link/f"}
    # a path argument is always recorded under its own name
    assert set(record_artifacts(["a-link", "b-link"], RecordOptions(base_path=tmp_path))) == {
        "a-link/f",
        "b-link/f",
    }


def _huge_sparse_file(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(256 * 1024**3)  # hashing every byte takes minutes


def test_recording_is_bounded_by_its_timeout(tmp_path: Path) -> None:
    _huge_sparse_file(tmp_path / "huge")
    start = time.monotonic()
    with pytest.raises(CommandError, match=r"did not finish within 1\.0 s"):
        record_artifacts(["."], RecordOptions(base_path=tmp_path, timeout=1.0))
    assert time.monotonic() - start < 10


def test_inspection_timeout_bounds_its_recordings(tmp_path: Path) -> None:
    _huge_sparse_file(tmp_path / "huge")
    inspection = Inspection(name="check", run=["true"])
    runner = WorkdirInspectionRunner(tmp_path, persist_links=False)
    start = time.monotonic()
    with pytest.raises(CommandError, match="recording artifacts did not finish"):
        runner(inspection, timeout=1.0)
    assert time.monotonic() - start < 10
