"""How long a split sweep's coordinator takes to queue its other parts: one ``submit`` each (as before)
against one ``submit_many`` (one insert, one transaction), each part with its queueing lock.

Run: ``python -m benchmarks.profile_part_queueing --postgres postgresql+psycopg://user@host/garde_bench
[--parts 1 4 16 64] [--rounds 5]``. The store is a new database ``<db>_parts`` (dropped at the end);
the jobs are ``retention.sweep_part`` jobs no worker takes. Each round queues the parts of a new run
both ways, alternating which goes first; the figures are the medians of the rounds' wall and CPU
milliseconds (this process), per sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from benchmarks.request_shop import load
from garde.jobs import submit, submit_many
from garde.jobs.retention import sweep_part
from garde.store import open_store


def _each(store: sa.Engine, run: str, parts: int) -> None:
    for number in range(parts):
        submit(store, sweep_part, {"run": run, "tables": [f"t{number}"], "batch_size": 1000},
               queueing_lock=f"retention:{run}:t{number}", already_queued_ok=True)


def _together(store: sa.Engine, run: str, parts: int) -> None:
    arguments = [{"run": run, "tables": [f"t{n}"], "batch_size": 1000} for n in range(parts)]
    submit_many(store, sweep_part, arguments, queueing_locks=[f"retention:{run}:t{n}" for n in range(parts)],
                already_queued_ok=True)


def _timed(action: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)


def bench(store: sa.Engine, counts: list[int], rounds: int) -> dict[str, Any]:
    ways = {"submit_each": _each, "submit_many": _together}
    results: dict[str, Any] = {}
    for parts in counts:
        _together(store, uuid.uuid4().hex, parts)  # warm
        seen: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
        for number in range(rounds):
            order = list(ways) if number % 2 == 0 else list(reversed(ways))
            for way in order:
                run = uuid.uuid4().hex
                seen[way].append(_timed(lambda way=way, run=run, parts=parts: ways[way](store, run, parts)))
        results[str(parts)] = {way: {"wall_ms": round(statistics.median(w for w, _ in times), 2),
                                     "cpu_ms": round(statistics.median(c for _, c in times), 2)}
                               for way, times in seen.items()}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", default=os.environ.get("GARDE_BENCH_POSTGRES_URL"))
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.postgres:
        print(json.dumps({"skipped": "no PostgreSQL: pass --postgres URL or set GARDE_BENCH_POSTGRES_URL"}))
        return
    server = sa.make_url(args.postgres)
    name = f"{server.database or 'garde_bench'}_parts"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    os.environ.setdefault("GARDE_ALLOW_DEMO_KEY", "true")
    store = open_store(server.set(database=name).render_as_string(hide_password=False))
    try:
        before = load()
        results = bench(store, args.parts, args.rounds)
        print(json.dumps({"load_average_before": before, "load_average_after": load(), "parts": results},
                         indent=2))
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
