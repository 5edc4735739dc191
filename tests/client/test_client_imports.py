"""The client package loads what is used: names on first use, one module without the others."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import tufkit.client


def _modules_after(code: str) -> set[str]:
    program = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_every_public_name_resolves_to_its_defining_module() -> None:
    namespace: dict[str, Any] = {}
    exec("from tufkit.client import *", namespace)  # noqa: S102 - a fixed module name
    namespace.pop("__builtins__")
    assert set(namespace) == set(tufkit.client.__all__)
    for name, value in namespace.items():
        assert value.__module__.startswith("tufkit.client."), name
        assert getattr(tufkit.client, name) is value
    assert set(tufkit.client.__all__) <= set(dir(tufkit.client))


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Updatr'"):
        tufkit.client.Updatr  # noqa: B018


def test_the_cache_alone_loads_neither_the_updater_nor_the_network() -> None:
    loaded = _modules_after("import tufkit.client.cache")
    assert "tufkit.client.cache" in loaded
    heavy = {"tufkit.client.updater", "tufkit.metadata", "tufkit.crypto", "h11", "socket"}
    assert not loaded & heavy


def test_conformance_init_loads_only_the_cache(tmp_path: Any) -> None:
    root = tmp_path / "root.json"
    root.write_bytes(b"{}")
    code = (
        "from tufkit.conformance_client import run\n"
        f"assert run(['--metadata-dir', {str(tmp_path / 'm')!r}, 'init', {str(root)!r}]) == 0"
    )
    loaded = _modules_after(code)
    assert (tmp_path / "m" / "root.json").read_bytes() == b"{}"
    unused = {"click", "shutil", "tufkit.client.updater", "tufkit.metadata", "h11", "socket"}
    assert not loaded & unused
