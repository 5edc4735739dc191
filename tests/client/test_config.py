"""UpdaterConfig is typed, immutable and validated: every bound is checked with an error naming
the field, a misspelt field is an error for mypy and at run time, and what weakens verification
says ``unsafe`` (issue 7, security 9)."""

from __future__ import annotations

import pickle
from typing import Any, NamedTuple

import pytest

from tufkit.client import UpdaterConfig


class Bad(NamedTuple):
    field: str
    value: object
    error: type[Exception]


BAD = [
    Bad("targets_max_length", -5, ValueError),
    Bad("targets_max_length", 0, ValueError),
    Bad("snapshot_max_length", 0, ValueError),
    Bad("timestamp_max_length", -1, ValueError),
    Bad("root_max_length", 0, ValueError),
    Bad("max_root_rotations", 0, ValueError),
    Bad("max_delegations", -1, ValueError),
    Bad("min_average_speed", 0, ValueError),
    Bad("connect_timeout", 0, ValueError),
    Bad("connect_timeout", -1.5, ValueError),
    Bad("read_timeout", 0.0, ValueError),
    Bad("read_timeout", float("inf"), ValueError),
    Bad("slow_retrieval_grace", -0.1, ValueError),
    Bad("slow_retrieval_grace", float("nan"), ValueError),
    Bad("refresh_interval", -1, ValueError),
    Bad("unsafe_offline_staleness_budget", -1, ValueError),
    Bad("unsafe_offline_staleness_budget", float("inf"), ValueError),
    Bad("targets_max_length", 1.5, TypeError),
    Bad("targets_max_length", True, TypeError),
    Bad("targets_max_length", "10", TypeError),
    Bad("max_delegations", None, TypeError),
    Bad("read_timeout", "5", TypeError),
    Bad("read_timeout", False, TypeError),
    Bad("prefix_targets_with_hash", 1, TypeError),
]


@pytest.mark.parametrize("bad", BAD, ids=[f"{b.field}={b.value!r}" for b in BAD])
def test_every_bound_is_checked_with_the_field_named(bad: Bad) -> None:
    fields: dict[str, Any] = {bad.field: bad.value}
    with pytest.raises(bad.error, match=rf"UpdaterConfig\.{bad.field} must be"):
        UpdaterConfig(**fields)
    with pytest.raises(bad.error, match=rf"UpdaterConfig\.{bad.field} must be"):
        UpdaterConfig().replace(**fields)


def test_good_values_at_the_bounds_are_accepted() -> None:
    config = UpdaterConfig(
        max_root_rotations=1,
        max_delegations=1,
        targets_max_length=1,
        min_average_speed=1,
        connect_timeout=0.001,
        read_timeout=1,
        slow_retrieval_grace=0,
        refresh_interval=0,
        unsafe_offline_staleness_budget=0,
        prefix_targets_with_hash=False,
    )
    assert config.targets_max_length == 1
    assert config.read_timeout == 1
    assert config.prefix_targets_with_hash is False


def test_misspelt_and_renamed_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="targets_max_lenght"):
        UpdaterConfig(targets_max_lenght=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="offline_staleness_budget"):
        UpdaterConfig(offline_staleness_budget=60)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        UpdaterConfig(10)  # type: ignore[call-arg]  # keyword-only


def test_immutable_comparable_and_picklable() -> None:
    config = UpdaterConfig(read_timeout=3)
    with pytest.raises(AttributeError, match="immutable"):
        config.read_timeout = 99
    with pytest.raises(AttributeError):
        del config.read_timeout
    assert config.read_timeout == 3
    changed = config.replace(read_timeout=4)
    assert (config.read_timeout, changed.read_timeout) == (3, 4)
    assert changed == UpdaterConfig(read_timeout=4)
    assert hash(changed) == hash(UpdaterConfig(read_timeout=4))
    assert config != changed
    assert pickle.loads(pickle.dumps(changed)) == changed  # noqa: S301 (our own bytes)
    assert "read_timeout=4" in repr(changed)


def test_mypy_refuses_misspelt_fields_and_wrong_types() -> None:
    from mypy import api

    code = (
        "from tufkit.client import UpdaterConfig\n"
        "UpdaterConfig(targets_max_lenght=5)\n"
        "UpdaterConfig(read_timeout='slow')\n"
        "UpdaterConfig().replace(max_delegation=3)\n"
        "UpdaterConfig(offline_staleness_budget=60)\n"
        "UpdaterConfig(unsafe_offline_staleness_budget=60, max_delegations=3)\n"
    )
    out, _err, status = api.run(["--strict", "--no-incremental", "-c", code])
    assert status == 1
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    assert flagged == [2, 3, 4, 5], out
