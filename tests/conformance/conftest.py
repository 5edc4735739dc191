"""Fixtures for the tuf-conformance replica: one HTTP server per session, one client per test."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_runner import ClientRunner, Setup
from conformance_sim import RepositoryServer

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here starts real processes and a server on 127.0.0.1."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def server() -> Iterator[RepositoryServer]:
    srv = RepositoryServer()
    yield srv
    srv.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[ClientRunner]:
    runner = ClientRunner(tmp_path)
    yield runner
    runner.check_layout()


@pytest.fixture
def setup(server: RepositoryServer, client: ClientRunner, request: pytest.FixtureRequest) -> Setup:
    endpoints, repo = server.new_repository(request.node.name)
    return Setup(endpoints, repo, client)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """On failure, attach what the client printed for each command."""
    outcome = yield
    report = outcome.get_result()
    runner = item.funcargs.get("client") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(runner, ClientRunner):
        report.sections.append(("client output", "\n".join(runner.outputs)))
