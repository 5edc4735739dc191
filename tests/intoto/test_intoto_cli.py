"""``tufkit intoto`` as users and scripts run it: real processes, the reference's CLI as oracle.

One CLI style (click commands with help for every option) that still takes the reference's
spellings; usage errors exit 2 naming the option; missing files and full disks are one line naming
the path; nothing from a file name or a layout reaches the terminal unescaped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from conftest import BIN, KeyFiles, Runner
from tufkit.cli._refargs import MultiOption, ReferenceCommand
from tufkit.cli.intoto import intoto

ESC = "\x1b"


def _commands() -> dict[str, click.Command]:
    record = intoto.commands["record"]
    assert isinstance(record, click.Group)
    found = {name: cmd for name, cmd in intoto.commands.items() if name != "record"}
    found.update({f"record {name}": cmd for name, cmd in record.commands.items()})
    return found


def test_every_command_and_option_has_help() -> None:
    commands = _commands()
    assert set(commands) == {"run", "record start", "record stop", "sign", "verify", "layout"}
    for name, command in commands.items():
        assert command.help, name
        options = [p for p in command.params if isinstance(p, click.Option)]
        assert len(options) >= 4, name
        for option in options:
            assert option.help, f"{name} {option.opts}"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("command", "spellings"),
    [
        ("run", ["--step-name", "--materials", "--products", "--record-streams", "--no-command"]),
        ("record start", ["--step-name", "--materials", "--signing-key", "--lstrip-paths"]),
        ("record stop", ["--products", "--metadata-directory", "--exclude", "--use-dsse"]),
        ("sign", ["--file", "--key", "--prompt", "--gpg", "--output", "--append", "--verify"]),
        ("verify", ["--layout", "--verification-keys", "--link-dir", "--inspection-timeout"]),
        ("layout", ["--signing-key", "--passphrase-env", "--output", "--force"]),
    ],
)
def test_help_lists_the_reference_option_names(
    command: str, spellings: list[str], tmp_path: Path, tk: Runner
) -> None:
    for flag in ("-h", "--help"):
        result = tk(*command.split(), flag, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        for spelling in spellings:
            assert spelling in result.stdout, (command, spelling)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "-n", "s", "--frobnicate", "-x"], "--frobnicate"),
        (["run", "-n", "s", "-m", "--signing-key", "k.pem", "-x"], "-m"),
        (["run", "-n", "s", "--run-timeout", "soon", "-x"], "--run-timeout"),
        (["run", "-x", "--signing-key", "k.pem"], "--step-name"),
        (["record", "start", "-n", "s", "-p", "x"], "-p"),
        (["record", "stop", "-n", "s", "--materials", "x"], "--materials"),
        (["sign", "-f", "x.link", "-k"], "-k"),
        (["sign", "-k", "k.pem"], "--file"),
        (["verify", "-l", "root.layout", "--verification-keys"], "--verification-keys"),
        (["verify", "-l", "root.layout", "--inspection-timeout", "x", "-g", "ab"], "timeout"),
        (["verify", "--link-dir", "."], "--layout"),
    ],
)
def test_a_wrong_option_exits_2_naming_it_like_the_reference(
    args: list[str], named: str, tmp_path: Path, tk: Runner, ref: Callable[..., Runner]
) -> None:
    ours = tk(*args, cwd=tmp_path)
    tool = "record" if args[0] == "record" else args[0]
    theirs = ref(tool)(*args[1:], cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 2, (ours.stderr, theirs.stderr)
    assert named in ours.stderr
    assert "Traceback" not in ours.stderr


@pytest.mark.integration
@pytest.mark.parametrize(
    "args",
    [
        ["run", "-n", "s", "-v", "-q", "--signing-key", "k.pem", "-x"],
        ["run", "-n", "s", "--", "true"],  # no key
        ["run", "-n", "s", "--signing-key", "k.pem"],  # no command
        ["record", "start", "-n", "s"],  # no key
        ["record"],  # no part
        ["sign", "-f", "x.link", "-k", "k.pem", "--verify", "-o", "out"],
        ["verify", "-l", "root.layout"],  # no layout key
    ],
)
def test_usage_errors_exit_2_as_in_the_reference(
    args: list[str], tmp_path: Path, tk: Runner, ref: Callable[..., Runner]
) -> None:
    ours = tk(*args, cwd=tmp_path)
    theirs = ref(args[0])(*args[1:], cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 2, (ours.stderr, theirs.stderr)
    assert "Traceback" not in ours.stderr


@dataclass(frozen=True)
class Spelling:
    """One way of writing a ``run`` (the key and ``-x`` or the command are added)."""

    args: list[str]
    command: list[str]


SPELLINGS = {
    "several values": Spelling(["-n", "s", "-m", "a", "b", "d", "-p", "a"], []),
    "prefixes": Spelling(["--step", "s", "--mat", "a", "b", "--prod", "d"], []),
    "equals": Spelling(["--step-name=s", "--materials=a", "-p", "b"], []),
    "exclude several": Spelling(["-n", "s", "-m", ".", "--exclude", "b", "d/*", "*.pem"], []),
    "lstrip": Spelling(["-n", "s", "-m", "d/e", "--lstrip-paths", "d/", "x/"], []),
    "command after --": Spelling(
        ["-n", "s", "-p", "a", "-s"], ["--", "sh", "-c", "echo -x -m; echo more >> a"]
    ),
    "command after values": Spelling(["-n", "s", "-m", "a", "b", "--"], ["touch", "new"]),
}


def _workdir(root: Path) -> Path:
    root.mkdir()
    (root / "a").write_text("a\n")
    (root / "b").write_text("b\n")
    (root / "d").mkdir()
    (root / "d" / "e").write_text("e\n")
    return root


def _link(directory: Path) -> dict[str, Any]:
    return _link_named(directory, "s")


def _link_named(directory: Path, name: str) -> dict[str, Any]:
    (path,) = directory.glob(f"{name}.*.link")
    signed: dict[str, Any] = json.loads(path.read_text())["signed"]
    return signed


@pytest.mark.integration
@pytest.mark.parametrize("name", SPELLINGS)
def test_reference_spellings_record_what_the_reference_records(
    name: str,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> None:
    spelling = SPELLINGS[name]
    key = ["--signing-key", str(keydir["alice"].private)]
    tail = spelling.command or ["-x"]
    ours_dir, theirs_dir = _workdir(tmp_path / "ours"), _workdir(tmp_path / "theirs")
    ours = tk("run", *key, *spelling.args, *tail, cwd=ours_dir)
    theirs = ref("run")(*key, *spelling.args, *tail, cwd=theirs_dir)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    mine, reference = _link(ours_dir), _link(theirs_dir)
    for field in ("materials", "products", "command", "byproducts"):
        assert mine[field] == reference[field], field
    assert mine["materials"] or mine["products"]


@pytest.mark.integration
def test_record_and_sign_take_the_reference_spellings(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    work = _workdir(tmp_path / "w")
    alice, bob = keydir["alice"], keydir["bob"]
    start = tk(
        "record", "start", "--step", "s", "-m", "a", "b", "--signing", alice.private, cwd=work
    )
    assert start.returncode == 0, start.stderr
    stop = tk("record", "stop", "-n", "s", "-p", "a", "d", "--signing-key", alice.private, cwd=work)
    assert stop.returncode == 0, stop.stderr
    link = _link(work)
    assert sorted(link["materials"]) == ["a", "b"]
    assert sorted(link["products"]) == ["a", "d/e"]
    (path,) = work.glob("s.*.link")
    assert tk("sign", "--fi", path.name, "-k", alice.public, "--verif", cwd=work).returncode == 0
    assert tk("sign", "-f", path.name, "-k", bob.public, "--verify", cwd=work).returncode == 1


@pytest.mark.integration
def test_a_repeated_option_adds_values_where_the_reference_keeps_the_last(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner, ref: Callable[..., Runner]
) -> None:
    args = ["-n", "s", "-m", "a", "-m", "b", "--signing-key", str(keydir["alice"].private), "-x"]
    ours_dir, theirs_dir = _workdir(tmp_path / "ours"), _workdir(tmp_path / "theirs")
    assert tk("run", *args, cwd=ours_dir).returncode == 0
    assert ref("run")(*args, cwd=theirs_dir).returncode == 0
    assert sorted(_link(ours_dir)["materials"]) == ["a", "b"]
    assert sorted(_link(theirs_dir)["materials"]) == ["b"]  # argparse: the last one wins


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "code", "path"),
    [
        (["verify", "-l", "missing.layout", "--verification-keys", "{pub}"], 1, "missing.layout"),
        (["verify", "-l", "{layout}", "--verification-keys", "missing.pub"], 1, "missing.pub"),
        (["run", "-n", "s", "--signing-key", "missing.pem", "-x"], 1, "missing.pem"),
        (["record", "start", "-n", "s", "--signing-key", "missing.pem"], 1, "missing.pem"),
        (["record", "stop", "-n", "never-started", "--signing-key", "{key}"], 1, "never-started"),
        (["sign", "-f", "missing.link", "-k", "{key}"], 2, "missing.link"),
        (["sign", "-f", "{layout}", "-k", "missing.pem"], 2, "missing.pem"),
        (["sign", "-f", "{layout}", "-k", "missing.pub", "--verify"], 2, "missing.pub"),
    ],
)
def test_a_missing_file_is_one_line_naming_it_with_the_reference_exit_code(
    args: list[str],
    code: int,
    path: str,
    tmp_path: Path,
    keydir: dict[str, KeyFiles],
    tk: Runner,
    ref: Callable[..., Runner],
) -> None:
    layout = _write_layout(tmp_path, keydir, '[[inspect]]\nname = "i"\nrun = "true"\n')
    values = {"pub": keydir["alice"].public, "key": keydir["alice"].private, "layout": layout}
    filled = [a.format(**values) for a in args]
    ours = tk(*filled, cwd=tmp_path)
    theirs = ref(filled[0])(*filled[1:], cwd=tmp_path)
    assert ours.returncode == theirs.returncode == code, (ours.stderr, theirs.stderr)
    assert path in ours.stderr
    assert len(ours.stderr.strip().splitlines()) == 1, ours.stderr
    assert "Traceback" not in ours.stderr


@pytest.mark.integration
def test_layout_description_missing_is_a_usage_error(tmp_path: Path, tk: Runner) -> None:
    result = tk("layout", "nope.toml", "--signing-key", "k.pem", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr
    assert "does not exist" in result.stderr


@pytest.mark.integration
def test_the_outside_base_refusal_names_the_command_line_flag(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    work = _workdir(tmp_path / "w")
    (tmp_path / "secret").write_text("outside\n")
    (work / "link-out").symlink_to(tmp_path / "secret")
    key = ["--signing-key", keydir["alice"].private]
    for material in ("../secret", "link-out"):
        result = tk("run", "-n", "s", "-m", material, *key, "-x", cwd=work)
        assert result.returncode == 1
        assert "--unsafe-allow-outside-base allows it" in result.stderr, result.stderr
        assert "unsafe_allow_outside_base" not in result.stderr
        assert material in result.stderr
    allowed = tk("run", "-n", "s", "-m", "../secret", *key, "-x", "--unsafe-allow-o", cwd=work)
    assert allowed.returncode == 0, allowed.stderr


# --- terminal escapes ----------------------------------------------------------------------------


@pytest.mark.integration
def test_file_names_and_layout_patterns_reach_the_terminal_escaped(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    alice = keydir["alice"]
    hostile = f"{ESC}]0;owned{chr(7)}{ESC}[2J\u202etxt.exe"
    description = (
        f'[keys]\nalice = "{alice.public}"\n'
        '[[step]]\nname = "build"\nfunctionaries = ["alice"]\n'
        'products = ["DISALLOW *"]\n'
    )
    layout = _write_layout(tmp_path, keydir, description)
    work = tmp_path / "w"
    work.mkdir()
    (work / hostile).write_text("x")
    made = tk("run", "-n", "build", "-p", hostile, "--signing-key", alice.private, "-x", cwd=work)
    assert made.returncode == 0, made.stderr
    (link,) = work.glob("build.*.link")
    shutil.copy(link, tmp_path)
    result = tk("verify", "-l", layout, "--verification-keys", alice.public, cwd=tmp_path)
    assert result.returncode == 1
    assert "RuleVerificationError" in result.stderr
    _assert_escaped(result.stderr)

    pattern = _write_layout(
        tmp_path / "p",
        keydir,
        description.replace('"DISALLOW *"', json.dumps(f"REQUIRE {hostile}-missing")),
    )
    result = tk("verify", "-l", pattern, "--verification-keys", alice.public, cwd=tmp_path)
    assert result.returncode == 1
    assert "REQUIRE" in result.stderr
    _assert_escaped(result.stderr)


@pytest.mark.integration
@pytest.mark.parametrize(
    "args",
    [
        ["verify", "-l", f"{ESC}[31m.layout", "--verification-keys", "k.pub"],
        ["run", "-n", "s", "--signing-key", f"{ESC}[31m.pem", "-x"],
        ["sign", "-f", f"{ESC}[31m.link", "-k", "k.pem"],
        ["run", "-n", "s", f"--{ESC}[31m", "-x"],
        ["record", f"{ESC}[31m"],
        ["layout", f"{ESC}[31m.toml", "--signing-key", "k.pem"],
    ],
)
def test_errors_quoting_the_command_line_are_escaped(
    args: list[str], tmp_path: Path, tk: Runner
) -> None:
    result = tk(*args, cwd=tmp_path)
    assert result.returncode in (1, 2)
    _assert_escaped(result.stderr)


@pytest.mark.integration
def test_log_lines_quoting_file_names_are_escaped(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    missing = f"{ESC}[2Jgone"
    key = keydir["alice"].private
    result = tk("run", "-v", "-n", "s", "--signing-key", key, "-m", missing, "-x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "does not exist" in result.stderr
    _assert_escaped(result.stderr)


def _assert_escaped(text: str) -> None:
    for raw in (ESC, "\u202e", "\x07"):
        assert raw not in text, repr(text)
    assert "\\x1b" in text, text


# --- tufkit intoto layout ------------------------------------------------------------------------


def _write_layout(directory: Path, keydir: dict[str, KeyFiles], description: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "layout.toml").write_text(description)
    out = directory / "root.layout"
    result = subprocess.run(
        [
            str(BIN / "tufkit"),
            "intoto",
            "layout",
            "layout.toml",
            "-o",
            str(out),
            "--signing-key",
            str(keydir["alice"].private),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.integration
def test_layout_typo_is_refused_naming_the_nearest_key(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    (tmp_path / "layout.toml").write_text(
        f'[keys]\nalice = "{keydir["alice"].public}"\n'
        '[[step]]\nname = "a"\nfunctionaries = ["alice"]\nprodcuts = ["CREATE x"]\n'
    )
    result = tk("layout", "layout.toml", "--signing-key", keydir["alice"].private, cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown key 'prodcuts' (did you mean 'products'?)" in result.stderr
    assert not (tmp_path / "root.layout").exists()


@pytest.mark.integration
def test_layout_unknown_functionary_is_named(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    (tmp_path / "layout.toml").write_text(
        f'[keys]\nalice = "{keydir["alice"].public}"\n'
        '[[step]]\nname = "a"\nfunctionaries = ["alcie"]\n'
    )
    result = tk("layout", "layout.toml", "--signing-key", keydir["alice"].private, cwd=tmp_path)
    assert result.returncode == 1
    assert "functionary 'alcie' is not in [keys] (did you mean 'alice'?)" in result.stderr


@pytest.mark.integration
def test_layout_does_not_overwrite_without_force(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    (tmp_path / "layout.toml").write_text('[[inspect]]\nname = "i"\nrun = "true"\n')
    sign = ["--signing-key", keydir["alice"].private]
    (tmp_path / "root.layout").write_text("precious")
    refused = tk("layout", "layout.toml", *sign, cwd=tmp_path)
    assert refused.returncode == 1
    assert "root.layout exists; pass --force" in refused.stderr
    assert (tmp_path / "root.layout").read_text() == "precious"
    (tmp_path / "elsewhere").write_text("also precious")
    (tmp_path / "link.layout").symlink_to(tmp_path / "elsewhere")
    assert tk("layout", "layout.toml", *sign, "-o", "link.layout", cwd=tmp_path).returncode == 1
    assert (tmp_path / "elsewhere").read_text() == "also precious"
    forced = tk("layout", "layout.toml", *sign, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "root.layout").read_text())["signed"]["_type"] == "layout"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("expiry", "warning"),
    [
        ('expires = "2001-01-01T00:00:00Z"', "expired at 2001-01-01T00:00:00Z"),
        ("expires_days = 2", "expires at"),
        ("expires_days = 30", None),
    ],
)
def test_layout_warns_of_a_past_or_near_expiry(
    expiry: str, warning: str | None, tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    (tmp_path / "layout.toml").write_text(f'{expiry}\n[[inspect]]\nname = "i"\nrun = "true"\n')
    result = tk("layout", "layout.toml", "--signing-key", keydir["alice"].private, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote root.layout" in result.stdout
    if warning is None:
        assert "warning" not in result.stderr
    else:
        assert f"warning: the layout {warning}" in result.stderr


def _encrypted_key(directory: Path, password: bytes) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    key, pub = directory / "enc.pem", directory / "enc.pub"
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )
    pub.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub


def _on_terminal(args: list[str], cwd: Path, answer: bytes) -> tuple[int, str]:
    """Run tufkit with a pseudo-terminal as stdin, stdout and stderr; answer its prompt."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "tufkit"), *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise AssertionError(f"no output; so far: {seen!r}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"Passphrase" in seen:
                os.write(master, answer + b"\n")
                answered = True
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    return code, seen.decode(errors="replace")


@pytest.mark.integration
def test_layout_asks_for_an_encrypted_key_passphrase_on_a_terminal(
    tmp_path: Path, tk: Runner
) -> None:
    key, pub = _encrypted_key(tmp_path, b"correct horse")
    (tmp_path / "layout.toml").write_text('[[inspect]]\nname = "i"\nrun = "true"\n')
    args = ["intoto", "layout", "layout.toml", "--signing-key", str(key)]
    code, output = _on_terminal(args, tmp_path, b"correct horse")
    assert code == 0, output
    assert f"Passphrase for {key}" in output
    assert "correct horse" not in output  # not echoed
    check = tk("sign", "-f", "root.layout", "-k", pub, "--verify", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    code, output = _on_terminal([*args, "--force"], tmp_path, b"wrong")
    assert code == 1
    assert "error:" in output
    assert "Traceback" not in output
    # Not on a terminal: a clear error instead of a prompt nobody sees.
    result = tk("layout", "layout.toml", "--signing-key", key, "--force", cwd=tmp_path)
    assert result.returncode == 1
    assert "is encrypted: give --passphrase-env" in result.stderr
    env_run = subprocess.run(
        [BIN / "tufkit", *args, "--force", "--passphrase-env", "PW"],
        cwd=tmp_path,
        env={**os.environ, "PW": "correct horse"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert env_run.returncode == 0, env_run.stderr


@pytest.mark.integration
def test_run_asks_for_the_password_on_a_terminal_with_dash_p(tmp_path: Path) -> None:
    key, _ = _encrypted_key(tmp_path, b"pw")
    args = ["intoto", "run", "-n", "s", "--signing-key", str(key), "-P", "-x"]
    code, output = _on_terminal(args, tmp_path, b"pw")
    assert code == 0, output
    assert list(tmp_path.glob("s.*.link"))


# --- full disks, read-only and forbidden directories --------------------------------------------


def _namespace_prefix() -> list[str]:
    """``unshare`` giving a private mount namespace in which we may mount a tmpfs."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("util-linux 'unshare' is needed for the full-disk tests")
    for prefix in (
        [unshare, "--user", "--map-root-user", "--mount"],
        [unshare, "--mount"],
    ):
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return prefix
    pytest.skip("no mount namespace available (needs root or unprivileged user namespaces)")


FULL = "mount -t tmpfs -o size=16k tmpfs out && (head -c 1048576 /dev/zero >out/fill 2>&- || :)"
READ_ONLY = "mount -t tmpfs -o ro tmpfs out"


@dataclass(frozen=True)
class DiskCase:
    """A command writing into ``out`` (``{key}``/``{link}``/``{toml}`` filled in) and its path."""

    args: list[str]
    written: str
    code: int = 1


DISK_CASES = {
    "run": DiskCase(["run", "-n", "s", "--signing-key", "{key}", "-x", "-d", "out"], "out/s."),
    "record start": DiskCase(
        ["record", "start", "-n", "s", "--signing-key", "../{key}"], ".s.", code=1
    ),
    "sign": DiskCase(["sign", "-f", "{link}", "-k", "{key}", "-o", "out/x.link"], "out/x.link", 2),
    "layout": DiskCase(
        ["layout", "{toml}", "--signing-key", "{key}", "-o", "out/r.layout"], "out/r"
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", DISK_CASES)
@pytest.mark.parametrize(
    ("setup", "message"),
    [(FULL, "No space left on device"), (READ_ONLY, "Read-only file system")],
    ids=["ENOSPC", "EROFS"],
)
def test_a_full_or_read_only_disk_names_the_file(
    case: str, setup: str, message: str, tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner
) -> None:
    prefix = _namespace_prefix()
    disk = DISK_CASES[case]
    key = tmp_path / "k.pem"
    shutil.copy(keydir["alice"].private, key)
    (tmp_path / "layout.toml").write_text('[[inspect]]\nname = "i"\nrun = "true"\n')
    assert tk("run", "-n", "l", "--signing-key", key, "-x", cwd=tmp_path).returncode == 0
    (link,) = tmp_path.glob("l.*.link")
    (tmp_path / "out").mkdir()
    fill = {"key": "k.pem", "link": link.name, "toml": "layout.toml"}
    args = " ".join(f"'{a.format(**fill)}'" for a in disk.args)
    cd = "cd out && " if case.startswith("record") else ""
    script = f"{setup} && {cd}exec '{BIN / 'tufkit'}' intoto {args}"
    result = subprocess.run(
        [*prefix, "sh", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == disk.code, result.stderr
    assert message in result.stderr
    assert f": {disk.written}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert ": ?" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.integration
def test_a_forbidden_directory_names_the_file(tmp_path: Path, keydir: dict[str, KeyFiles]) -> None:
    """EACCES even for root: in a user namespace, a directory owned by an unmapped user."""
    unshare = shutil.which("unshare")
    assert unshare is not None
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to an unmapped user")
    probe = subprocess.run([unshare, "--user", "--map-root-user", "true"], check=False)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available here")
    forbidden = tmp_path / "forbidden"
    forbidden.mkdir(mode=0o755)
    os.chown(forbidden, 65534, 65534)
    args = ["run", "-n", "s", "--signing-key", str(keydir["alice"].private), "-x", "-d"]
    result = subprocess.run(
        [unshare, "--user", "--map-root-user", BIN / "tufkit", "intoto", *args, "forbidden"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Permission denied: forbidden/s." in result.stderr, result.stderr


@pytest.mark.integration
def test_python_m_tufkit_and_the_script_agree(tmp_path: Path) -> None:
    """The same click command runs either way (no argv handed over raw)."""
    for prefix in ([sys.executable, "-m", "tufkit"], [str(BIN / "tufkit")]):
        result = subprocess.run(
            [*prefix, "intoto", "sign", "--bogus"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert "No such option" in result.stderr
        assert "--bogus" in result.stderr


# --- the argparse spellings, in process --------------------------------------------------------


@click.command(cls=ReferenceCommand)
@click.option("-n", "--name")
@click.option("-m", "--materials", cls=MultiOption)
@click.option("--max-size", cls=MultiOption)
@click.option("-g", "--gpg", cls=MultiOption, allow_empty=True)
@click.option("-x", "--flag", is_flag=True)
@click.argument("rest", nargs=-1)
def _probe(**params: Any) -> None:
    click.echo(json.dumps(params, sort_keys=True))


@dataclass(frozen=True)
class Parse:
    """What one argument list parses to (the options given; unset ones omitted)."""

    args: list[str]
    expected: dict[str, Any]


PARSES = {
    "values end at --": Parse(
        ["-m", "a", "b", "--", "x", "-y"], {"materials": ["a", "b"], "rest": ["x", "-y"]}
    ),
    "values end at an option": Parse(
        ["-m", "a", "-x", "b"], {"materials": ["a"], "flag": True, "rest": ["b"]}
    ),
    "negative numbers are values": Parse(["-m", "-1", "-2.5"], {"materials": ["-1", "-2.5"]}),
    "words with spaces are values": Parse(["-m", "-a b"], {"materials": ["-a b"]}),
    "= takes one value": Parse(["--materials=a", "b"], {"materials": ["a"], "rest": ["b"]}),
    "prefix": Parse(["--mat", "a", "--na", "n"], {"materials": ["a"], "name": "n"}),
    "prefix with =": Parse(["--mat=a"], {"materials": ["a"]}),
    "short with =": Parse(["-n=x", "-m=a", "b"], {"name": "x", "materials": ["a"], "rest": ["b"]}),
    "= in a value": Parse(["-m", "a=b", "--name=c=d"], {"materials": ["a=b"], "name": "c=d"}),
    "a value that looks like an option": Parse(
        ["-n", "-m", "-m", "a"], {"name": "-m", "materials": ["a"]}
    ),
    "optional values absent": Parse(["-g", "-x"], {"gpg": ["\x00"], "flag": True}),
    "optional values present": Parse(["-g", "k1", "k2"], {"gpg": ["k1", "k2"]}),
    "repeated adds": Parse(["-m", "a", "-m", "b", "c"], {"materials": ["a", "b", "c"]}),
    "-- alone": Parse(["--", "-m", "a"], {"rest": ["-m", "a"]}),
}


@pytest.mark.parametrize("name", PARSES)
def test_argparse_spellings_parse_as_argparse_would(name: str) -> None:
    from click.testing import CliRunner

    case = PARSES[name]
    result = CliRunner().invoke(_probe, case.args)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.output)
    given = {k: v for k, v in parsed.items() if v not in (None, [], False)}
    assert given == case.expected


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--m", "a"], "--m"), (["-m"], "-m"), (["-m", "--", "x"], "-m"), (["--nope"], "--nope")],
)
def test_ambiguous_unknown_or_empty_options_are_usage_errors(args: list[str], named: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(_probe, args)
    assert result.exit_code == 2
    assert named in result.output


# --- the commands in process (fast feedback for make unit) --------------------------------------


def _invoke(*args: object) -> Any:
    from click.testing import CliRunner

    return CliRunner().invoke(intoto, [str(a) for a in args], catch_exceptions=False)


def test_layout_run_and_verify_in_process(
    tmp_path: Path, keydir: dict[str, KeyFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    alice = keydir["alice"]
    work = _workdir(tmp_path / "w")
    toml = tmp_path / "layout.toml"
    toml.write_text(
        f'[keys]\nalice = "{alice.public}"\n[[step]]\nname = "s"\nfunctionaries = ["alice"]\n'
        'materials = ["ALLOW a", "DISALLOW *"]\n'
    )
    layout = tmp_path / "root.layout"
    made = _invoke("layout", toml, "--signing-key", alice.private, "-o", layout)
    assert made.exit_code == 0, made.output
    assert "1 steps, 0 inspections" in made.output
    again = _invoke("layout", toml, "--signing-key", alice.private, "-o", layout)
    assert again.exit_code == 1
    assert "pass --force" in again.output
    toml.write_text(toml.read_text().replace("materials", "materails"))
    typo = _invoke("layout", toml, "--signing-key", alice.private, "-o", layout, "--force")
    assert typo.exit_code == 1, typo.output
    assert "did you mean 'materials'?" in typo.output

    key = ["--signing-key", alice.private]
    ran = _invoke("run", "-n", "s", "-m", work / "a", *key, "-d", work, "-x")
    assert ran.exit_code == 0, ran.output
    (link,) = work.glob("s.*.link")
    check = ["-l", layout, "--verification-keys", alice.public, "--link-dir", work, "-v"]
    assert _invoke("verify", *check).exit_code == 1  # the path recorded is absolute
    link.unlink()
    ran = _invoke("run", "-n", "s", "-m", "a", *key, "--base-path", work, "-d", work, "-x")
    assert ran.exit_code == 0, ran.output
    verified = _invoke("verify", *check)
    assert verified.exit_code == 0, verified.output
    (link,) = work.glob("s.*.link")
    signed = _invoke("sign", "-f", link, "-k", alice.public, "--verify")
    assert signed.exit_code == 0, signed.output
    wrong = _invoke("sign", "-f", link, "-k", keydir["bob"].public, "--verify")
    assert wrong.exit_code == 1
    assert "(in-toto-sign)" in wrong.output


def test_record_in_process_names_the_outside_base_flag(
    tmp_path: Path, keydir: dict[str, KeyFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    work = _workdir(tmp_path / "w")
    monkeypatch.chdir(work)
    key = ["--signing-key", keydir["alice"].private]
    outside = _invoke("record", "start", "-n", "r", "-m", "..", *key, "--base-path", work)
    assert outside.exit_code == 1
    assert "(--unsafe-allow-outside-base allows it)" in outside.output
    assert _invoke("record", "start", "-n", "r", "-q", "-m", "a", *key).exit_code == 0
    stopped = _invoke("record", "stop", "-n", "r", "-p", "a", *key)
    assert stopped.exit_code == 0, stopped.output
    assert _link_named(work, "r")["products"].keys() == {"a"}
    assert _invoke("record", "stop", "-n", "never", *key).exit_code == 1
