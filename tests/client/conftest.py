"""Fixtures for client tests: a simulated repository and an updater bound to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_sim import METADATA_URL, TARGETS_URL, MakeUpdater, RepositorySimulator

from tufkit.client import Updater, UpdaterConfig


@pytest.fixture
def sim() -> RepositorySimulator:
    return RepositorySimulator()


@pytest.fixture
def make_updater(sim: RepositorySimulator, tmp_path: Path) -> MakeUpdater:
    """Build an updater over *sim*: from the cache once it holds a root, else from root v1."""

    def make(config: UpdaterConfig | None = None, **kwargs: object) -> Updater:
        metadata_dir = tmp_path / "metadata"
        if (metadata_dir / "root.json").exists():
            return Updater.from_trusted_cache(
                metadata_dir,
                METADATA_URL,
                target_dir=tmp_path / "targets",
                target_base_url=TARGETS_URL,
                fetcher=sim,
                config=config,
                **kwargs,
            )
        return Updater(
            metadata_dir,
            METADATA_URL,
            trusted_root=sim.signed_roots[0],
            target_dir=tmp_path / "targets",
            target_base_url=TARGETS_URL,
            fetcher=sim,
            config=config,
            **kwargs,  # type: ignore[arg-type]
        )

    return make
