"""The package layers import one way (DESIGN.md), and light imports stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tufkit"

# package -> tufkit packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_atomic": set(),
    "canonical": {"errors"},
    "crypto": {"errors", "canonical"},
    "metadata": {"errors", "canonical", "crypto"},
    "client": {"errors", "canonical", "crypto", "metadata", "_atomic"},
    "repository": {"errors", "canonical", "crypto", "metadata", "_atomic"},
    "intoto": {"errors", "canonical", "crypto", "_atomic"},
    "server": {"errors", "canonical", "crypto", "metadata", "repository", "_atomic"},
    "trust": {"errors", "canonical", "crypto", "metadata", "client", "repository", "server"},
}


def _package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tufkit" and len(parts) > 1:
                found.add(parts[1])
    return found


SOURCES = sorted(p for p in SRC.rglob("*.py") if _package_of(p) in ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down_the_layers(path: Path) -> None:
    package = _package_of(path)
    illegal = _imported_packages(path) - ALLOWED[package] - {package}
    assert not illegal, f"{path.relative_to(SRC)} imports {sorted(illegal)}"


def test_no_reference_implementation_in_the_package() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                for module in modules:
                    root = (module or "").split(".")[0]
                    assert root not in {"tuf", "in_toto", "securesystemslib"}, path


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("tufkit.metadata", {"msgspec", "cryptography", "nacl", "urllib3", "click"}),
        ("tufkit.crypto", {"cryptography", "nacl", "msgspec"}),
        ("tufkit.cli", {"msgspec", "cryptography", "nacl", "urllib3", "tufkit.metadata"}),
        ("tufkit.client", {"msgspec", "urllib3", "dataclasses", "pathlib", "tempfile"}),
    ],
)
def test_importing_does_not_load_heavy_modules(module: str, heavy: set[str]) -> None:
    code = f"import sys, {module}; print('\\n'.join(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    loaded = {name for name in out if name.split(".")[0] in heavy or name in heavy}
    assert not loaded, f"import {module} loads {sorted(loaded)}"
