"""Where a queued access request's CPU goes in a worker, against the same request run inline.

Run: ``python -m benchmarks.profile_workers --postgres postgresql+psycopg://user@host/garde_bench
[--customers 20000] [--requests 100] [--profile]`` (or set ``GARDE_BENCH_POSTGRES_URL``). The shop is
``bench_requests``'s; the store a new database each run.

One worker runs in this process (procrastinate's worker with garde's job kinds, on the ``requests``
queue, logging at INFO to a file as ``garde worker`` does): ``--requests`` verified access requests
are queued at once (after a few untimed ones), then the worker takes them until the queue is empty.
Then the same number of other requests run inline (``rights.run``, no mailer, as
``bench_throughput``'s garde side), then inline with the worker's mailer. For each: this process's
CPU per request, split into the job bodies (the CPU of the threads the jobs ran in) and the rest
(the worker's event loop: fetching and finishing jobs, logging, the thread hop); the PostgreSQL
server's CPU per request (its processes for the run's databases, read from ``/proc``); the store
statements per request. ``--profile``: a cProfile of the job bodies and of the loop (the figures are
then inflated by the profiler; read them as shares).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.bench_throughput import cpu_seconds
from benchmarks.bench_workers import _env, _server_pids
from benchmarks.request_shop import (
    AS_OF,
    Shop,
    load,
    on_postgres,
    open_deployment,
    sample_emails,
    submit_verified,
)
from benchmarks.request_shop import warm as warm_shop


class Meter:
    """CPU of the job bodies (thread time), statements per engine, and an optional profile of each."""

    def __init__(self, profile: bool) -> None:
        self.job_cpu = 0.0
        self.statements: Counter[str] = Counter()
        self.texts: Counter[str] = Counter()
        # CPU time of the thread each runs in (a job's thread; the event loop's), not wall time
        self.jobs = cProfile.Profile(time.thread_time) if profile else None
        self.loop = cProfile.Profile(time.thread_time) if profile else None

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def measured(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            if self.jobs is not None:
                self.jobs.enable()
            try:
                return function(*args, **kwargs)
            finally:
                if self.jobs is not None:
                    self.jobs.disable()
                self.job_cpu += time.thread_time() - start

        return measured

    def count(self, engine: sa.Engine, label: str) -> None:
        def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            self.statements[label] += 1
            self.texts[" ".join(statement.split())[:90]] += 1

        sa.event.listen(engine, "before_cursor_execute", counted)


def _print_profile(title: str, profile: cProfile.Profile | None, lines: int = 45) -> None:
    if profile is None:
        return
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(25)
    print(f"==== {title} ====\n{out.getvalue()}", flush=True)


def _server(store: sa.Engine, shop: Shop) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in _server_pids(store, shop)}


def _server_since(store: sa.Engine, shop: Shop, before: dict[int, float]) -> float:
    return sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in _server_pids(store, shop))


class QueuedRounds:
    """One worker in this process, started over and over: each round queues its requests at once, then
    the worker takes them until the queue is empty."""

    def __init__(self, shop: Shop, store: sa.Engine, profile: bool) -> None:
        from garde.jobs.queue import queue_app, worker_store, worker_url
        from garde.jobs.requests import worker_deployment
        from garde.jobs.worker import warm
        from garde.settings import get_settings

        self.shop, self.store = shop, store
        os.environ.update(_env(shop))
        get_settings.cache_clear()
        self.settings = get_settings()
        logging.basicConfig(level=logging.INFO, filename=str(shop.work / "worker.log"),
                            format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
        warm(shop.store_url, self.settings)
        self.meter = Meter(profile)
        self.app = queue_app(shop.store_url, worker=self.settings)
        for task in self.app.tasks.values():
            task.func = self.meter.wrap(task.func)
        self.meter.count(worker_store(worker_url(shop.store_url)), "store")
        for name, engine in worker_deployment(None, None).engines.items():
            self.meter.count(engine, name)

    def _drain(self) -> None:
        settings = self.settings
        self.app.run_worker(queues=["requests"], wait=False, install_signal_handlers=False,
                            delete_jobs="never", update_heartbeat_interval=settings.worker_heartbeat_seconds,
                            stalled_worker_timeout=settings.worker_stalled_seconds)

    def round(self, emails: list[str]) -> dict[str, Any]:
        from garde.jobs import submit
        from garde.jobs.requests import run_job

        timed = [submit_verified(self.store, "access", e) for e in emails]
        for request_id in timed:
            submit(self.store, run_job, {"request_id": request_id})
        meter = self.meter
        meter.job_cpu, meter.statements, meter.texts = 0.0, Counter(), Counter()
        server = _server(self.store, self.shop)
        wall, cpu = time.perf_counter(), time.process_time()
        if meter.loop is not None:
            meter.loop.enable()
        self._drain()
        if meter.loop is not None:
            meter.loop.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        count = len(timed)
        _check_completed(self.store, timed)
        server_cpu = _server_since(self.store, self.shop, server)
        return {"requests": count, "wall_ms_per_request": round(1000 * wall / count, 2),
                "cpu_ms_per_request": round(1000 * cpu / count, 2),
                "job_body_cpu_ms": round(1000 * meter.job_cpu / count, 2),
                "loop_and_rest_cpu_ms": round(1000 * (cpu - meter.job_cpu) / count, 2),
                "server_cpu_ms_per_request": round(1000 * server_cpu / count, 2),
                "statements_per_request": _per(meter.statements, count)}

    def print_profiles(self) -> None:
        _print_profile("job bodies (the threads the jobs ran in)", self.meter.jobs)
        _print_profile("the worker's loop (main thread)", self.meter.loop)


def _per(counted: Counter[str], count: int) -> dict[str, float]:
    return {key: round(value / count, 1) for key, value in sorted(counted.items())}


def _check_completed(store: sa.Engine, ids: list[str]) -> None:
    with store.connect() as conn:
        statuses = Counter(conn.execute(sa.text("SELECT status FROM requests WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": ids}).scalars())
    if statuses != Counter({"completed": len(ids)}):
        raise SystemExit(f"requests did not all complete: {dict(statuses)}")


def _inline(shop: Shop, store: sa.Engine, emails: list[str], mailed: bool, meter: Meter) -> dict[str, Any]:
    from garde.jobs.requests import worker_deployment
    from garde.rights.mailer import configured_mailer
    from garde.rights.running import run

    deployment = worker_deployment(None, None)
    meter.statements, meter.texts = Counter(), Counter()
    ids = [submit_verified(store, "access", e) for e in emails]
    server = _server(store, shop)
    wall, cpu = time.perf_counter(), time.process_time()
    for request_id in ids:
        run(store, request_id, deployment, today=AS_OF, mailer=configured_mailer() if mailed else None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    count = len(ids)
    _check_completed(store, ids)
    return {"requests": count, "wall_ms_per_request": round(1000 * wall / count, 2),
            "cpu_ms_per_request": round(1000 * cpu / count, 2),
            "server_cpu_ms_per_request": round(1000 * _server_since(store, shop, server) / count, 2),
            "statements_per_request": _per(meter.statements, count)}


SIDES = ("worker", "inline_with_mailer", "inline")


def bench(shop: Shop, requests: int, rounds: int, profile: bool, verbose: bool = False,
          seed: int = 11) -> dict[str, Any]:
    """``rounds`` times, alternating: ``requests`` through the worker, as many inline with the worker's
    mailer, as many inline without (``bench_throughput``'s garde side); after one untimed round."""
    load_before = load()
    cache = warm_shop(shop)
    deployment, store = open_deployment(shop, shop.work / "results")
    emails = sample_emails(deployment.engines["shop"], shop.customers, 3 * requests * (rounds + 1) + 5,
                           random.Random(seed))
    deployment.dispose()
    worker = QueuedRounds(shop, store, profile)
    inline = Meter(False)
    inline.count(store, "store")
    texts: dict[str, Counter[str]] = {}
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for number in range(rounds + 1):
        for side in SIDES:
            batch, emails = emails[:requests], emails[requests:]
            if side == "worker":
                outcome = worker.round(batch)
                texts[side] = worker.meter.texts
            else:
                outcome = _inline(shop, store, batch, side == "inline_with_mailer", inline)
                texts[side] = inline.texts
            if number:  # the first round warms every side
                results[side].append({**outcome, "load": load()})
    if profile:
        worker.print_profiles()
    if verbose:
        for side, counted in texts.items():  # the last round's statements, per request
            print(f"==== store statements per request: {side} ====")
            for text, count in sorted(counted.items()):
                print(f"{count / requests:6.1f}  {text}")
    store.dispose()
    return {"shop": shop.label(), "requests_per_round": requests, "profiled": profile, "file_cache": cache,
            "load_average_before": load_before, "load_average_after": load(), "rounds": results,
            "note": "one process; worker CPU = job bodies (their threads) + the loop and the rest"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=20_000)
    parser.add_argument("--requests", type=int, default=50, help="access requests per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (each side once a round)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the jobs and the loop")
    parser.add_argument("--statements", action="store_true", help="print the store statements per request")
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.requests, args.rounds, args.profile, args.statements))


if __name__ == "__main__":
    main()
