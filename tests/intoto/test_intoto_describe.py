"""Layout descriptions (``tufkit intoto layout``) are user input: every malformed one is a
ConfigError naming the problem, never another exception, and nothing is accepted silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import KeyFiles
from tufkit.errors import ConfigError
from tufkit.intoto import expiry_warning, layout_from_description

_STEP = '[[step]]\nname = "a"\n'
_INSP = '[[inspect]]\nname = "i"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step = 5", "array of tables"),
        ('inspect = "x"', "array of tables"),
        ("expires = 5\n" + _INSP, "expires"),
        ("expires_days = true\n" + _INSP, "expires_days"),
        ("expires_days = 0\n" + _INSP, "expires_days"),
        ("expires_days = 99999999\n" + _INSP, "9999"),
        ('expires_days = 3\nexpires = "2030-01-01T00:00:00Z"\n' + _INSP, "not both"),
        (_STEP + "threshold = true", "threshold"),
        (_STEP + "functionaries = [[1]]", "functionaries"),
        (_STEP + 'functionaries = ["nobody"]', "functionary 'nobody' is not in \\[keys\\]"),
        (_STEP + 'materials = "ALLOW *"', "list of rules"),
        (_STEP + "materials = [5]", "string or a list of strings"),
        (_STEP + 'products = ["FROBNICATE x"]', "products"),
        (_STEP + "command = 5", "command"),
        ("readme = [1]\n" + _INSP, "readme"),
        ("keys = 5", "[keys]"),
        ('[keys]\nx = "missing.pub"', "cannot read"),
        ("[keys]\nx = 5", "key file name"),
        ("[[step]]\nname = 5", "name"),
        ("step = [5]", "name"),
        ('[[inspect]]\nname = "i"\nrun = [1, 2]', "run"),
        (_INSP + _INSP, "twice"),
        ("this is = not toml", "TOML"),
    ],
)
def test_malformed_description_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        layout_from_description(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _STEP + 'prodcuts = ["CREATE x"]',
            "step 'a': unknown key 'prodcuts' (did you mean 'products'?)",
        ),
        (_STEP + 'material = ["ALLOW x"]', "unknown key 'material' (did you mean 'materials'?)"),
        (_STEP + "treshold = 2", "unknown key 'treshold' (did you mean 'threshold'?)"),
        (_STEP + 'functionary = ["x"]', "did you mean 'functionaries'?"),
        (_STEP + 'expected_command = "make"', "unknown key 'expected_command'"),
        (_INSP + 'command = "true"', "inspection 'i': unknown key 'command'"),
        (_INSP + 'run = "true"\nprodcts = []', "did you mean 'products'?"),
        ('[[steps]]\nname = "a"', "layout description: unknown key 'steps' (did you mean 'step'?)"),
        ('[[inspection]]\nname = "i"', "unknown key 'inspection' (did you mean 'inspect'?)"),
        ("expire_days = 5\n" + _INSP, "did you mean 'expires_days'?"),
        ('[key]\na = "a.pub"\n' + _INSP, "did you mean 'keys'?"),
        ("zzzz = 1\n" + _INSP, "unknown key 'zzzz' (valid: readme, expires"),
    ],
)
def test_unknown_keys_are_errors_naming_the_nearest_valid_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        layout_from_description(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["", "# nothing\n", 'readme = "x"\nexpires_days = 3', 'readme = "x"\n[keys]\n', "step = []"],
)
def test_empty_description_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="no \\[\\[step\\]\\] and no \\[\\[inspect\\]\\]"):
        layout_from_description(text)


def test_unknown_functionary_is_named_with_the_nearest_key(keydir: dict[str, KeyFiles]) -> None:
    keys = f'[keys]\nalice = "{keydir["alice"].public}"\nbob = "{keydir["bob"].public}"\n'
    with pytest.raises(ConfigError) as caught:
        layout_from_description(keys + _STEP + 'functionaries = ["alcie"]')
    assert str(caught.value) == (
        "step 'a': functionary 'alcie' is not in [keys] (did you mean 'alice'?)"
    )
    with pytest.raises(ConfigError, match="'zed' is not in \\[keys\\] \\(valid: alice, bob\\)"):
        layout_from_description(keys + _STEP + 'functionaries = ["zed"]')
    with pytest.raises(ConfigError, match="'bob' is listed twice"):
        layout_from_description(keys + _STEP + 'functionaries = ["bob", "bob"]')
    with pytest.raises(ConfigError, match="'bob' is not in \\[keys\\] \\(none are defined\\)"):
        layout_from_description(_STEP + 'functionaries = ["bob"]')


def test_a_threshold_the_functionaries_cannot_meet_is_refused(
    keydir: dict[str, KeyFiles],
) -> None:
    keys = f'[keys]\nalice = "{keydir["alice"].public}"\nalias = "{keydir["alice"].public}"\n'
    with pytest.raises(ConfigError, match="threshold 1 can never be met by 0"):
        layout_from_description(_STEP)
    # Two names for one key file are one functionary: a threshold of 2 cannot be met.
    with pytest.raises(ConfigError, match="threshold 2 can never be met by 1 distinct"):
        layout_from_description(keys + _STEP + 'functionaries = ["alice", "alias"]\nthreshold = 2')


def test_a_valid_description_builds_every_field(keydir: dict[str, KeyFiles]) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    text = (
        f'readme = "r"\nexpires_days = 2\n[keys]\nalice = "{keydir["alice"].public}"\n'
        + _STEP
        + 'functionaries = ["alice"]\ncommand = "make all"\nmaterials = ["ALLOW *"]\n'
        'products = ["CREATE x", "DISALLOW *"]\n'
        + _INSP
        + 'run = ["true"]\nmaterials = ["MATCH * WITH PRODUCTS FROM a"]\n'
    )
    layout = layout_from_description(text, now=now)
    assert layout.expires == "2030-01-03T00:00:00Z"
    assert layout.readme == "r"
    step = layout.steps[0]
    assert (step.name, step.threshold, step.expected_command) == ("a", 1, ["make", "all"])
    assert step.expected_products == [["CREATE", "x"], ["DISALLOW", "*"]]
    assert list(layout.keys) == step.pubkeys
    assert layout.inspect[0].expected_materials == [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "a"]]


def test_a_toml_date_time_is_accepted_as_expiry() -> None:
    layout = layout_from_description("expires = 2030-01-01T00:00:00Z\n" + _INSP)
    assert layout.expires == "2030-01-01T00:00:00Z"
    naive = layout_from_description("expires = 2031-02-03T04:05:06\n" + _INSP)
    assert naive.expires == "2031-02-03T04:05:06Z"


def test_expiry_warning_for_a_past_or_near_expiry_only() -> None:
    now = datetime(2030, 6, 1, 12, tzinfo=UTC)
    past = layout_from_description('expires = "2030-05-01T00:00:00Z"\n' + _INSP)
    assert expiry_warning(past, now) == (
        "the layout expired at 2030-05-01T00:00:00Z: verification will refuse it"
    )
    near = layout_from_description("expires_days = 2\n" + _INSP, now=now)
    assert expiry_warning(near, now) == "the layout expires at 2030-06-03T12:00:00Z, in 48 hours"
    far = layout_from_description("expires_days = 8\n" + _INSP, now=now)
    assert expiry_warning(far, now) is None
    assert expiry_warning(far, now, period=timedelta(days=9)) is not None
