"""Fixtures of the repository-library tests (helpers live in ``repo_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_support import NOW, Keys, PyTufClient, make_root, pytuf_client_factory

from tufkit.repository import MemoryStorage, Repository


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def repo(storage: MemoryStorage, keys: Keys) -> Repository:
    return Repository.create(storage, make_root(keys), signers=keys.all(), clock=lambda: NOW)


@pytest.fixture
def pytuf_client(tmp_path: Path) -> PyTufClient:
    """``pytuf_client(storage, bootstrap, targets={})`` -> a refreshed python-tuf Updater."""
    return pytuf_client_factory(tmp_path)
