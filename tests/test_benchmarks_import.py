"""Every benchmark module imports: ``make bench`` once crashed because a benchmark still imported names
the library had dropped (``VERSION_SQL``), and no test read the benchmarks."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


MODULES = sorted(path.stem for path in BENCHMARKS.glob("*.py") if path.stem != "__main__")


@pytest.mark.parametrize("module", MODULES)
def test_a_benchmark_module_imports(module: str) -> None:
    importlib.import_module(f"benchmarks.{module}")
