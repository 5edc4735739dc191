"""Runs the ``tufkit-conformance-client`` executable the way tuf-conformance does.

Each :class:`ClientRunner` owns a fresh metadata directory and target directory; every command
is a new process (options before the command, as in the suite's CLI protocol), optionally under
the real ``faketime`` tool. The observations are the suite's: exit codes, every ``*.json`` in
the metadata directory parsed as TUF metadata, and the files under the target directory in
modification-time order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conformance_sim import Endpoints, Repository
from tuf.api.metadata import Metadata
from tuf.api.serialization.json import JSONSerializer

_TIMEOUT = 60  # seconds; a hung client fails the test instead of the run


def client_command() -> list[str]:
    """The executable under test: the console script next to the running interpreter."""
    script = Path(sys.executable).parent / "tufkit-conformance-client"
    if not script.exists():
        pytest.fail(f"{script} is missing: install the project into this environment")
    return [str(script)]


def faketime_command() -> list[str]:
    """The ``faketime`` tool; in CI its absence fails the test, locally it skips."""
    tool = shutil.which("faketime")
    if tool is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("faketime is not installed (scripts/system-deps.sh installs it)")
        pytest.skip("faketime is not installed (scripts/system-deps.sh installs it)")
    return [tool]


class ClientRunner:
    """One client's directories and the commands of the suite's CLI protocol."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.metadata_dir = workdir / "metadata"
        self.target_dir = workdir / "targets"
        self.metadata_dir.mkdir()
        self.target_dir.mkdir()
        self.outputs: list[str] = []

    def _run(self, args: list[str], fake_time: datetime | None = None) -> int:
        command = client_command() + args
        if fake_time is not None:
            command = [*faketime_command(), str(fake_time), *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT, check=False
        )
        self.outputs.append(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
        assert done.returncode in (0, 1), self.outputs[-1]
        assert "Traceback" not in done.stderr, self.outputs[-1]
        return done.returncode

    def init(self, endpoints: Endpoints) -> int:
        trusted = self.workdir / "initial_root.json"
        trusted.write_bytes(endpoints.trusted_root)
        return self._run(["--metadata-dir", str(self.metadata_dir), "init", str(trusted)])

    def refresh(self, endpoints: Endpoints, fake_time: datetime | None = None) -> int:
        args = ["--metadata-url", endpoints.metadata_url, "--metadata-dir", str(self.metadata_dir)]
        return self._run([*args, "refresh"], fake_time)

    def download(
        self, endpoints: Endpoints, *target_names: str, fake_time: datetime | None = None
    ) -> int:
        args = ["--metadata-url", endpoints.metadata_url, "--metadata-dir", str(self.metadata_dir)]
        for name in target_names:
            args += ["--target-name", name]
        args += ["--target-dir", str(self.target_dir)]
        args += ["--target-base-url", endpoints.targets_url, "download"]
        return self._run(args, fake_time)

    # -- observations ----------------------------------------------------------------------

    def version(self, role: str) -> int | None:
        """The version of the stored ``<role>.json``, or None if there is none."""
        path = self.metadata_dir / f"{role}.json"
        if not path.exists():
            return None
        return Metadata.from_file(str(path)).signed.version

    def trusted_roles(self) -> list[tuple[str, int]]:
        """Every ``*.json`` in the metadata directory, parsed, as (file stem, version)."""
        roles = []
        for path in sorted(self.metadata_dir.iterdir(), key=lambda p: p.name):
            if path.name.endswith(".json"):
                roles.append(
                    (path.name[: -len(".json")], Metadata.from_file(str(path)).signed.version)
                )
        return roles

    def stored(self, role: str) -> bytes | None:
        path = self.metadata_dir / f"{role}.json"
        return path.read_bytes() if path.exists() else None

    def assert_metadata(self, role: str, expected: bytes | None) -> None:
        """The stored *role* deserialises to the same document as *expected*."""
        data = self.stored(role)
        got = None if data is None else Metadata.from_bytes(data).to_bytes(JSONSerializer())
        want = (
            None if expected is None else Metadata.from_bytes(expected).to_bytes(JSONSerializer())
        )
        assert got == want, f"unexpected trusted {role}"

    def downloaded(self) -> list[bytes]:
        """The contents of every file under the target directory, oldest first."""
        files = [p for p in self.target_dir.rglob("*") if p.is_file()]
        return [p.read_bytes() for p in sorted(files, key=lambda p: p.stat().st_mtime)]

    def check_layout(self) -> None:
        """What the suite relies on: every ``*.json`` in the metadata directory is TUF
        metadata, nothing else there but hidden bookkeeping files, no sub-directories, and no
        hidden (temporary, partial) file under the target directory."""
        for path in self.metadata_dir.iterdir():
            assert path.is_file(), f"{path.name}: not a plain file in the metadata directory"
            if path.name == "root.json" and path.read_bytes() == self._initial_root():
                continue  # init may store the given root unchecked (CLIENT-CLI.md)
            if path.name.endswith(".json"):
                Metadata.from_file(str(path))
            else:
                assert path.name.startswith("."), f"{path.name}: unexpected in metadata directory"
        for path in self.target_dir.rglob("*"):
            assert not path.name.startswith("."), f"{path}: left behind in the target directory"
        assert self.files_outside() == []

    def _initial_root(self) -> bytes | None:
        trusted = self.workdir / "initial_root.json"
        return trusted.read_bytes() if trusted.exists() else None

    def files_outside(self) -> list[Path]:
        """Anything the client created in the work directory besides its two directories."""
        expected = {self.metadata_dir, self.target_dir, self.workdir / "initial_root.json"}
        return [p for p in self.workdir.iterdir() if p not in expected]


@dataclass
class Setup:
    """A fresh repository for the current test, where the client finds it, and the client."""

    endpoints: Endpoints
    repo: Repository
    client: ClientRunner
