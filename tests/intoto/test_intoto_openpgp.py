"""Hostile OpenPGP packet streams: the parser answers with a key, a signature or FormatError.

Random bytes, truncations and byte flips of real ``gpg --export`` output and real signatures;
where the reference also reads the mutated key, both must read the same dict.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpg_env import GpgHomes, Keyring, gpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tufkit.errors import FormatError
from tufkit.intoto._gpgkeys import parse_key_bundle
from tufkit.intoto._openpgp import parse_signature, split_packets

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(
        shutil.which("gpg") is None and os.environ.get("CI") != "true",
        reason="gpg is not installed",
    ),
]

_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def samples(gpg_homes: GpgHomes) -> Iterator[dict[str, bytes]]:
    ring = Keyring(gpg_homes.new("hostile"))
    out = {}
    for name, algo in (("rsa", "rsa2048"), ("eddsa", "ed25519"), ("dsa", "dsa2048")):
        fpr = ring.add(name, algo, "2y", "rsa2048 sign 1y")
        out[name] = ring.export(fpr)
        out[f"{name}-sig"] = gpg(
            ring.home, "--detach-sign", "--digest-algo", "SHA256", "-u", fpr, data=b"payload"
        )
    out["home"] = str(ring.home).encode()
    yield out
    gpg_homes.stop(ring.home)


def _reference(data: bytes) -> dict[str, Any] | None:
    from securesystemslib._gpg.common import get_pubkey_bundle

    try:
        key: dict[str, Any] = get_pubkey_bundle(data, "")  # type: ignore[no-untyped-call]
    except Exception:
        return None
    return key


def _ours(data: bytes) -> dict[str, Any] | None:
    try:
        return parse_key_bundle(data).key
    except FormatError:
        return None


def _same_but_refused(data: bytes, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Equal, except for subkeys tufkit refuses (e.g. a cross-certification flipped) and an
    Ed25519 primary key's expiry, which the reference loses and tufkit keeps."""
    theirs = {**theirs, "subkeys": dict(theirs.get("subkeys", {}))}
    bundle = parse_key_bundle(data)
    for refused in bundle.refused:
        theirs["subkeys"].pop(refused, None)
    if not theirs["subkeys"]:
        del theirs["subkeys"]
    if "validity_period" not in theirs and ours["type"] == "eddsa":
        ours = {k: v for k, v in ours.items() if k != "validity_period"}
    assert ours == theirs


@pytest.mark.parametrize("name", ["rsa", "eddsa", "dsa"])
def test_real_exports_read_as_the_reference_reads_them(
    name: str, samples: dict[str, bytes]
) -> None:
    ours, theirs = _ours(samples[name]), _reference(samples[name])
    assert ours is not None
    assert theirs is not None
    period = ours.pop("validity_period")
    assert period > 365 * 86400  # made to expire in two years
    # The reference loses an Ed25519 primary key's expiry (it hashes the packet headers).
    assert theirs.pop("validity_period", None) == (None if name == "eddsa" else period)
    assert ours == theirs


@_SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_give_format_error(data: bytes) -> None:
    for parse in (split_packets, parse_key_bundle, parse_signature):
        with contextlib.suppress(FormatError):
            parse(data)


@_SETTINGS
@given(name=st.sampled_from(["rsa", "eddsa", "dsa"]), cut=st.integers(min_value=0))
def test_truncated_exports_give_format_error_or_a_key(
    name: str, cut: int, samples: dict[str, bytes]
) -> None:
    data = samples[name]
    truncated = data[: cut % len(data)]
    ours = _ours(truncated)
    # The reference reads a packet cut short as if it were whole; tufkit refuses it.
    theirs = _reference(truncated)
    if ours is not None:
        assert theirs is not None
        _same_but_refused(truncated, ours, theirs)
        assert len(split_packets(truncated)) <= len(split_packets(data))


@_SETTINGS
@given(
    name=st.sampled_from(["rsa", "eddsa", "dsa"]),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=3
    ),
)
def test_mutated_exports_give_format_error_or_the_reference_key(
    name: str, flips: list[tuple[int, int]], samples: dict[str, bytes]
) -> None:
    data = bytearray(samples[name])
    for position, mask in flips:
        data[position % len(data)] ^= mask
    ours = _ours(bytes(data))
    theirs = _reference(bytes(data))
    if ours is not None and theirs is not None:
        _same_but_refused(bytes(data), ours, theirs)


@_SETTINGS
@given(
    name=st.sampled_from(["rsa-sig", "eddsa-sig", "dsa-sig"]),
    position=st.integers(min_value=0),
    mask=st.integers(1, 255),
    cut=st.integers(min_value=0),
)
def test_mutated_signatures_give_format_error_or_a_signature(
    name: str, position: int, mask: int, cut: int, samples: dict[str, bytes]
) -> None:
    data = bytearray(samples[name])
    data[position % len(data)] ^= mask
    for candidate in (bytes(data), samples[name][: cut % len(samples[name])]):
        with contextlib.suppress(FormatError):
            for packet in split_packets(candidate):
                parse_signature(packet.body)


def test_gpg_home_is_private(samples: dict[str, bytes]) -> None:
    assert Path(samples["home"].decode()).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("name", ["rsa", "eddsa", "dsa"])
def test_a_subkey_bound_by_another_signature_type_is_refused_with_a_reason(
    name: str, samples: dict[str, bytes]
) -> None:
    """Found by the mutation test above: a binding signature whose type byte no longer says
    "subkey binding" dropped the subkey silently, so the reference's key looked different."""
    data = bytearray(samples[name])
    offset = 0
    for packet in split_packets(bytes(data)):
        if packet.tag == 2 and offset > 0 and packet.body[1] == 0x18:
            header = len(packet.raw) - len(packet.body)
            data[offset + header + 1] = 0x13  # version 4, then the signature type
        offset += len(packet.raw)
    bundle = parse_key_bundle(bytes(data))
    assert "subkeys" not in bundle.key
    (reason,) = bundle.refused.values()
    assert "subkey binding signatures" in reason
    theirs = _reference(bytes(data))
    if theirs is not None:
        _same_but_refused(bytes(data), bundle.key, theirs)
