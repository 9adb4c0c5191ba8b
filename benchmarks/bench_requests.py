"""Access and erasure for one subject in a large reference shop, against hand-written SQL.

Run: ``python -m benchmarks.bench_requests [--customers 1000000] [--samples 15] [--cache DIR]``
on SQLite, ``… --postgres postgresql+psycopg://user@host/garde_bench`` on PostgreSQL (or set
``GARDE_BENCH_POSTGRES_URL``; ``--sqlite`` forces SQLite then). The shop is generated once
(seed 1, as of 2025-06-01): SQLite files under ``.garde/bench/shop-<customers>/`` (or ``DIR``),
PostgreSQL databases ``<db>_<customers>_shop`` and ``<db>_<customers>_crm``; generated again when
the shop's schema changes. Each run erases a few more subjects from it.

garde's figures are whole requests as a user runs them (``rights.run``):
lifecycle steps and audit entries in the engine store (on the same backend as
the shop), set-based discovery over both databases, the answer files
(access.json + access.html, in a new folder per request), and for erasure the
plan written before the change, the guarded statements and the report. The
baseline is SQL a developer would write by hand for this schema: the same
reads (every row of the subject, table by table from the e-mail; for access
written to a new file per answer) and, for erasure, the same writes, with no
plan, audit or report. Both sides are timed in wall time and in the CPU time
of this process (on PostgreSQL the server's CPU is not in it); the shop's
files are read into the OS file cache before timing, and the output says so.

After its start-up and a warm request, the process sets Python's collector as the process that runs
requests in production does (``--collector``, default: ``garde worker``'s on PostgreSQL, ``garde
serve``'s on SQLite; ``plain`` as earlier figures were taken: benchmarks/collector.py); the output
gives the collections each timed garde request met (``collector``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.collector import Collections, SetUp, default_set_up, production_set_up
from benchmarks.request_shop import (
    AS_OF,
    POSTGRES_ENV,
    HandWritten,
    Shop,
    TunedHandWritten,
    drop_postgres,
    load,
    open_deployment,
    postgres_shop,
    sample_emails,
    sqlite_shop,
    submit_verified,
    warm,
)
from garde.rights.running import run as run_request


def measure(action: Callable[[], Any], memory: bool = False) -> tuple[float, float, int]:
    """Wall seconds and CPU seconds of this process; with ``memory``, the peak of Python allocations
    too (tracemalloc slows Python code several times, so its times are not reported)."""
    if memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    action()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if memory else 0
    if memory:
        tracemalloc.stop()
    return elapsed, cpu, peak


def bench(shop: Shop, samples: int, read_ahead: bool | None = None,
          collector: SetUp | None = None) -> dict[str, Any]:
    deployment, store = open_deployment(shop, shop.work / "results", read_ahead)
    baseline = HandWritten(deployment.engines["shop"], deployment.engines["crm"])
    tuned = TunedHandWritten(shop.urls["shop"], shop.urls["crm"])
    emails = sample_emails(deployment.engines["shop"], shop.customers, samples * 5 + 4,
                           random.Random(time.time_ns()))
    load_before = load()
    cache = warm(shop)

    collections = {"access": Collections(), "erasure": Collections()}

    def garde_run(kind: str, email: str) -> Callable[[], Any]:
        request_id = submit_verified(store, kind, email)

        def running() -> None:
            with collections[kind]:
                run_request(store, request_id, deployment, today=AS_OF)
        return running

    answers = shop.work / "baseline"
    # Warm both paths once (imports, templates, reflection caches), on a subject not measured.
    warm_email = emails[5 * samples + 3]
    measure(garde_run("access", warm_email))
    measure(lambda: baseline.access(warm_email, answers))
    for _ in range(6):  # PostgreSQL: psycopg prepares on a statement's first use; its plan settles by then
        measure(lambda: tuned.access(warm_email, answers))
    # After start-up and warming, as the process that runs requests in production sets its collector
    # (the worker on PostgreSQL, the server on SQLite): benchmarks/collector.py
    set_up = production_set_up(collector or default_set_up(shop.backend))
    for kind, warming in list(collections.items()):  # the warm request not counted
        warming.close()
        collections[kind] = Collections()
    figures: dict[str, list[tuple[float, float, int]]] = {
        k: [] for k in ("access", "access_sql", "access_sql_tuned", "erasure", "erasure_sql")}
    # Every measure is on a subject nobody read before in this run: a subject read once is in the
    # database's page cache (garde and the baseline share the engines), and timing the second
    # reader of the same subject would compare a warm read against a cold one.
    for i in range(samples):
        figures["access"].append(measure(garde_run("access", emails[i])))
        figures["access_sql"].append(measure(lambda e=emails[samples + i]: baseline.access(e, answers)))  # type: ignore[misc]
        figures["access_sql_tuned"].append(
            measure(lambda e=emails[4 * samples + i]: tuned.access(e, answers)))  # type: ignore[misc]
    for i in range(samples):
        figures["erasure"].append(measure(garde_run("erasure", emails[2 * samples + i])))
        figures["erasure_sql"].append(measure(lambda e=emails[3 * samples + i]: baseline.erase(e)))  # type: ignore[misc]
    counted = {kind: each.per_block() for kind, each in collections.items()}
    spare = emails[5 * samples:]
    peaks = {"access": measure(garde_run("access", spare[0]), memory=True)[2],
             "access_sql": measure(lambda: baseline.access(spare[0], answers), memory=True)[2],
             "access_sql_tuned": measure(lambda: tuned.access(spare[0], answers), memory=True)[2],
             "erasure": measure(garde_run("erasure", spare[1]), memory=True)[2],
             "erasure_sql": measure(lambda: baseline.erase(spare[2]), memory=True)[2]}
    tuned.close()
    deployment.dispose()
    store.dispose()
    result: dict[str, Any] = {"shop": shop.label(), "samples": samples, "file_cache": cache,
                              "load_average_before": load_before, "load_average_after": load(),
                              "collector": {**set_up, "per_request": counted}}
    for each in collections.values():
        each.close()
    for key, values in figures.items():
        result[key] = {"median_ms": round(statistics.median(v[0] for v in values) * 1000, 1),
                       "cpu_median_ms": round(statistics.median(v[1] for v in values) * 1000, 1),
                       "peak_kib": round(peaks[key] / 1024)}
    for kind in ("access", "erasure"):
        result[f"{kind}_ratio"] = round(result[kind]["median_ms"] / result[f"{kind}_sql"]["median_ms"], 2)
        cpu = result[kind]["cpu_median_ms"], result[f"{kind}_sql"]["cpu_median_ms"]
        result[f"{kind}_cpu_ratio"] = round(cpu[0] / cpu[1], 2)
    # against the floor: the same reads on the raw driver, prepared, arrays, pipelined (TunedHandWritten)
    result["access_tuned_ratio"] = round(
        result["access"]["median_ms"] / result["access_sql_tuned"]["median_ms"], 2)
    result["access_tuned_cpu_ratio"] = round(
        result["access"]["cpu_median_ms"] / result["access_sql_tuned"]["cpu_median_ms"], 2)
    return result


def arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the shop (shared with ``bench_throughput``)."""
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="the shop's size (default 1,000,000)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder of the generated SQLite shops (default: .garde/bench)")
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV),
                        help=f"a PostgreSQL URL (its database name is the prefix of the benchmark's "
                             f"databases); default ${POSTGRES_ENV}")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even when --postgres is set")
    parser.add_argument("--read-ahead", choices=("on", "off"), default=None,
                        help="discovery reads each database in one statement before its walk (on) or "
                             "walks table by table (off); default: as garde chooses per database")
    parser.add_argument("--drop", action="store_true",
                        help="PostgreSQL: drop the shop's databases at the end (the store is always dropped)")


def read_ahead(args: argparse.Namespace) -> bool | None:
    """The ``--read-ahead`` option: True, False, or None (garde's own choice)."""
    return None if args.read_ahead is None else args.read_ahead == "on"


def open_shop(args: argparse.Namespace) -> Shop:
    work = Path(tempfile.mkdtemp(prefix="garde-bench-"))
    if args.postgres and not args.sqlite:
        return postgres_shop(args.customers, args.postgres, work)
    return sqlite_shop(args.customers, work, args.cache)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--collector", choices=("worker", "serve", "plain"), default=None,
                        help="Python's collector as the process that runs requests sets it: worker "
                             "(heap frozen, young generation every 20,000 objects), serve (heap frozen), "
                             "plain (as a script); default worker on PostgreSQL, serve on SQLite")
    args = parser.parse_args(argv)
    shop = open_shop(args)
    try:
        print(json.dumps(bench(shop, args.samples, read_ahead(args), args.collector), indent=2))
    finally:
        if shop.backend == "postgresql":
            drop_postgres(shop, keep_shop=not args.drop)


if __name__ == "__main__":
    main()
