"""Access requests per second through the job queue with 1, 2 and 4 `garde worker` processes on the
PostgreSQL shop, each against its baselines in the same run: the same requests run by garde in as many
plain processes (no queue), the hand-written SQL of ``bench_requests`` in as many processes, and the
queue's own floor (an empty job).

Run: ``python -m benchmarks.bench_workers --postgres postgresql+psycopg://user@host/garde_bench
[--customers 20000] [--requests 200] [--workers 1 2 4]`` (or set ``GARDE_BENCH_POSTGRES_URL``;
without a PostgreSQL URL the benchmark says so and is skipped). The shop's databases are those of
``bench_requests`` (generated once per size); the engine store is a new database each run.

For each number of workers N: N ``garde worker --concurrency C`` processes (``--concurrency``, default
1) are started over the store and warmed (each answers requests before timing); then ``--requests``
verified access requests, each for another subject, are queued at once, in one transaction
(``submit_many``; ``--queue-each``: a ``submit`` each, as ``garde request run`` queues one), and the
clock, the server's, runs from just before the queueing to the last job's end as the queue recorded it
(``procrastinate_events``; the store is polled every 50 ms on a connection of its own to know when). The
submitter (this process: the queueing on a session of its own, and the poll) is measured apart, client
and server CPU (``submitter``), and left out of the workers' figures. ``--waits``: what the server's
processes were doing meanwhile, sampled (lock waits, open transactions, CPU by role). ``--statements``:
the server's time per statement a request (``pg_stat_statements``, for the run's databases only; the
server must load it, ``shared_preload_libraries``). CPU per request is the workers' own (split into
their event loop's thread and the jobs' threads) and the server's (the PostgreSQL processes of the run's
databases, read from ``/proc``; the server must run on this machine, else 0). The baselines of the same
N, each in N processes (``bench_throughput``'s harness): garde's ``rights.run``; the same mailing the
subject that the request is answered, as a worker does (and ``garde request run``): the like-for-like
baseline, whose difference with the workers is the queue's own cost (``queue_cpu_ms_per_request``); and
the hand-written SQL. Each round also says the wall time each process (a worker, a baseline's) spent on
a request, and of it the part neither it nor its server session was on a core (``idle``); each worker's
share (``per_worker``: the jobs it took, its CPU, the kernel's part of it, its loop's, its switches; the
workers are started one after the other so that each one's queue id is known), the warm-up's jobs per
worker, the jobs retried; and the machine around the round (``machine``: a fixed piece of Python timed
by a probe process every 50 ms while the round runs, the hypervisor's steal and the idle cores' time
from ``/proc/stat``), to tell a slower machine from more work. The floor:
``garde.ping`` jobs (they do nothing) through one worker, queued at once in one transaction (timed as a
round is), and one at a time (queued, then waited for: the latency a caller sees, and the queue's record
of it).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.bench_throughput import _round as processes_round
from benchmarks.bench_throughput import cpu_seconds
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
from garde.jobs import submit, submit_many
from garde.jobs.builtin import ping
from garde.jobs.requests import run_job

GOAL_RATE, GOAL_SCALING = 200.0, 1.7
POLL = 0.02
ROUND_POLL = 0.05  # the timed round's: its end is read from the queue's record, not from when the poll saw it


def _env(shop: Shop) -> dict[str, str]:
    return {**os.environ, "GARDE_DATABASE_URL": shop.store_url, "GARDE_DATASETS": str(ROOT / "datasets"),
            "GARDE_SHOP_URL": shop.urls["shop"], "GARDE_CRM_URL": shop.urls["crm"],
            "GARDE_RESULTS": str(shop.work / "results"), "GARDE_ALLOW_DEMO_KEY": "true",
            "GARDE_MAILER": "file", "GARDE_OUTBOX": str(shop.work / "outbox")}


class Worker(subprocess.Popen[bytes]):
    """A ``garde worker`` process, with the id the queue registered it under (``queue_id``: the
    ``procrastinate_jobs.worker_id`` of the jobs it takes)."""

    queue_id: int | None = None


@contextmanager
def workers(shop: Shop, count: int, concurrency: int = 1,
            store: sa.Engine | None = None) -> Iterator[list[Worker]]:
    """``count`` worker processes over the shop's store until the block ends (then SIGTERM). With the
    ``store``, started one after the other, each once the previous one registered in the queue: so each
    one's queue id is known (the jobs each took are counted), and the block begins with all of them
    taking jobs (:func:`_started`)."""
    log = (shop.work / "workers.log").open("ab")
    started: list[Worker] = []
    try:
        for _ in range(count):
            command = [sys.executable, "-m", "garde", "worker", "--concurrency", str(concurrency)]
            started.append(Worker(command, env=_env(shop), stdout=log, stderr=subprocess.STDOUT))
            if store is not None:
                started[-1].queue_id = _started(store, len(started))
        yield started
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(timeout=120)
        log.close()


def _started(store: sa.Engine, count: int, deadline: float = 300.0) -> int:
    """Wait until ``count`` workers are taking jobs: a worker registers in the queue once its store,
    data map and catalogues are open (``garde.jobs.worker.warm``). Without it, a timed round could
    start while one worker was still opening them, the other doing the round alone. Returns the
    newest worker's queue id."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with store.connect() as conn:
            registered = conn.execute(sa.text("SELECT count(*), max(id) FROM procrastinate_workers")).one()
        if registered[0] >= count:
            return int(registered[1])
        time.sleep(POLL)
    raise SystemExit(f"{count} workers did not start within {deadline:.0f} s")


def _completed(store: sa.Engine, ids: list[str]) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM requests WHERE id IN :ids AND status IN "
                                         "('completed', 'failed')").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": ids}).scalar_one())


def _server_pids(store: sa.Engine, shop: Shop) -> list[int]:
    """The PostgreSQL sessions serving the run's databases (the workers', and this process's poll); not
    the server's own processes there (an autovacuum worker's CPU is not the round's: the baselines,
    which count the sessions they used, never count it either)."""
    names = [sa.make_url(url).database for url in (shop.store_url, *shop.urls.values())]
    with store.connect() as conn:
        query = sa.text("SELECT pid FROM pg_stat_activity WHERE datname IN :names "
                        "AND backend_type = 'client backend'")
        return list(conn.execute(query.bindparams(sa.bindparam("names", expanding=True)),
                                 {"names": names}).scalars())


# What the run's server processes are doing, sampled: waiting for a lock (and on what), for the client,
# or running. Ungranted locks are joined to say which relation or kind of lock is waited for.
ACTIVITY = """
SELECT a.pid, a.state, a.wait_event_type, a.wait_event, left(a.query, 60),
       (SELECT string_agg(DISTINCT l.locktype || ':' || coalesce(l.relation::regclass::text, l.mode), ',')
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)
  FROM pg_stat_activity a WHERE a.datname = ANY(%s) AND a.pid <> pg_backend_pid()
"""


class Waits:
    """Samples ``pg_stat_activity`` every few milliseconds in a thread of its own (its own connection)
    while a round runs: how often the run's backends were running, idle, or waiting, and for what."""

    def __init__(self, shop: Shop, every: float = 0.003) -> None:
        import psycopg

        from garde.jobs.queue import conninfo

        self.names = [sa.make_url(url).database for url in (shop.store_url, *shop.urls.values())]
        self.connection = psycopg.connect(conninfo(shop.store_url), autocommit=True)
        self.pid = self.connection.info.backend_pid  # its own CPU is not the run's
        self.every, self.samples, self.seen = every, 0, Counter[str]()
        self.roles: dict[int, set[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.samples += 1
            for pid, state, kind, event, query, waiting in self.connection.execute(ACTIVITY, (self.names,)):
                self.roles.setdefault(pid, set()).add(_role(query or ""))
                if state == "active" and kind == "Lock":
                    self.seen[f"lock {event} {waiting or ''}: {query}"] += 1
                elif state == "active" and kind:
                    self.seen[f"{kind} {event}"] += 1
                elif state == "idle in transaction":  # the client works while its transaction is open
                    self.seen[f"idle in transaction after: {query}"] += 1
                else:
                    self.seen[str(state)] += 1
            time.sleep(self.every)

    def __enter__(self) -> Waits:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()
        self.connection.close()

    def report(self, cpu: dict[int, float], count: int) -> dict[str, Any]:
        """Backends in each state, on average over the samples (1.0: one backend all the time), and
        the server's CPU ms per request by the role of the backend (``cpu``: each one's CPU seconds
        during the round), the role read from the statements it was seen running."""
        by_role: Counter[str] = Counter()
        for pid, seconds in cpu.items():
            roles = self.roles.get(pid, {"unseen"}) - {"other"} or {"other"}
            by_role["+".join(sorted(roles))] += seconds
        return {"samples": self.samples,
                "server_cpu_ms_per_request_by_role": {role: round(1000 * seconds / count, 2)
                                                      for role, seconds in by_role.most_common()},
                **{key: round(seen / max(self.samples, 1), 3) for key, seen in self.seen.most_common(16)}}


def _role(query: str) -> str:
    """What a backend does, from a statement it ran: the queue's (a worker's take, end and heartbeat;
    its listener; a caller's defer), the benchmark's poll, or garde's own statements."""
    for marker, role in (("procrastinate_fetch_job", "queue"), ("procrastinate_finish_job", "queue"),
                         ("procrastinate_update_heartbeat", "queue"), ("LISTEN", "listener"),
                         ("procrastinate_defer", "defer"), ("FROM requests WHERE id IN", "poll"),
                         ("FROM pg_stat_activity", "sampler")):
        if marker in query:
            return role
    return "other" if not query or query.startswith(("SELECT 1", "BEGIN", "COMMIT")) else "garde"


def _queued_round(shop: Shop, store: sa.Engine, emails: list[str],
                  started: list[Worker] | None = None, waits: bool = False,
                  each: bool = False, statements: bool = False) -> dict[str, Any]:
    """Queue a run of each (verified) request at once (in one transaction, ``submit_many``; ``each``: a
    ``submit`` and its transaction per request, as before); seconds until every one has ended, the time
    the queueing took, and the CPU per request of the workers and of the server. ``waits``: what the
    server's processes did meanwhile (:class:`Waits`).

    The clock is the server's: from ``clock_timestamp()`` read just before the queueing to the last of
    the jobs' ends as the queue recorded them (``procrastinate_events``), so the poll's period (it looks
    every 50 ms whether every job ended) adds nothing to the time. The submitter (this process: the
    queueing and the poll, and their two server sessions) is measured apart (``submitter``): its CPU
    is not the workers', and it is the share of the 2 cores it took from them."""
    import psycopg

    from garde.jobs.queue import conninfo

    ids = [submit_verified(store, "access", email) for email in emails]
    poller = psycopg.connect(conninfo(store.url), autocommit=True)
    polling = poller.info.backend_pid
    queuer = sa.create_engine(store.url, poolclass=sa.pool.StaticPool)
    with queuer.connect() as conn:
        queueing = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    sampler = Waits(shop).__enter__() if waits else None
    if statements:
        _statements_reset(store, shop)
    pids = [w.pid for w in started or []]
    server = {pid: cpu_seconds(pid) for pid in _server_pids(store, shop)}
    client = {pid: cpu_seconds(pid) for pid in pids}
    threads = {pid: _thread_cpu(pid) for pid in pids}
    system = {pid: _system_cpu(pid) for pid in pids}
    switched = {pid: _switches(pid) for pid in pids}
    machine = _machine()
    probe = Probe().__enter__()
    own = time.process_time()  # the submitter's: the queueing and the poll (and the sampler's thread)
    server_start = _one(poller, "SELECT clock_timestamp()")
    start = time.perf_counter()
    if each:
        job_ids = [submit(queuer, run_job, {"request_id": request_id}).job_id or 0 for request_id in ids]
    else:
        job_ids = [s.job_id or 0 for s in submit_many(queuer, run_job, [{"request_id": i} for i in ids])]
    queued = time.perf_counter() - start
    polls = 0
    while _one(poller, JOBS_DONE, (job_ids,)) < len(job_ids):
        polls += 1
        time.sleep(ROUND_POLL)
    seen = time.perf_counter() - start
    own = time.process_time() - own
    probe.__exit__()
    machine = {**_machine(machine), "probe_ms_quartiles": probe.quartiles}
    if sampler is not None:
        sampler.__exit__()
    seconds = (_one(poller, LAST_END, (job_ids,)) - server_start).total_seconds()
    taken: dict[int | None, int] = dict(poller.execute(TAKEN, (job_ids,)).fetchall())
    retried = _one(poller, "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s) AND attempts > 1",
                   (job_ids,))
    poller.close()
    if _completed(store, ids) < len(ids):
        raise SystemExit("a request's job ended without ending its request")
    shares = [_per_worker(w, taken.get(w.queue_id, 0), cpu_seconds(w.pid) - client[w.pid],
                          _system_cpu(w.pid) - system[w.pid],
                          _thread_cpu(w.pid).get(w.pid, 0.0) - threads[w.pid].get(w.pid, 0.0),
                          _switches(w.pid), switched[w.pid]) for w in started or []]
    client_cpu = sum(cpu_seconds(pid) - client[pid] for pid in pids) / len(ids)
    loop_cpu = 0.0
    for pid in pids:  # the main thread runs procrastinate's event loop; the jobs run in other threads
        now = _thread_cpu(pid)
        loop_cpu += now.get(pid, 0.0) - threads[pid].get(pid, 0.0)
    loop_cpu /= len(ids)
    voluntary = sum(_switches(pid)[0] - switched[pid][0] for pid in pids)
    involuntary = sum(_switches(pid)[1] - switched[pid][1] for pid in pids)
    server_deltas = {pid: cpu_seconds(pid) - server.get(pid, 0.0) for pid in _server_pids(store, shop)
                     if pid not in (polling, queueing, sampler and sampler.pid)}
    submitter_server = sum(cpu_seconds(pid) - server.get(pid, 0.0) for pid in (polling, queueing))
    queuer.dispose()
    server_cpu = sum(server_deltas.values()) / len(ids)
    cores = os.cpu_count() or 1
    chains = len(pids) or 1
    return {"requests_per_s": round(len(ids) / seconds, 1), "seconds": round(seconds, 3),
            "seconds_seen_by_the_poll": round(seen, 3),
            "queueing_ms_per_request": round(1000 * queued / len(ids), 2),
            "cpu_ms_per_request": round(1000 * client_cpu, 2),
            # of it: the workers' event loops (take, end, log, the hop to a job's thread), the jobs' threads
            **({"loop_cpu_ms_per_request": round(1000 * loop_cpu, 2),
                "job_threads_cpu_ms_per_request": round(1000 * (client_cpu - loop_cpu), 2)} if pids else {}),
            "server_cpu_ms_per_request": round(1000 * server_cpu, 2),
            **_idle(seconds, len(ids), chains, client_cpu + server_cpu),
            "cpu_share": round((client_cpu + server_cpu) * len(ids) / (seconds * cores), 2),
            # the workers' context switches a request: voluntary (waits), involuntary (preempted)
            "switches_per_request": [round(voluntary / len(ids), 1), round(involuntary / len(ids), 1)],
            "cpu_bound_requests_per_s": round(cores / (client_cpu + server_cpu), 1)
            if client_cpu + server_cpu else None,
            "submitter": {"cpu_ms_per_request": round(1000 * own / len(ids), 2),
                          "server_cpu_ms_per_request": round(1000 * submitter_server / len(ids), 2),
                          "polls": polls},
            **({"per_worker": shares, "retried_jobs": retried} if started else {}),
            "machine": machine,
            **({"server_processes": sampler.report(server_deltas, len(ids))} if sampler is not None else {}),
            **({"statements": _statements(store, shop, len(ids))} if statements else {})}


# The jobs each worker took, by queue id.
TAKEN = "SELECT worker_id, count(*) FROM procrastinate_jobs WHERE id = ANY(%s) GROUP BY worker_id"


def _per_worker(worker: Worker, jobs: int, cpu: float, system: float, loop: float,
                switches: tuple[int, int], before: tuple[int, int]) -> dict[str, Any]:
    """One worker's share of a round: the jobs it took, its CPU (of it the kernel's on its behalf, and
    its event loop's thread's) in all and a job, its context switches (voluntary: waits, its listener's
    wake-ups; involuntary: preempted)."""
    return {"pid": worker.pid, "jobs": jobs, "cpu_ms": round(1000 * cpu, 1),
            "system_cpu_ms": round(1000 * system, 1), "loop_cpu_ms": round(1000 * loop, 1),
            "cpu_ms_per_job": round(1000 * cpu / jobs, 2) if jobs else None,
            "switches": [switches[0] - before[0], switches[1] - before[1]]}


def _speed(rounds: int = 200_000) -> float:
    """The CPU ms a fixed piece of pure Python takes in this thread now: the machine's speed as a
    process sees it (a busy host, another tenant on the core's sibling, a lower clock make it longer)."""
    start = time.thread_time()
    table: dict[int, int] = {}
    for i in range(rounds):
        table[i & 1023] = table.get((i * 7) & 1023, 0) + i
    return 1000 * (time.thread_time() - start)


# The probe: a process of its own that, every 50 ms until its input closes, times a fixed piece of
# pure Python (≈ 1 ms: 2 % of a core) in its thread's CPU, then prints the samples' quartiles.
PROBE = """
import select, sys, time
samples = []
while not select.select([sys.stdin], [], [], 0.05)[0]:
    start = time.thread_time()
    table = {}
    for i in range(10_000):
        table[i & 1023] = table.get((i * 7) & 1023, 0) + i
    samples.append(1000 * (time.thread_time() - start))
samples.sort()
print(*(samples[len(samples) * q // 4] for q in (1, 2, 3)) if samples else (0, 0, 0))
"""


class Probe:
    """The machine's speed while a round runs, as a process sees it: the fixed piece's CPU ms, sampled
    (quartiles). Run on the same cores as the workers, it takes longer when they run slower for a reason
    that is not theirs (another tenant of the host on the core or its sibling, a lower clock), and its
    own work (2 % of a core) does not change. Its piece fits the core's own cache: a minute where memory
    is what slows every process may leave it flat; the baselines of the same run then tell."""

    def __enter__(self) -> Probe:
        self.process = subprocess.Popen([sys.executable, "-c", PROBE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *_: object) -> None:
        out, _err = self.process.communicate("", timeout=30)
        self.quartiles = [round(float(x), 3) for x in out.split()]


def _machine(before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine around a round: the fixed piece's CPU ms before and after it (:func:`_speed`), and
    the CPU time the hypervisor gave other guests (steal) and the machine's cores spent idle meanwhile,
    in ms (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    now = {"speed_ms": round(_speed(), 2), "idle": (fields[3] + fields[4]) * tick,
           "steal": (fields[7] if len(fields) > 7 else 0) * tick}
    if before is None:
        return now
    return {"speed_ms_before_after": [before["speed_ms"], now["speed_ms"]],
            "steal_ms": round(now["steal"] - before["steal"]), "idle_ms": round(now["idle"] - before["idle"])}


def _idle(seconds: float, count: int, chains: int, cpu: float) -> dict[str, float]:
    """The wall time each of the ``chains`` (a worker or a process, with its server session) spent on a
    request, and of it the part neither it nor its server process was on a core (``cpu``: both, CPU s a
    request): waiting for a core, a lock, a wake-up, the hand-over between two jobs."""
    wall = chains * seconds / count
    return {"wall_ms_per_request_per_process": round(1000 * wall, 2),
            "idle_ms_per_request_per_process": round(1000 * (wall - cpu), 2)}


# The poll, as light as it can be (it runs on the workers' cores): one prepared statement over the
# jobs' keys; and the end of the last job, as the queue recorded it (the server's clock).
JOBS_DONE = "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s) AND status IN ('succeeded', 'failed')"
LAST_END = ("SELECT max(at) FROM procrastinate_events WHERE job_id = ANY(%s) "
            "AND type IN ('succeeded', 'failed')")


def _one(connection: Any, query: str, parameters: tuple[Any, ...] = ()) -> Any:
    row = connection.execute(query, parameters, prepare=True).fetchone()
    return row[0] if row else None


def _databases(shop: Shop) -> list[str]:
    return [str(sa.make_url(url).database) for url in (shop.store_url, *shop.urls.values())]


def _statements_reset(store: sa.Engine, shop: Shop) -> None:
    """Forget what ``pg_stat_statements`` counted for the run's databases (the extension created in the
    store's database if needed: its functions are read there)."""
    with store.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        reset = sa.text("SELECT pg_stat_statements_reset(0, oid, 0) FROM pg_database WHERE datname IN :names")
        conn.execute(reset.bindparams(sa.bindparam("names", expanding=True)), {"names": _databases(shop)})
        conn.commit()


def _statements(store: sa.Engine, shop: Shop, count: int, top: int = 25) -> dict[str, Any]:
    """The server's time (planning and execution, ms) and calls a request, by statement, for the run's
    databases; the queue's, garde's and the benchmark's poll told apart by their text."""
    query = sa.text("""
        SELECT s.calls, s.total_exec_time + s.total_plan_time, regexp_replace(s.query, '\\s+', ' ', 'g')
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname IN :names AND s.calls > 0 AND s.query NOT LIKE '%pg_stat_statements%'
         ORDER BY 2 DESC""").bindparams(sa.bindparam("names", expanding=True))
    with store.connect() as conn:
        rows = conn.execute(query, {"names": _databases(shop)}).all()
    by_role: Counter[str] = Counter()
    for _calls, milliseconds, text in rows:
        by_role[_role(text)] += milliseconds / count
    return {"ms_per_request_by_role": {role: round(ms, 3) for role, ms in by_role.most_common()},
            "top": [{"calls_per_request": round(calls / count, 2), "ms_per_request": round(ms / count, 3),
                     "statement": text[:100], "role": _role(text)} for calls, ms, text in rows[:top]]}


def _thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a process so far, by thread id (the main thread's
    is the process id); empty when it ended meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            seconds[int(task)] = (int(fields[11]) + int(fields[12])) / tick
    except OSError:  # ended meanwhile
        pass
    return seconds


def _system_cpu(pid: int) -> float:
    """The CPU seconds the kernel spent on a process's behalf so far (system time: its files, sockets,
    page faults), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def _switches(pid: int) -> tuple[int, int]:
    """A process's context switches so far, summed over its threads: voluntary (it waited: for the
    database, a lock, the GIL) and involuntary (the kernel took its core for another process)."""
    voluntary = involuntary = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith("voluntary_ctxt_switches:"):
                        voluntary += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        involuntary += int(line.split()[1])
    except OSError:  # ended meanwhile
        pass
    return voluntary, involuntary


def _queue_cost(workers: dict[str, Any], mailed: dict[str, Any]) -> dict[str, float]:
    """What the queue adds to a request (CPU ms): the workers' against the same request run by garde in
    as many plain processes, the subject told by mail in both (a worker mails, as `garde request run`)."""
    return {side: round(workers[key] - mailed[key], 2)
            for side, key in (("worker", "cpu_ms_per_request"), ("server", "server_cpu_ms_per_request"))}


def _ended(poller: Any, job_ids: list[int], every: float) -> None:
    """Wait until every job ended, looking every ``every`` seconds with one prepared statement."""
    while _one(poller, JOBS_DONE, (job_ids,)) < len(job_ids):
        time.sleep(every)


# How long each job took from its queueing's transaction to its end, as the queue recorded them.
RECORDED = """
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ended.at - queued.at)
  FROM procrastinate_events queued JOIN procrastinate_events ended ON ended.job_id = queued.job_id
   AND ended.type IN ('succeeded', 'failed')
 WHERE queued.type = 'deferred' AND queued.job_id = ANY(%s)
"""


def _floor(shop: Shop, store: sa.Engine, jobs: int) -> dict[str, Any]:
    """Empty jobs through one worker: queued at once, in one transaction, as the requests are
    (throughput, timed as a round is, by the queue's record), then one at a time (round trip: the
    caller's, queued then seen ended by a poll every 2 ms; and the queue's record of it)."""
    import psycopg

    from garde.jobs.queue import conninfo

    with workers(shop, 1), psycopg.connect(conninfo(store.url), autocommit=True) as poller:
        _started(store, 1)
        _ended(poller, [s.job_id or 0 for s in submit_many(store, ping, [{} for _ in range(5)])], POLL)
        server_start = _one(poller, "SELECT clock_timestamp()")
        start = time.perf_counter()
        ids = [s.job_id or 0 for s in submit_many(store, ping, [{} for _ in range(jobs)])]
        queued = time.perf_counter() - start
        _ended(poller, ids, ROUND_POLL)
        batch = (_one(poller, LAST_END, (ids,)) - server_start).total_seconds()
        trips, alone = [], []
        for _ in range(20):
            start = time.perf_counter()
            alone.append(submit(store, ping).job_id or 0)
            _ended(poller, alone[-1:], 0.002)
            trips.append(time.perf_counter() - start)
        recorded = _one(poller, RECORDED, (alone,)).total_seconds()
    trips.sort()
    return {"empty_jobs_per_s": round(jobs / batch, 1), "per_job_ms": round(1000 * batch / jobs, 2),
            "queueing_ms_per_job": round(1000 * queued / jobs, 2),
            "round_trip_ms_p50": round(1000 * trips[len(trips) // 2], 1),
            "round_trip_recorded_ms_p50": round(1000 * recorded, 1),
            "note": "one worker; the round trip includes the caller's polling (every 2 ms), the recorded "
                    "one is the queue's, from the queueing's transaction to the job's end"}


def bench(shop: Shop, requests: int, counts: list[int], concurrency: int = 1, seed: int = 7,
          waits: bool = False, baselines: bool = True, each: bool = False,
          statements: bool = False) -> dict[str, Any]:
    load_before = load()
    cache = warm(shop)
    deployment, store = open_deployment(shop, shop.work / "results")
    rng = random.Random(seed)
    warmups = 4 * max(counts)
    # Each N: its warm-up and timed requests through the workers, then N * (requests + 1) for garde
    # in N processes, as many for garde mailing the subject, and as many for the hand-written SQL.
    per_count = {n: warmups + requests + 3 * n * (requests // n + 1) for n in counts}
    emails = sample_emails(deployment.engines["shop"], shop.customers, sum(per_count.values()) + 10, rng)
    deployment.dispose()
    rounds: dict[str, Any] = {}
    for count in counts:
        with workers(shop, count, concurrency, store) as started:  # each registered: taking jobs
            warm_up = _queued_round(shop, store, emails[:warmups], started)
            emails = emails[warmups:]
            through_queue = _queued_round(shop, store, emails[:requests], started, waits, each, statements)
            emails = emails[requests:]
        through_queue["warm_up_jobs_per_worker"] = [w["jobs"] for w in warm_up["per_worker"]]
        if not baselines:
            rounds[str(count)] = {"workers": through_queue}
            continue
        step = requests // count + 1
        ids = [submit_verified(store, "access", email) for email in emails[:count * step]]
        emails = emails[count * step:]
        inline = processes_round(shop, "garde", [ids[i * step:(i + 1) * step] for i in range(count)])
        ids = [submit_verified(store, "access", email) for email in emails[:count * step]]
        emails = emails[count * step:]
        mailed = processes_round(shop, "garde_mailed", [ids[i * step:(i + 1) * step] for i in range(count)])
        sql = processes_round(shop, "sql", [emails[i * step:(i + 1) * step] for i in range(count)])
        emails = emails[count * step:]
        for side in (inline, mailed, sql):  # each process with its server session, as a worker
            side.update(_idle(side["seconds"], side["requests"], count,
                              (side["cpu_ms_per_request"] + side["server_cpu_ms_per_request"]) / 1000))
        rounds[str(count)] = {
            "workers": through_queue, "garde_in_processes": inline,
            "garde_in_processes_mailing": mailed, "hand_written_sql": sql,
            "vs_garde_in_processes": round(through_queue["requests_per_s"] / inline["requests_per_s"], 2),
            "vs_garde_in_processes_mailing": round(
                through_queue["requests_per_s"] / mailed["requests_per_s"], 2),
            "vs_hand_written_sql": round(through_queue["requests_per_s"] / sql["requests_per_s"], 2),
            "queue_cpu_ms_per_request": _queue_cost(through_queue, mailed)}
    floor = _floor(shop, store, 200) if baselines else None
    store.dispose()
    rates = {int(n): r["workers"]["requests_per_s"] for n, r in rounds.items()}
    scaling = round(rates[2] / rates[1], 2) if 1 in rates and 2 in rates else None
    return {"shop": shop.label(), "requests_per_round": requests, "concurrency": concurrency,
            "file_cache": cache,
            "load_average_before": load_before, "load_average_after": load(), "cpus": os.cpu_count(),
            "rounds": rounds, "queue_floor": floor, "scaling_1_to_2": scaling,
            "goals": {"rate_2_workers": GOAL_RATE, "scaling_1_to_2": GOAL_SCALING,
                      "met": bool(scaling and scaling >= GOAL_SCALING and rates.get(2, 0) >= GOAL_RATE)}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=20_000)
    parser.add_argument("--requests", type=int, default=200, help="timed access requests per round")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=1, help="jobs each worker runs at once")
    parser.add_argument("--waits", action="store_true",
                        help="sample what the server's processes wait for during the timed rounds")
    parser.add_argument("--statements", action="store_true",
                        help="the server's time per statement (pg_stat_statements: the server must load it)")
    parser.add_argument("--workers-only", action="store_true",
                        help="no baselines nor floor (to compare two versions of the workers quickly)")
    parser.add_argument("--queue-each", action="store_true",
                        help="queue the requests one transaction each (submit), not together (submit_many)")
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.requests, args.workers, args.concurrency,
                                         waits=args.waits, baselines=not args.workers_only,
                                         each=args.queue_each, statements=args.statements))


if __name__ == "__main__":
    main()
