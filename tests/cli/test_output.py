"""Text from metadata cannot act on the terminal."""

from __future__ import annotations

import pytest

from tufkit.cli._output import echo_json, error_category, error_object, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("releases/app-1.0.tar.gz", "releases/app-1.0.tar.gz"),
        ("caf\u00e9/\u65e5\u672c", "caf\u00e9/\u65e5\u672c"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("evil\x1b]0;title\x07", "evil\\x1b]0;title\\x07"),
        ("line\nfake line", "line\\x0afake line"),
        ("tab\there", "tab\\x09here"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("bidi\u202etxt.exe", "bidi\\u202etxt.exe"),
        ("sep\u2028x", "sep\\u2028x"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_control_and_format_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_own_newlines_can_be_kept_but_not_other_controls() -> None:
    assert printable("first\nsecond\r\x1b[A", keep_newlines=True) == "first\nsecond\\x0d\\x1b[A"


def test_result_has_no_character_a_terminal_acts_on() -> None:
    everything = "".join(chr(code) for code in range(0x3000))
    shown = printable(everything)
    assert all(c.isprintable() or c == " " for c in shown)


def test_look_alike_spaces_and_zero_width_characters_are_visible() -> None:
    assert printable("a\u00a0b\u200bc\u3000d") == "a\\xa0b\\u200bc\\u3000d"


@pytest.mark.parametrize(
    ("error", "category"),
    [
        ("RepositoryError", "repository"),
        ("LengthOrHashMismatchError", "repository"),
        ("SlowRetrievalError", "download"),
        ("ConfigError", "config"),
        ("SupplyChainError", "supply-chain"),
        ("TargetNotFoundError", "not-found"),
    ],
)
def test_error_category_follows_the_error_tree(error: str, category: str) -> None:
    import tufkit.errors

    exc = getattr(tufkit.errors, error)("x")
    assert error_category(exc) == category
    assert error_object(exc, "x", 1) == {
        "error": {"type": error, "category": category, "message": "x", "exit_code": 1}
    }


def test_error_category_of_what_is_not_a_tufkit_error() -> None:
    import click

    assert error_category(click.UsageError("x")) == "usage"
    assert error_category(click.BadParameter("x")) == "usage"
    assert error_category(click.ClickException("x")) == "operation"
    assert error_category(FileNotFoundError(2, "x")) == "os"
    assert error_category(KeyboardInterrupt()) == "interrupted"
    assert error_category(ZeroDivisionError()) == "internal"


def test_json_output_is_printable_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    value = {"name": "a\x1b[2J\x7f\x9b\u202e\u00e9\n", "\x07": [1]}
    echo_json(value)
    out = capsys.readouterr().out
    assert out.isascii()
    assert all(c.isprintable() or c == "\n" for c in out)
    assert json.loads(out) == value
