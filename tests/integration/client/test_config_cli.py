"""``tufkit client`` options that feed UpdaterConfig: out-of-range values are usage errors
(exit 2) naming the option, never an internal error; the staleness budget says ``unsafe``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _tufkit(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("tufkit", path=str(Path(sys.executable).parent))
    assert exe is not None
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("option", ["--unsafe-max-staleness", "--refresh-interval"])
def test_negative_durations_are_usage_errors(tmp_path: Path, option: str) -> None:
    result = _tufkit(
        "client", "--metadata-dir", str(tmp_path), option, "-5", "--offline", "info", "x"
    )
    assert result.returncode == 2, result
    assert option in result.stderr
    assert "internal error" not in result.stderr


def test_the_old_option_name_is_gone(tmp_path: Path) -> None:
    result = _tufkit("client", "--metadata-dir", str(tmp_path), "--max-staleness", "5", "refresh")
    assert result.returncode == 2
    assert "--max-staleness" in result.stderr
