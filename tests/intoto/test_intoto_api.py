"""Public surface, attestations, layout descriptions and CLI exit codes."""

from __future__ import annotations

import base64
import hashlib
import json
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tufkit.intoto
from conftest import KeyFiles, Runner
from tufkit.errors import ConfigError, FormatError, SupplyChainError
from tufkit.intoto import (
    SignatureVerificationError,
    Statement,
    layout_from_description,
    load_private_key_file,
    load_public_key_pem,
    sign_statement,
    verify_attestation,
)


def test_all_is_exact() -> None:
    public = {n for n in dir(tufkit.intoto) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(tufkit.intoto, n)).__name__ == "module"}
    assert set(tufkit.intoto.__all__) == public - modules
    assert len(tufkit.intoto.__all__) == len(set(tufkit.intoto.__all__))


def test_errors_are_supply_chain_or_config_errors() -> None:
    for name in tufkit.intoto.__all__:
        value = getattr(tufkit.intoto, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, SupplyChainError | ConfigError), name


DIGEST = {"sha256": hashlib.sha256(b"artifact").hexdigest()}


def _statement() -> Statement:
    return Statement(
        subject=[{"name": "app.tar.gz", "digest": DIGEST}],
        predicate_type="https://slsa.dev/provenance/v1",
        predicate={"buildDefinition": {"buildType": "x"}},
    )


def test_attestation_round_trip_and_subject_check(keydir: dict[str, KeyFiles]) -> None:
    alice = load_private_key_file(keydir["alice"].private, None)
    carl = load_private_key_file(keydir["carl"].private, None)
    data = sign_statement(_statement(), [alice, carl]).to_bytes()
    keys = [alice.public_key, carl.public_key]
    statement = verify_attestation(
        data, keys, DIGEST, threshold=2, predicate_type="https://slsa.dev/provenance/v1"
    )
    assert statement.subject[0]["name"] == "app.tar.gz"
    with pytest.raises(SupplyChainError, match="no subject"):
        verify_attestation(data, keys, {"sha256": "00" * 32})
    with pytest.raises(SupplyChainError, match="predicate"):
        verify_attestation(
            data, keys, DIGEST, predicate_type="https://in-toto.io/attestation/link/v0.3"
        )
    bob = load_public_key_pem(keydir["bob"].public.read_bytes())
    with pytest.raises(SignatureVerificationError):
        verify_attestation(data, [bob], DIGEST)
    with pytest.raises(SignatureVerificationError):
        verify_attestation(data, keys, DIGEST, threshold=3)


def test_attestation_payload_tampering_and_malformed_statements(
    keydir: dict[str, KeyFiles],
) -> None:
    alice = load_private_key_file(keydir["alice"].private, None)
    envelope = json.loads(sign_statement(_statement(), [alice]).to_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["subject"][0]["digest"]["sha256"] = "00" * 32
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(SignatureVerificationError):
        verify_attestation(json.dumps(envelope).encode(), [alice.public_key], {"sha256": "00" * 32})
    for bad in (
        {"_type": "x"},
        {"_type": tufkit.intoto.STATEMENT_TYPE, "subject": []},
        {"_type": tufkit.intoto.STATEMENT_TYPE, "subject": [{"name": "n"}], "predicateType": "t"},
    ):
        with pytest.raises(FormatError):
            Statement.from_dict(bad)


def test_layout_description_errors_are_config_errors(
    tmp_path: Path, keydir: dict[str, KeyFiles]
) -> None:
    (tmp_path / "a.pub").write_bytes(keydir["alice"].public.read_bytes())
    good = (
        '[keys]\na = "a.pub"\n[[step]]\nname = "s"\nfunctionaries = ["a"]\n'
        'products = ["CREATE x"]\n'
    )
    layout = layout_from_description(good, base_dir=tmp_path)
    assert layout.steps[0].expected_products == [["CREATE", "x"]]
    bad = {
        "not toml": "= =",
        "unknown functionary": good.replace('["a"]', '["zed"]'),
        "bad rule": good.replace("CREATE x", "FROB x"),
        "missing key file": good.replace("a.pub", "nope.pub"),
        "duplicate": good + '[[inspect]]\nname = "s"\nrun = "true"\n',
    }
    for what, text in bad.items():
        with pytest.raises(ConfigError):
            layout_from_description(text, base_dir=tmp_path)
        assert what


@pytest.mark.integration
def test_cli_exit_codes_match_reference(
    tmp_path: Path, keydir: dict[str, KeyFiles], tk: Runner, ref: Callable[..., Runner]
) -> None:
    (tmp_path / "f").write_text("x")
    key, pub = keydir["alice"].private, keydir["alice"].public
    cases: list[tuple[str, list[object]]] = [
        ("verify", ["--layout", "root.layout"]),  # no key: usage
        ("verify", ["--verification-keys", pub]),  # no layout: usage
        ("verify", ["--layout", "missing.layout", "--verification-keys", pub]),  # 1
        ("run", ["-n", "s", "--signing-key", key]),  # no command: usage
        ("run", ["-n", "s", "--", "true"]),  # no key: usage
        ("run", ["-n", "s", "--signing-key", key, "--", "sh", "-c", "exit 3"]),  # 3
        ("run", ["-n", "s", "--signing-key", "missing.pem", "--", "true"]),  # 1
        ("run", ["-n", "s", "--signing-key", key, "-x", "-p", "f"]),  # 0
        ("sign", ["-f", "missing.link", "-k", key]),  # 2
        ("sign", ["-f", "s.link"]),  # usage
    ]
    for tool, args in cases:
        ours = tk(tool, *args, cwd=tmp_path)
        theirs = ref(tool)(*args, cwd=tmp_path)
        assert ours.returncode == theirs.returncode, (tool, args, ours.stderr, theirs.stderr)
        assert "Traceback" not in ours.stderr
    link = next(tmp_path.glob("s.*.link"))
    for keys, expected in (([pub], 0), ([keydir["bob"].public], 1)):
        ours = tk("sign", "-f", link.name, "-k", *keys, "--verify", cwd=tmp_path)
        theirs = ref("sign")("-f", link.name, "-k", *keys, "--verify", cwd=tmp_path)
        assert ours.returncode == theirs.returncode == expected


@pytest.mark.integration
def test_gpg_options_give_a_clear_error(tmp_path: Path, tk: Runner) -> None:
    from tufkit.intoto import Layout, Metablock, write_metadata

    write_metadata(tmp_path / "root.layout", Metablock(Layout()))
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    # An unknown key in an empty keyring (or no gpg at all): a one-line error, exit 1.
    result = tk(
        "verify", "-l", "root.layout", "--gpg", "ABCDEF01", "--gpg-home", home, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "gpg" in result.stderr
    assert "Traceback" not in result.stderr


_keys = st.text(alphabet=string.printable + "\x00\x1f\x7f\u00e9\u2028", max_size=5)
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=string.printable + '\x00\x1f\x7f"\\/\u00e9\ud800\x08', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=1000)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_metablock_writer_equals_indented_stdlib_json(value: dict[str, object]) -> None:
    from tufkit.intoto._envelope import _dump_indent1

    expected = json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True).encode()
    assert _dump_indent1(value) == expected
