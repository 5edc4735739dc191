"""Every command as a new user tries it: --help, a wrong option, a missing file, no terminal to
answer a prompt. A user's mistake is a usage error or a one-line diagnostic naming what is wrong,
never a traceback or an "internal error"."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_repo import TUFKIT, tufkit

pytestmark = pytest.mark.integration

COMMANDS = [
    (),
    ("client",),
    ("client", "init"),
    ("client", "refresh"),
    ("client", "info"),
    ("client", "download"),
    ("metadata",),
    ("metadata", "show"),
    ("metadata", "verify"),
    ("key",),
    ("key", "generate"),
    ("key", "show"),
    ("demo",),
]


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        assert "internal error" not in text


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_and_a_wrong_option(command: tuple[str, ...]) -> None:
    helped = tufkit(*command, "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: ")
    wrong = tufkit(*command, "--no-such-option")
    assert wrong.returncode == 2
    assert "--no-such-option" in wrong.stderr
    _clean(wrong)


@pytest.mark.parametrize(
    "args",
    [
        ("metadata", "show", "{missing}"),
        ("metadata", "verify", "{missing}", "--by", "{missing}"),
        ("client", "init", "--bootstrap", "{missing}"),
        ("client", "--metadata-dir", "{missing}", "refresh"),
        ("key", "show", "{missing}"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_missing_file_is_named(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-file.json"
    result = tufkit(*(a.format(missing=missing) for a in args), cwd=tmp_path)
    assert result.returncode in (1, 2)
    assert "no-such-file.json" in result.stderr
    _clean(result)
    assert not missing.exists()


def test_no_terminal_to_ask_for_a_passphrase_is_a_usage_error(tmp_path: Path) -> None:
    """Without a controlling terminal (a script, a service), the prompt cannot be answered."""
    result = subprocess.run(
        [*TUFKIT, "key", "generate", "--out", str(tmp_path / "k.pem")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal
    )
    assert result.returncode == 2, result.stderr
    assert "--passphrase-env" in result.stderr
    assert "--no-encrypt" in result.stderr
    _clean(result)
    assert not (tmp_path / "k.pem").exists()
