"""Run every ``bench_*.py`` of this folder (``make bench``); ``python -m benchmarks decide`` runs some."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks import Result


def main(selected: list[str]) -> int:
    results: list[Result] = []
    folder = Path(__file__).parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_")):
        if selected and not any(s in module for s in selected):
            continue
        print(f"== {module}", flush=True)
        loaded = importlib.import_module(f"benchmarks.{module}")
        run = getattr(loaded, "run", None)
        if callable(run) and getattr(run, "__module__", None) == loaded.__name__:  # its own, not imported
            results += run()
        else:
            loaded.main([])
    table(results)
    return 0


def table(results: list[Result]) -> None:
    """The results as one table of ratios, then their notes."""
    if not results:
        return
    print()
    header = ("benchmark", "measure", "garde", "baseline", "ratio", "goal", "met")
    rows = [(r.benchmark, r.measure, f"{r.garde:,.1f} {r.unit}", f"{r.baseline:,.1f} {r.unit}",
             f"{r.ratio:.2f}", r.goal, "yes" if r.met else "NO") for r in results]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    for r in results:
        if r.note:
            print(f"* {r.benchmark} / {r.measure}: {r.note}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
