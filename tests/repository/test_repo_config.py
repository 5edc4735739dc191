"""The repository configuration file: typed, validated, round-tripping, written atomically."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tufkit.errors import ConfigError
from tufkit.repository import ExpiryPolicy
from tufkit.repository._config import BinsConfig, RepositoryConfig, RoleConfig


def _config() -> RepositoryConfig:
    return RepositoryConfig(
        ExpiryPolicy(
            targets=timedelta(days=30),
            timestamp=timedelta(hours=6),
            overrides={"project-a": timedelta(days=14)},
        ),
        {
            "timestamp": RoleConfig(1, True, ("file:keys/online.pem?passphrase-env=X",)),
            "targets": RoleConfig(2, False, ()),
            'odd "name" \u00e9': RoleConfig(1, False, ('env:KEY"S',)),
            "bin": RoleConfig(1, True, ("file:keys/bins.pem",)),
        },
        (BinsConfig("targets", "bin", 10),),
    )


def test_round_trip_through_toml_and_a_file(tmp_path: Path) -> None:
    config = _config()
    path = tmp_path / "tufkit-repo.toml"
    config.save(path)
    again = RepositoryConfig.load(path)
    assert again == config
    assert again.expiry.lifetime("timestamp") == timedelta(hours=6)
    assert again.expiry.lifetime("project-a") == timedelta(days=14)
    assert again.expiry.lifetime("other") == timedelta(days=90)
    assert [p.name for p in tmp_path.iterdir()] == ["tufkit-repo.toml"]  # no temporary left


def test_role_lookup_falls_back_to_the_bins_prefix() -> None:
    config = _config()
    assert config.role("bin-3ff") == config.roles["bin"]
    assert config.role("timestamp") == config.roles["timestamp"]
    assert config.role("binary") is None
    assert sorted(config.online_roles()) == ["bin", "timestamp"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"format = 2\n", "'format' must be 1"),
        (b"[bins]\nname_prefix = 'b'\nbit_length = 4\n", "array of tables"),
        (b"[[bins]]\nname_prefix = 'b'\nbit_length = 33\n", "bins.bit_length"),
        (b"[[bins]]\nname_prefx = 'b'\n", "did you mean 'name_prefix'"),
        (b"[roles.x]\nonline = 'yes'\n", "roles.x.online must be true or false"),
        (b"[roles.x]\nsigners = 'file:k'\n", "array of signer URI"),
        (b"[roles.x]\nsigners = ['no-scheme']\n", "is not a signer URI"),
        (b"[expiry.roles]\n'a/b' = 3\n", "must not contain '/'"),
        (b"[expiry]\nroot = 1e9\n", "expiry.root must be more than 0"),
        (b"zzz = 1\n", "unknown key 'zzz'; valid: format, expiry, roles, bins"),
    ],
)
def test_malformed_configuration_names_what_is_wrong(text: bytes, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RepositoryConfig.from_toml(text, "repo.toml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("repo.toml")


def test_an_oversized_or_missing_file_is_a_config_error(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than"):
        RepositoryConfig.load(big)
    with pytest.raises(ConfigError, match="cannot read"):
        RepositoryConfig.load(tmp_path / "missing.toml")
