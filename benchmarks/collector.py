"""Python's cyclic collector around timed work, and garde's long-lived processes' set-up of it.

``garde worker`` (PostgreSQL's requests) freezes its heap after start-up and collects the young
generation every 20,000 new objects (:func:`garde.jobs.worker.freeze_heap`, ``collect_less``);
``garde serve`` (SQLite's requests, run in the server) freezes its heap at start and keeps Python's
thresholds. A benchmark that runs requests in a plain process walks its whole heap (the modules, the
data map, SQLAlchemy: ≈ 140,000 objects) at each full collection, which neither process does:
:func:`production_set_up` gives the benchmark's process the set-up of the process that runs its
requests, and :class:`Collections` counts what the collector does while a request is timed.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Literal

from garde.jobs.worker import collect_less, freeze_heap

SetUp = Literal["worker", "serve", "plain"]


def production_set_up(set_up: SetUp) -> dict[str, Any]:
    """Set this process's collector as ``set_up`` runs requests; what it did."""
    frozen = 0
    if set_up in ("worker", "serve"):
        frozen = freeze_heap()
    if set_up == "worker":
        collect_less()
    return {"set_up": set_up, "frozen_objects": frozen, "thresholds": list(gc.get_threshold())}


def default_set_up(backend: str) -> SetUp:
    """The process that runs a request in production: a worker on PostgreSQL, the server on SQLite."""
    return "worker" if backend == "postgresql" else "serve"


class Collections:
    """Collections by generation and their CPU time, counted only inside ``with`` blocks
    (``gc.callbacks``; the callback's own cost outside a block is one test)."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.collected = 0
        self.blocks = 0
        self._on = False
        self._started = 0.0

    def _noted(self, phase: str, info: dict[str, int]) -> None:
        if not self._on:
            return
        if phase == "start":
            self._started = time.process_time()
            return
        generation = info["generation"]
        self.counts[generation] += 1
        self.seconds[generation] += time.process_time() - self._started
        self.collected += info["collected"]

    def __enter__(self) -> Collections:
        if self._noted not in gc.callbacks:
            gc.callbacks.append(self._noted)
        self._on = True
        self.blocks += 1
        return self

    def __exit__(self, *_exc: object) -> None:
        self._on = False

    def close(self) -> None:
        if self._noted in gc.callbacks:
            gc.callbacks.remove(self._noted)

    def per_block(self) -> dict[str, float]:
        """Each generation's collections and the collector's CPU ms, per block; objects collected."""
        per = 1 / max(self.blocks, 1)
        return {"young": round(self.counts[0] * per, 3), "middle": round(self.counts[1] * per, 3),
                "full": round(self.counts[2] * per, 3),
                "cpu_ms": round(sum(self.seconds) * 1000 * per, 3),
                "garbage_objects": round(self.collected * per, 1)}
