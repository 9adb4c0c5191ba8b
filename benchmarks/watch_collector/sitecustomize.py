"""Count Python's collections in every process started with this folder first on ``PYTHONPATH``
and ``GARDE_WATCH_COLLECTOR=FILE`` set (a ``garde worker`` or ``garde serve`` as it runs, e.g. the
workers ``bench_workers`` starts): at the process's exit one JSON line is appended to ``FILE`` with
its command and, before its heap was frozen (start-up) and after (running), its collections by
generation, their CPU seconds and the objects they freed; the objects it froze, its young threshold
when it froze them, and its own CPU seconds. Without the variable this file does nothing."""

from __future__ import annotations

import os

if os.environ.get("GARDE_WATCH_COLLECTOR"):
    import atexit
    import gc
    import json
    import sys
    import time

    _parts = {"start_up": {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "freed": 0},
              "running": {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "freed": 0}}
    _state: dict[str, float] = {"started": 0.0, "frozen": 0, "threshold": 0}

    def _noted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            _state["started"] = time.process_time()
            return
        frozen = gc.get_freeze_count()
        if frozen and not _state["frozen"]:
            _state["frozen"], _state["threshold"] = frozen, gc.get_threshold()[0]
        part = _parts["running" if _state["frozen"] else "start_up"]
        part["collections"][info["generation"]] += 1  # type: ignore[index]
        part["seconds"][info["generation"]] += time.process_time() - _state["started"]  # type: ignore[index]
        part["freed"] += info["collected"]  # type: ignore[operator]

    def _written() -> None:
        line = {"pid": os.getpid(), "argv": sys.argv, **_parts, "frozen": _state["frozen"],
                "threshold_when_frozen": _state["threshold"], "cpu_seconds": round(time.process_time(), 3)}
        with open(os.environ["GARDE_WATCH_COLLECTOR"], "a") as out:
            out.write(json.dumps(line) + "\n")

    gc.callbacks.append(_noted)
    atexit.register(_written)
