"""Access requests per second from several processes over the PostgreSQL shop, against hand-written SQL.

Run: ``python -m benchmarks.bench_throughput --postgres postgresql+psycopg://user@host/garde_bench
[--customers 100000] [--processes 2] [--requests 200]`` (or set ``GARDE_BENCH_POSTGRES_URL``;
without a PostgreSQL URL the benchmark says so and is skipped). The shop's databases are those
of ``bench_requests`` (generated once per size); the engine store is a new database each run.

Each of N processes opens its own deployment and store, answers one request it does not time
(imports, templates, reflection), waits for the others, then answers ``--requests`` access
requests, each for another subject (requests submitted and verified before timing, as a queue
of verified requests is). garde runs them with ``rights.run`` (store transactions, audit,
discovery, answer files); the baseline runs the hand-written reads of ``bench_requests`` and
writes each answer to a new file, in the same harness, on other subjects. Requests per second
are all answers over the time from the first start to the last end; CPU per request is the
processes' own, and the server's beside it (the PostgreSQL processes of each worker's
connections, read from ``/proc`` when the server runs on this machine, else 0).

On a machine other programs load, the rate says how much CPU was left to the run rather than
what garde costs: ``cpu_share`` is the share of the machine's cores the processes and their
server processes used, and ``cpu_bound_requests_per_s`` the rate those cores would give if the
run had them to itself (cores / (client + server CPU per request); round trips' latency aside).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import random
import time
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.request_shop import (
    AS_OF,
    HandWritten,
    Shop,
    load,
    on_postgres,
    open_deployment,
    sample_emails,
    submit_verified,
    warm,
)


def _worker(shop: Shop, side: str, work: list[str], barrier: Any, results: Any) -> None:
    """Answer ``work`` (request ids for garde, e-mails for the baseline) after one untimed answer."""
    from garde.keys import DemoKeyWarning
    from garde.rights.mailer import FileMailer
    from garde.rights.running import run

    warnings.filterwarnings("ignore", category=DemoKeyWarning)  # a throw-away store
    deployment, store = open_deployment(shop, shop.work / "results")
    baseline = HandWritten(deployment.engines["shop"], deployment.engines["crm"])
    answers = shop.work / "baseline"
    backends: set[int] = set()
    for engine in (store, *deployment.engines.values()):
        sa.event.listen(engine, "checkout", lambda raw, _record, _proxy: backends.add(raw.info.backend_pid))

    # "garde_mailed": the subject told by mail as a worker and `garde request run` do (the file mailer)
    mailer = FileMailer(shop.work / "outbox") if side == "garde_mailed" else None

    def answer(item: str) -> None:
        if side in ("garde", "garde_mailed"):
            run(store, item, deployment, today=AS_OF, mailer=mailer)
        else:
            baseline.access(item, answers)

    answer(work[0])
    barrier.wait()
    server = {pid: cpu_seconds(pid) for pid in backends}
    started, cpu = time.perf_counter(), time.process_time()
    for item in work[1:]:
        answer(item)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # The server processes this worker's connections ran on: their CPU during the timed requests.
    server_cpu = sum(cpu_seconds(pid) - server.get(pid, 0.0) for pid in backends)
    results.put((elapsed, cpu, len(work) - 1, time.time() - elapsed, server_cpu))
    deployment.dispose()
    store.dispose()


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process of this machine has used so far (0 when it is gone or
    not on this machine: the figure then leaves the server out)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _round(shop: Shop, side: str, shares: list[list[str]]) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(shares), timeout=600), context.Queue()
    processes = [context.Process(target=_worker, args=(shop, side, share, barrier, results))
                 for share in shares]
    for process in processes:
        process.start()
    done: list[tuple[float, float, int, float, float]] = []
    while len(done) < len(processes):
        try:
            done.append(results.get(timeout=5))
        except queue.Empty:
            if any(p.exitcode for p in processes):
                for process in processes:
                    process.kill()
                raise SystemExit(f"a {side} process failed (exit codes "
                                 f"{[p.exitcode for p in processes]})") from None
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a {side} process failed (exit code {process.exitcode})")
    first_start = min(d[3] for d in done)
    last_end = max(d[3] + d[0] for d in done)
    count = sum(d[2] for d in done)
    seconds = last_end - first_start
    client, server = sum(d[1] for d in done) / count, sum(d[4] for d in done) / count
    cores = os.cpu_count() or 1
    return {"requests": count, "seconds": round(seconds, 2),
            "requests_per_s": round(count / seconds, 1),
            "cpu_ms_per_request": round(client * 1000, 2),
            "server_cpu_ms_per_request": round(server * 1000, 2),
            # What share of the machine's CPU the run got (the rest went to other programs), and the
            # rate its cores would give these processes and their server processes alone.
            "cpu_share": round((client + server) * count / (seconds * cores), 2),
            "cpu_bound_requests_per_s": round(cores / (client + server), 1) if client + server else None}


def bench(shop: Shop, processes: int, requests: int) -> dict[str, Any]:
    deployment, store = open_deployment(shop, shop.work / "results")
    per_side = processes * (requests + 1)
    rng = random.Random(time.time_ns())
    emails = sample_emails(deployment.engines["shop"], shop.customers, 2 * per_side, rng)
    garde_ids = [submit_verified(store, "access", email) for email in emails[:per_side]]
    deployment.dispose()
    store.dispose()
    sql_emails = emails[per_side:]
    load_before = load()
    cache = warm(shop)
    step = requests + 1
    garde = _round(shop, "garde", [garde_ids[i * step:(i + 1) * step] for i in range(processes)])
    sql = _round(shop, "sql", [sql_emails[i * step:(i + 1) * step] for i in range(processes)])
    return {"shop": shop.label(), "processes": processes, "requests_per_process": requests,
            "file_cache": cache, "load_average_before": load_before, "load_average_after": load(),
            "access": garde, "access_sql": sql,
            "ratio": round(garde["requests_per_s"] / sql["requests_per_s"], 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per process")
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.processes, args.requests))


if __name__ == "__main__":
    main()
