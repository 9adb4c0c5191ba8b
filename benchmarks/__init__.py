"""garde's benchmarks: each ``bench_*.py`` measures garde against a baseline in the same run.

``python -m benchmarks`` (``make bench``) runs them all. A module has either
a ``main(argv)`` that prints its own report, or a ``run()`` returning
:class:`Result` rows, gathered into one table of ratios: absolute figures
depend on the machine, ratios much less.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    """One comparison: garde's figure, the baseline's, and the goal for their ratio."""

    benchmark: str
    measure: str
    garde: float
    baseline: float
    unit: str
    ratio: float  # > 1 means garde does better, whatever the unit
    goal: str
    met: bool
    note: str = ""


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` wall-clock times of ``action``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def timed_pair(first: Callable[[T], object], second: Callable[[T], object], setup: Callable[[], T],
               repeat: int = 5) -> tuple[float, float]:
    """The best wall-clock times of two actions run in turn (first, second, first, ...), so that a
    machine whose speed drifts during the run slows both alike. Each run gets a fresh ``setup()``,
    which is not timed."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for action, kept in ((first, times[0]), (second, times[1])):
            argument = setup()
            start = time.perf_counter()
            action(argument)
            kept.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)
