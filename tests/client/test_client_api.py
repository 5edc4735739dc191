"""The public surface of tufkit.client, offline mode and the refresh interval."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from client_sim import MakeUpdater, RepositorySimulator

import tufkit.client
from tufkit.client import UpdaterConfig
from tufkit.errors import DownloadError, ExpiredMetadataError


def test_all_is_exact() -> None:
    public = {n for n in dir(tufkit.client) if not n.startswith("_")}
    modules = {"cache", "config", "fetcher", "updater"}
    assert set(tufkit.client.__all__) == public - modules


def test_refresh_interval_skips_network(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    make_updater().refresh()
    sim.requests.clear()
    make_updater(UpdaterConfig(refresh_interval=3600)).refresh_if_due()
    assert sim.requests == []
    make_updater(UpdaterConfig(refresh_interval=0)).refresh_if_due()
    assert sim.requests == [("root", 2), ("timestamp", None)]


def test_offline_mode_with_staleness_budget(
    sim: RepositorySimulator, make_updater: MakeUpdater, caplog: pytest.LogCaptureFixture
) -> None:
    sim.delegate("targets", "A")
    sim.add_target("A", "t", b"x")
    sim.bump_snapshot()
    make_updater().refresh()
    sim.requests.clear()
    later = datetime.now(UTC) + timedelta(days=31)  # everything expired a day ago
    with pytest.raises(ExpiredMetadataError):
        make_updater(clock=lambda: later).load_offline()
    config = UpdaterConfig(unsafe_offline_staleness_budget=2 * 86400)
    with caplog.at_level(logging.WARNING, logger="tufkit.client"):
        updater = make_updater(config, clock=lambda: later)
        updater.load_offline()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "unsafe_offline_staleness_budget" in caplog.text
    assert "172800 seconds" in caplog.text
    assert updater.offline
    with pytest.raises(DownloadError, match="offline"):
        updater.get_targetinfo("t")  # delegated role A was never cached
    assert sim.requests == []


def test_lookup_lists_chain_and_every_role(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.delegate("targets", "A")
    sim.delegate("A", "B")
    sim.add_target("targets", "t", b"top")
    sim.add_target("B", "t", b"shadowed")
    sim.bump_snapshot()
    result = make_updater().lookup("t", exhaustive=True)
    assert result.chain == ("targets",)
    assert [v.chain for v in result.visits] == [
        ("targets",),
        ("targets", "A"),
        ("targets", "A", "B"),
    ]
    assert [v.target is not None for v in result.visits] == [True, False, True]
