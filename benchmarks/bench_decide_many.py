"""decide_many() in batches of 1, 10, 100 and 1,000, auditing on, against pycasbin's
``batch_enforce`` on the same batches, and decide() one by one, in the same run.

Same data as ``bench_decide.py`` (its register, 2,000 subjects and plan of 20,000 decisions).
For each batch size a fresh :class:`DecisionPoint` (nothing kept yet) warms up on the plan's
first 500 decisions, then decides the whole plan in batches of that size; its entries go to the
audit log through the process writer, flushed inside the timed section. CPU time of this process
(the decisions and the audit writer's thread), and apart the writer process's per entry; pycasbin
gets the subjects' attributes in memory, as in ``bench_decide.py``. ``batch_enforce`` of pycasbin
2.x is a loop over ``enforce``: its rate is pycasbin's one by one.

``python -m benchmarks decide_many`` (also run by ``python -m benchmarks decide``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Result
from benchmarks.bench_decide import _writer_cpu, attributes, casbin_enforcer, prepared
from garde.decide import DecisionPoint
from garde.store import connect

SIZES = (1, 10, 100, 1000)
WARM = 500
CASBIN = 4000


def run(subject_count: int = 2000, calls: int = 20_000) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        engine, register, plan = prepared(folder, subject_count, calls)
        with DecisionPoint(register, engine, audit=False) as plain:
            attrs = {sid: attributes(plain, sid) for sid in {p[0] for p in plan}}
        enforcer = casbin_enforcer()
        asked = [(activity, sid, categories) for sid, activity, categories in plan]

        engine.dispose()
        stored = Path(folder) / "garde.db"

        def garde(size: int) -> tuple[float, float]:
            """CPU µs per decision in this process and in the writer process, batches of ``size``
            (0: decide() one by one), on a copy of the store as prepared: every pass appends to an
            audit log of the same length (its index on subjects costs more as it grows)."""
            copy = Path(folder) / f"pass-{size}.db"
            shutil.copyfile(stored, copy)
            store = connect(f"sqlite:///{copy}")
            point = DecisionPoint(register, store)
            try:
                decide, many = point.decide, point.decide_many
                for request in asked[:WARM]:
                    decide(*request)
                point.audit_writer.flush()  # type: ignore[union-attr]
                child = _writer_cpu(point)
                start = time.process_time()
                if size:
                    for first in range(0, calls, size):
                        many(asked[first:first + size])
                else:
                    for request in asked:
                        decide(*request)
                point.audit_writer.flush()  # type: ignore[union-attr]
                spent = time.process_time() - start
                child = _writer_cpu(point) - child
            finally:
                point.close()
                store.dispose()
            return spent / calls * 1e6, child / calls * 1e6

        def casbin(size: int) -> float:
            """pycasbin's CPU µs a decision, over the plan's first ``CASBIN`` decisions (its rate does
            not depend on the data: ≈ 2,000 decisions/s)."""
            rows: list[Any] = [(attrs[sid], activity, c) for activity, sid, categories in asked[:CASBIN]
                               for c in categories]
            start = time.process_time()
            for first in range(0, len(rows), size * 2):  # ≈ 2 categories a decision
                enforcer.batch_enforce(rows[first:first + size * 2])
            return (time.process_time() - start) / CASBIN * 1e6

        one_by_one = garde(0)
        for size in SIZES:
            (own, child), theirs = garde(size), casbin(size)
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            note = (f"{own:.1f} µs CPU a decision in this process + {child:.1f} µs in the audit writer "
                    f"process (decide() one by one, same run: {one_by_one[0]:.1f} + {one_by_one[1]:.1f} µs); "
                    f"pycasbin {theirs:.1f} µs; load average {load:.2f}")
            results.append(Result("decide_many", f"batch of {size}, CPU time", 1e6 / own, 1e6 / theirs,
                                  "decisions/CPU s", theirs / own, ">= 100,000/s", own <= 10, note))
    return results


def main(argv: list[str]) -> None:
    from benchmarks.__main__ import main as run_all

    run_all(["bench_decide_many"])
