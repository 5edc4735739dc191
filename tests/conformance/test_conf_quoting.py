"""Replica of tuf-conformance ``test_quoting_issues.py``: role names in URLs and file names."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from conformance_runner import Setup
from tuf.api.metadata import DelegatedRole, Targets


@pytest.mark.parametrize("role", ["?", "#", "/delegatedrole", "../delegatedrole"])
def test_unusual_role_name(setup: Setup, role: str) -> None:
    setup.repo.add_delegation(
        "targets",
        DelegatedRole(role, [], 1, False, ["*"]),
        Targets(1, None, setup.repo.safe_expiry, {}, None),
    )
    setup.repo.add_key(role, "targets")
    setup.repo.publish([role, "targets", "snapshot", "timestamp"])
    setup.client.init(setup.endpoints)
    assert setup.client.download(setup.endpoints, "nonexistent target") == 1
    assert (quote(role, ""), 1) in setup.repo.requests
    assert len(setup.client.trusted_roles()) == 5
    # everything stays plain files inside the metadata directory
    assert all(p.is_file() for p in setup.client.metadata_dir.iterdir())
    assert setup.client.files_outside() == []
    assert list(setup.client.workdir.parent.glob("delegatedrole*")) == []
