"""Packages whose public names are imported on first use (PEP 562), so ``garde --help`` or
``garde analyse`` does not pay for SQLAlchemy, procrastinate or FastAPI it never uses.

A package lists its names as ``{name: (module, attribute)}`` under ``if not TYPE_CHECKING`` and
keeps the same imports under ``if TYPE_CHECKING`` for type checkers, then calls :func:`lazy`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class _LazyPackage(types.ModuleType):
    _lazy_names: dict[str, tuple[str, str]]

    def __getattr__(self, name: str) -> Any:  # called only for a name not yet in the package
        try:
            module, attribute = self.__dict__["_lazy_names"][name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        super().__setattr__(name, value)  # the next access is a plain attribute
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # importing a submodule binds it on its package; where a public name is a function of the
        # same name (garde.lint, garde.jobs.submit), the package keeps the function, as it did when
        # it imported its names eagerly
        names = self.__dict__.get("_lazy_names", {})
        submodule = isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if name in names and submodule:
            value = getattr(value, names[name][1])
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(self.__dict__["_lazy_names"]))


def lazy(package: str, names: dict[str, tuple[str, str]]) -> None:
    """Make ``package`` (its ``__name__``) import each of ``names`` when first read."""
    module = sys.modules[package]
    module.__dict__["_lazy_names"] = names
    module.__class__ = _LazyPackage
