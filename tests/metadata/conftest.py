"""Every metadata test runs twice: with the default read paths (targets documents above 1 MiB
take the typed fast path) and with the fast path tried for every document, so both paths are
held to the same expectations on small test documents."""

from __future__ import annotations

import pytest

from tufkit.metadata import _envelope


@pytest.fixture(autouse=True, params=["default-paths", "fast-path-always"])
def read_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fast-path-always":
        monkeypatch.setattr(_envelope, "_LARGE", 0)
    param: str = request.param
    return param
