"""Layout descriptions (``tufkit intoto layout``) are user input: every malformed one is a
ConfigError naming the problem, never another exception."""

from __future__ import annotations

import pytest

from tufkit.errors import ConfigError
from tufkit.intoto import layout_from_description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step = 5", "array of tables"),
        ('inspect = "x"', "array of tables"),
        ("expires = 5", "expires"),
        ("expires_days = true", "expires_days"),
        ("expires_days = 0", "expires_days"),
        ('[[step]]\nname = "a"\nthreshold = true', "threshold"),
        ('[[step]]\nname = "a"\nfunctionaries = [[1]]', "functionaries"),
        ('[[step]]\nname = "a"\nfunctionaries = ["nobody"]', "functionaries"),
        ('[[step]]\nname = "a"\nmaterials = "ALLOW *"', "list of rules"),
        ('[[step]]\nname = "a"\nmaterials = [5]', "string or a list of strings"),
        ('[[step]]\nname = "a"\nproducts = ["FROBNICATE x"]', "products"),
        ('[[step]]\nname = "a"\ncommand = 5', "command"),
        ("readme = [1]", "readme"),
        ("keys = 5", "[keys]"),
        ('[keys]\nx = "missing.pub"', "cannot read"),
        ("[[step]]\nname = 5", "name"),
        ("step = [5]", "name"),
        ('[[inspect]]\nname = "i"\nrun = [1, 2]', "run"),
        ('[[step]]\nname = "a"\n[[step]]\nname = "a"', "twice"),
        ("this is = not toml", "TOML"),
    ],
)
def test_malformed_description_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        layout_from_description(text)


def test_a_toml_date_time_is_accepted_as_expiry() -> None:
    layout = layout_from_description("expires = 2030-01-01T00:00:00Z")
    assert layout.expires == "2030-01-01T00:00:00Z"
    naive = layout_from_description("expires = 2031-02-03T04:05:06")
    assert naive.expires == "2031-02-03T04:05:06Z"
