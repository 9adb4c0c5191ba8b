"""Run every ``bench_*.py`` of this folder (``make bench``)."""

from __future__ import annotations

import importlib
from pathlib import Path

for path in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"== {path.stem}", flush=True)
    importlib.import_module(f"benchmarks.{path.stem}").main([])
