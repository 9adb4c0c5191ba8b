"""Access requests per second through the job queue with 1, 2 and 4 `garde worker` processes on the
PostgreSQL shop, against the queue's own floor (an empty job's round trip) and an inline run.

Run: ``python -m benchmarks.bench_workers --postgres postgresql+psycopg://user@host/garde_bench
[--customers 20000] [--requests 200] [--workers 1 2 4]`` (or set ``GARDE_BENCH_POSTGRES_URL``;
without a PostgreSQL URL the benchmark says so and is skipped). The shop's databases are those of
``bench_requests`` (generated once per size); the engine store is a new database each run.

For each number of workers N: N ``garde worker --concurrency 1`` processes are started over the
store and warmed (each answers requests before timing: imports, templates, the data map); then
``--requests`` verified access requests, each for another subject, are queued at once (as
``garde request run`` queues them) and the clock runs from the first queued to the last completed
(the store polled every 20 ms). The floor: ``garde.ping`` jobs (they do nothing) through one worker,
queued at once, and one at a time (queued, then waited for: the latency a caller sees). The inline
baseline: the same kind of requests run one after another in this process with ``rights.run``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.request_shop import (
    ROOT,
    Shop,
    load,
    on_postgres,
    open_deployment,
    sample_emails,
    submit_verified,
    warm,
)
from garde.jobs import queue_app, submit
from garde.jobs.builtin import ping
from garde.jobs.requests import run_job
from garde.rights.running import run

GOAL_RATE, GOAL_SCALING = 200.0, 1.7
POLL = 0.02


def _env(shop: Shop) -> dict[str, str]:
    return {**os.environ, "GARDE_DATABASE_URL": shop.store_url, "GARDE_DATASETS": str(ROOT / "datasets"),
            "GARDE_SHOP_URL": shop.urls["shop"], "GARDE_CRM_URL": shop.urls["crm"],
            "GARDE_RESULTS": str(shop.work / "results"), "GARDE_ALLOW_DEMO_KEY": "true",
            "GARDE_MAILER": "file", "GARDE_OUTBOX": str(shop.work / "outbox")}


@contextmanager
def workers(shop: Shop, count: int) -> Iterator[None]:
    """``count`` worker processes over the shop's store until the block ends (then SIGTERM)."""
    log = (shop.work / "workers.log").open("ab")
    started = [subprocess.Popen([sys.executable, "-m", "garde", "worker", "--concurrency", "1"],
                                env=_env(shop), stdout=log, stderr=subprocess.STDOUT) for _ in range(count)]
    try:
        yield
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(timeout=120)
        log.close()


def _completed(store: sa.Engine, ids: list[str]) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM requests WHERE id IN :ids AND status IN "
                                         "('completed', 'failed')").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": ids}).scalar_one())


def _queued_round(shop: Shop, store: sa.Engine, emails: list[str]) -> float:
    """Queue a run of each (verified) request at once; seconds until every one has ended."""
    ids = [submit_verified(store, "access", email) for email in emails]
    start = time.perf_counter()
    for request_id in ids:
        submit(store, run_job, {"request_id": request_id})
    while _completed(store, ids) < len(ids):
        time.sleep(POLL)
    return time.perf_counter() - start


def _jobs_done(url: str, job_ids: list[int]) -> int:
    app = queue_app(url)
    with app.open():
        return sum(app.job_manager.get_job_status(job_id).value in ("succeeded", "failed")
                   for job_id in job_ids)


def _floor(shop: Shop, store: sa.Engine, jobs: int) -> dict[str, Any]:
    """Empty jobs through one worker: at once (throughput), then one at a time (round trip)."""
    with workers(shop, 1):
        warmup = [submit(store, ping).job_id or 0 for _ in range(5)]
        while _jobs_done(shop.store_url, warmup) < len(warmup):
            time.sleep(POLL)
        start = time.perf_counter()
        ids = [submit(store, ping).job_id or 0 for _ in range(jobs)]
        while _jobs_done(shop.store_url, ids) < len(ids):
            time.sleep(POLL)
        batch = time.perf_counter() - start
        trips = []
        for _ in range(20):
            start = time.perf_counter()
            job_id = submit(store, ping).job_id or 0
            while _jobs_done(shop.store_url, [job_id]) < 1:
                time.sleep(0.002)
            trips.append(time.perf_counter() - start)
    trips.sort()
    return {"empty_jobs_per_s": round(jobs / batch, 1), "per_job_ms": round(1000 * batch / jobs, 2),
            "round_trip_ms_p50": round(1000 * trips[len(trips) // 2], 1),
            "note": "one worker; the round trip includes the caller's polling (2 ms)"}


def bench(shop: Shop, requests: int, counts: list[int], seed: int = 7) -> dict[str, Any]:
    load_before = load()
    cache = warm(shop)
    deployment, store = open_deployment(shop, shop.work / "results")
    rng = random.Random(seed)
    warmups = 4 * max(counts)
    emails = sample_emails(deployment.engines["shop"], shop.customers,
                           requests * (len(counts) + 1) + warmups * len(counts) + 10, rng)
    inline_emails, emails = emails[:requests], emails[requests:]
    for email in emails[:3]:  # the inline side warmed too
        run(store, submit_verified(store, "access", email), deployment)
    emails = emails[3:]
    start = time.perf_counter()
    for email in inline_emails:
        run(store, submit_verified(store, "access", email), deployment)
    inline_rate = requests / (time.perf_counter() - start)
    rounds: dict[str, Any] = {}
    for count in counts:
        with workers(shop, count):
            _queued_round(shop, store, emails[:warmups])  # every worker started and warm
            emails = emails[warmups:]
            seconds = _queued_round(shop, store, emails[:requests])
            emails = emails[requests:]
        rounds[str(count)] = {"requests_per_s": round(requests / seconds, 1), "seconds": round(seconds, 2)}
    floor = _floor(shop, store, 200)
    deployment.dispose()
    store.dispose()
    rates = {int(n): r["requests_per_s"] for n, r in rounds.items()}
    scaling = round(rates[2] / rates[1], 2) if 1 in rates and 2 in rates else None
    return {"shop": shop.label(), "requests_per_round": requests, "file_cache": cache,
            "load_average_before": load_before, "load_average_after": load(), "cpus": os.cpu_count(),
            "workers": rounds, "inline_one_process": {"requests_per_s": round(inline_rate, 1)},
            "queue_floor": floor, "scaling_1_to_2": scaling,
            "goals": {"rate_2_workers": GOAL_RATE, "scaling_1_to_2": GOAL_SCALING,
                      "met": bool(scaling and scaling >= GOAL_SCALING and rates.get(2, 0) >= GOAL_RATE)}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=20_000)
    parser.add_argument("--requests", type=int, default=200, help="timed access requests per round")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.requests, args.workers))


if __name__ == "__main__":
    main()
