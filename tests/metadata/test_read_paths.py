"""The read-path switch the other metadata tests rely on really selects the path."""

from __future__ import annotations

from tufkit.crypto import generate
from tufkit.metadata import Metadata, TargetFile, Targets


def test_the_parametrised_read_path_is_the_one_taken(read_path: str) -> None:
    targets = Targets()
    targets.targets["a.txt"] = TargetFile.from_data("a.txt", b"a")
    md = Metadata(targets)
    md.sign(generate())
    entry = Metadata.from_bytes(md.to_bytes()).signed.targets._entries["a.txt"]
    compact = type(entry) is not TargetFile
    assert compact == (read_path == "fast-path-always")
