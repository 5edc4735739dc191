"""Each foundation package's ``__all__`` is exact: every public name is exported and importable,
nothing private or foreign is exported."""

from __future__ import annotations

import importlib
import pkgutil
import types
from typing import Any

import pytest

PACKAGES = [
    "tufkit.errors",
    "tufkit.canonical",
    "tufkit.crypto",
    "tufkit.metadata",
    "tufkit.repository",
    "tufkit.intoto",
]
_FUTURE = {"annotations"}


def _is_public_definition(module: types.ModuleType, name: str, value: Any) -> bool:
    """A public name the module (or, for a package, its private submodules) defines."""
    if name.startswith("_") or name in _FUTURE or isinstance(value, types.ModuleType):
        return False
    owner = getattr(value, "__module__", None)
    if isinstance(value, type | types.FunctionType) or (
        owner is not None and not isinstance(value, str | int | tuple | dict | list | frozenset)
    ):
        return isinstance(owner, str) and (
            owner == module.__name__ or owner.startswith(module.__name__ + "._")
        )
    # a constant: public if it is not imported from another tufkit module's __all__
    return name.isupper()


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_exact(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for name in exported:
        assert not name.startswith("_"), f"{package} exports private {name}"
        assert hasattr(module, name), f"{package}.__all__ names missing {name}"
        value = getattr(module, name)
        owner = getattr(value, "__module__", None)
        if isinstance(value, type | types.FunctionType):
            assert isinstance(owner, str)
            assert owner.startswith("tufkit"), f"{package} re-exports foreign {name} from {owner}"
    public = {
        name for name, value in vars(module).items() if _is_public_definition(module, name, value)
    }
    assert public <= set(exported), (
        f"{package} defines but does not export {public - set(exported)}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_star_import_gives_exactly_all(package: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 - a fixed module name
    namespace.pop("__builtins__")
    assert set(namespace) == set(importlib.import_module(package).__all__)


def _private_submodules(package: str) -> list[str]:
    module = importlib.import_module(package)
    if not hasattr(module, "__path__"):
        return []
    return [
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(module.__path__)
        if info.name.startswith("_")
    ]


SUBMODULES = [name for package in PACKAGES for name in _private_submodules(package)]


def test_intoto_names_differ_from_tuf_metadata_names() -> None:
    """One ``from tufkit.intoto import *`` next to ``tufkit.metadata`` shadows nothing."""
    intoto = set(importlib.import_module("tufkit.intoto").__all__)
    assert not intoto & set(importlib.import_module("tufkit.metadata").__all__)


@pytest.mark.parametrize("submodule", SUBMODULES)
def test_private_modules_all_is_exact(submodule: str) -> None:
    module = importlib.import_module(submodule)
    exported = set(getattr(module, "__all__", ()))
    for name in exported:
        assert hasattr(module, name), f"{submodule}.__all__ names missing {name}"
        assert not name.startswith("_")
    defined = {  # classes and functions it defines (constants cannot be told from imports)
        name
        for name, value in vars(module).items()
        if isinstance(value, type | types.FunctionType)
        and not name.startswith("_")
        and value.__module__ == submodule
    }
    assert defined <= exported, f"{submodule} defines but does not list {defined - exported}"


@pytest.mark.parametrize("package", ["tufkit.crypto", "tufkit.metadata"])
def test_package_exports_what_its_modules_promise_publicly(package: str) -> None:
    """Names a private module lists and the package re-exports are the same objects."""
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        owner = getattr(value, "__module__", None)
        if isinstance(owner, str) and owner.startswith(package + "._"):
            assert getattr(importlib.import_module(owner), name) is value
