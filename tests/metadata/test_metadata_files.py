"""Target and metadata file descriptions, dates and expiry, and duplicate JSON keys read the same
way on the fast and the general path (and as python-tuf reads them)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
import tuf.api.metadata as ref

from tufkit.errors import FormatError, LengthOrHashMismatchError, UnsupportedAlgorithmError
from tufkit.metadata import (
    Metadata,
    MetaFile,
    TargetFile,
    Timestamp,
    format_expires,
    hash_digests,
    parse_expires,
)

DATA = b"hello tuf\n" * 1000


def test_target_from_data_and_verify() -> None:
    target = TargetFile.from_data("dir/f.bin", DATA, ("sha256", "sha512"), custom={"k": 1})
    assert target.length == len(DATA)
    assert target.hashes["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert target.custom == {"k": 1}
    target.verify_length_and_hashes(DATA)
    target.verify_length_and_hashes(io.BytesIO(DATA))
    with pytest.raises(LengthOrHashMismatchError, match="length"):
        target.verify_length_and_hashes(DATA + b"x")
    flipped = DATA[:-1] + b"?"
    with pytest.raises(LengthOrHashMismatchError, match="hash"):
        target.verify_length_and_hashes(flipped)
    assert target.get_prefixed_name() == f"dir/{target.hashes['sha256']}.f.bin"
    assert target.get_prefixed_name("sha512") == f"dir/{target.hashes['sha512']}.f.bin"


def test_unknown_hash_algorithm_fails_closed() -> None:
    target = TargetFile(len(DATA), {"sha256": hashlib.sha256(DATA).hexdigest(), "md9": "00"}, "f")
    with pytest.raises(UnsupportedAlgorithmError):
        target.verify_length_and_hashes(DATA)
    with pytest.raises(UnsupportedAlgorithmError):
        hash_digests(DATA, ["nope"])


def test_metafile_checks_only_what_it_lists() -> None:
    MetaFile(1).verify_length_and_hashes(DATA)
    MetaFile(1, len(DATA)).verify_length_and_hashes(DATA)
    with pytest.raises(LengthOrHashMismatchError):
        MetaFile(1, len(DATA) - 1).verify_length_and_hashes(DATA)
    with pytest.raises(LengthOrHashMismatchError):
        MetaFile(1, None, {"sha256": "00" * 32}).verify_length_and_hashes(DATA)
    blake = hashlib.blake2b(DATA, digest_size=32).hexdigest()
    MetaFile(1, None, {"blake2b-256": blake}).verify_length_and_hashes(DATA)


@pytest.mark.parametrize(
    "value",
    [
        "2030-01-01T00:00:00Z",
        "2028-02-29T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_expires_round_trip(value: str) -> None:
    parsed = parse_expires(value, "x")
    assert parsed.tzinfo is not None
    assert format_expires(parsed) == value


def test_format_expires_converts_to_utc_and_drops_fractions() -> None:
    aware = datetime(2030, 1, 1, 2, 0, 0, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_expires(aware) == "2030-01-01T00:00:00Z"
    assert format_expires(datetime(2030, 1, 1)) == "2030-01-01T00:00:00Z"
    ts = Timestamp(expires=datetime(2030, 1, 1, 0, 0, 0, 123456))
    assert ts.to_dict()["expires"] == "2030-01-01T00:00:00Z"


def test_expiry_boundary() -> None:
    ts = Timestamp(expires=datetime(2030, 1, 1, tzinfo=UTC))
    assert not ts.is_expired(datetime(2029, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert ts.is_expired(datetime(2030, 1, 1, tzinfo=UTC))  # expires == now is expired
    assert ts.is_expired(datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC))


def test_bad_expires_message_names_the_field() -> None:
    with pytest.raises(FormatError, match="expires"):
        parse_expires("2030-02-30T00:00:00Z", "timestamp")


DUPLICATES = (
    b'{"signed":{"_type":"targets","spec_version":"1.0","version":1,"version":2,'
    b'"expires":"2020-01-01T00:00:00Z","expires":"2030-01-01T00:00:00Z",'
    b'"targets":{"a":{"length":1,"length":5,"hashes":{"sha256":"aa","sha256":"bb"}},'
    b'"a":{"length":7,"hashes":{"sha256":"cc"}}}},"signatures":[]}'
)


def test_duplicate_keys_read_alike_on_both_paths_and_in_python_tuf() -> None:
    fast = Metadata.from_bytes(DUPLICATES)
    general = Metadata.from_bytes(DUPLICATES[:-1] + b',"x-extra":1}')
    theirs = ref.Metadata.from_bytes(DUPLICATES)
    assert fast.verification_payload == general.verification_payload
    assert fast.signed.to_dict() == general.signed.to_dict() == theirs.signed.to_dict()
    assert fast.signed.version == 2
    assert fast.signed.targets["a"].length == 7
