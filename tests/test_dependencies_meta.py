"""Every package garde's code imports is one of its declared dependencies (pyproject.toml), not one it
happens to get through another (croniter came through procrastinate, starlette through FastAPI): a
dependency that drops it, or a resolver that picks an older one, would break garde at import time."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _imported_modules() -> set[str]:
    """The top-level modules imported anywhere in src/garde (relative imports aside)."""
    found: set[str] = set()
    for source in (ROOT / "src" / "garde").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    ours = {"garde", "_typeshed"}  # _typeshed: names for type checkers only (under TYPE_CHECKING)
    return {name for name in found if name not in sys.stdlib_module_names and name not in ours}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalised(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
            for requirement in project["dependencies"]}


def test_every_imported_package_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    declared = _declared()
    undeclared = {module: distributions.get(module) for module in _imported_modules()
                  if not declared & {_normalised(d) for d in distributions.get(module, [module])}}
    assert not undeclared, f"imported by src/garde but not in pyproject.toml's dependencies: {undeclared}"
