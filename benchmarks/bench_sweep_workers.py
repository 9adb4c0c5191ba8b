"""The retention sweep on PostgreSQL across ``garde worker`` processes, against a raw ``DELETE``.

Run: ``python -m benchmarks.bench_sweep_workers [--rows 10000000] [--tables 2] [--postgres URL]
[--batch-size 50000] [--only raw,inline,one,two]`` (or ``GARDE_BENCH_POSTGRES_URL``; default
``postgresql+psycopg://postgres@127.0.0.1:54329/postgres``, a server on this machine).

Two databases of its own are created (``garde_bench_sweep_<hex>_store``: the engine store and its
job queue; ``..._shop``: the business tables) and dropped at the end. The business data is ``rows``
web sessions spread over ``tables`` tables no reference links (every tenth row older than 13 months,
so one tenth is due under "13 months after collection"), built by one ``generate_series`` INSERT per
table, then ANALYZEd and checkpointed. Every scenario starts from the data built again identically:

- ``raw``: one ``DELETE ... WHERE <due>`` per table, in one transaction (the baseline);
- ``inline``: ``garde.retention.sweep`` in this process, as ``garde retention sweep --inline``;
- ``one``: the ``retention.sweep`` job taken by ONE ``garde worker`` process started here;
- ``two``: the same job split into its parts (one per table: a single table is one part and cannot
  be split) across TWO ``garde worker`` processes.

Each reports its wall time (from the submission to the run's close, the workers already waiting),
CPU seconds of this process, of the workers (``/proc/<pid>/stat``) and of the PostgreSQL backends
serving the two databases (``/proc`` of the pids ``pg_stat_activity`` lists, sampled every 0.2 s:
a backend that ends between two samples loses at most 0.2 s), the load average at its start, and the
end state: per table the rows left, their ids' sum and an XOR of their hashes, which must equal the
raw ``DELETE``'s; then the audit chain must verify. Not part of the test suite; ``make bench`` runs
it only when ``GARDE_BENCH_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from benchmarks import Result
from benchmarks.bench_retention import BOUND, REGISTER, TABLE, TODAY, build, settle
from garde import audit, retention
from garde.retention.journal import retention_runs
from garde.settings import get_settings

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
SCENARIOS = ("raw", "inline", "one", "two")
DEADLINE = 3600.0  # seconds a sweep may take before the benchmark gives up
TICK = os.sysconf("SC_CLK_TCK")



@dataclass
class Measure:
    scenario: str
    wall: float
    cpu_self: float
    cpu_workers: float
    cpu_backends: float
    load: str
    state: list[tuple[int, int, int]]

    def cpu(self) -> float:
        """CPU seconds of every process the scenario used."""
        return self.cpu_self + self.cpu_workers + self.cpu_backends


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (``/proc/<pid>/stat``), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


class CpuSampler:
    """CPU of the workers and of the PostgreSQL backends of ``databases`` while a scenario runs."""

    def __init__(self, admin: sa.Engine, databases: list[str], workers: list[int]) -> None:
        self.admin, self.databases, self.workers = admin, databases, workers
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.backends: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        with self.admin.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"),
                                {"names": self.databases}).scalars().all()
        self.backends.update(pids)
        for pid in [*self.workers, *pids]:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self.last[pid] = seconds

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self.first = dict(self.last)  # a backend that starts later counts from zero
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self.stop.set()
        self.thread.join()

    def used(self, pids: Iterator[int] | set[int] | list[int]) -> float:
        return sum(self.last.get(pid, 0.0) - self.first.get(pid, 0.0) for pid in pids)


def end_state(shop: sa.Engine, tables: list[str]) -> list[tuple[int, int, int]]:
    """Per table: rows left, the sum of their ids, and the XOR of their ids' hashes."""
    with shop.connect() as conn:
        rows = [conn.execute(sa.text(f"SELECT count(*), coalesce(sum(id), 0), "
                                     f"coalesce(bit_xor(hashint8(id)), 0) FROM {t}")).one() for t in tables]
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


@contextmanager
def workers(count: int, store_url: str, env: dict[str, str], log: Path) -> Iterator[list[int]]:
    """``count`` ``garde worker`` processes on the store, waiting for jobs; SIGTERMed at the end."""
    with ExitStack() as stack, log.open("ab") as output:
        procs = [stack.enter_context(subprocess.Popen(
            [sys.executable, "-m", "garde", "worker", "--queue", "retention"],
            env={**os.environ, **env, "GARDE_DATABASE_URL": store_url}, stdout=output,
            stderr=subprocess.STDOUT)) for _ in range(count)]
        try:
            wait_ready(store_url, count, procs, log)
            yield [p.pid for p in procs]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=120)


def wait_ready(store_url: str, count: int, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Until ``count`` workers have registered in the queue (procrastinate_workers)."""
    engine = sa.create_engine(store_url)
    end = time.monotonic() + 120
    try:
        while True:
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker stopped:\n{log.read_text()}")
            with engine.connect() as conn:
                ready = conn.execute(sa.text("SELECT count(*) FROM procrastinate_workers")).scalar_one()
            if ready >= count:
                return
            if time.monotonic() > end:
                raise SystemExit(f"the workers did not start:\n{log.read_text()}")
            time.sleep(0.2)
    finally:
        engine.dispose()


def runs_done(store: sa.Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(retention_runs)
                                .where(retention_runs.c.status == "done")).scalar_one())


class Bench:
    """The databases, the data map and the scenarios of one run."""

    def __init__(self, admin_url: str, rows: int, tables: int, batch_size: int, folder: Path) -> None:
        self.rows, self.batch_size, self.folder = rows, batch_size, folder
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        prefix = f"garde_bench_sweep_{uuid.uuid4().hex[:8]}"
        self.names = [f"{prefix}_store", f"{prefix}_shop"]
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        base = sa.make_url(admin_url)
        self.store_url, self.shop_url = (base.set(database=n).render_as_string(hide_password=False)
                                         for n in self.names)
        self.tables = [f"sessions_{i + 1}" for i in range(tables)]
        (folder / "register.yaml").write_text(REGISTER % {"action": "delete"})
        (folder / "web.yaml").write_text(f"database: web\nurl: {self.shop_url}\nregister: register.yaml\n"
                                         "tables:" + "".join(TABLE % {"table": t} for t in self.tables))
        self.env = {"GARDE_DATASETS": str(folder / "web.yaml"), "GARDE_RETENTION_SWEEP_SCHEDULE": "",
                    "GARDE_IDENTIFIER_KEY": get_settings().identifier_key}  # the workers' store key is ours
        from garde.store.upgrade import upgrade

        upgrade(self.store_url)
        from garde.datasets import connect_datamap, load_datamap
        from garde.store import open_store

        self.datamap = load_datamap(folder / "web.yaml")
        self.engines = connect_datamap(self.datamap)
        self.shop = self.engines["web"]
        self.store = open_store(self.store_url)

    def close(self) -> None:
        for engine in (*self.engines.values(), self.store):
            engine.dispose()
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def fresh(self) -> float:
        """The business tables built again identically; seconds it took."""
        start = time.perf_counter()
        for table in self.tables:
            build(self.shop, table, self.rows // len(self.tables))
        settle(self.shop)
        settle(self.store)
        return time.perf_counter() - start

    def timed(self, scenario: str, pids: list[int], body: Callable[[], None]) -> Measure:
        load = load_average()
        mine = resource.getrusage(resource.RUSAGE_SELF)
        with CpuSampler(self.admin, self.names, pids) as sampler:
            start = time.perf_counter()
            body()
            wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_self = after.ru_utime + after.ru_stime - mine.ru_utime - mine.ru_stime
        return Measure(scenario, wall, cpu_self, sampler.used(pids), sampler.used(sampler.backends), load,
                       end_state(self.shop, self.tables))

    def raw(self) -> Measure:
        due = f"visited_at IS NOT NULL AND visited_at < '{BOUND.isoformat()}'"

        def body() -> None:
            with self.shop.begin() as conn:
                for table in self.tables:
                    conn.execute(sa.text(f"DELETE FROM {table} WHERE {due}"))
        return self.timed("raw", [], body)

    def inline(self) -> Measure:
        def body() -> None:
            retention.sweep(self.store, self.datamap, self.engines, today=TODAY, batch_size=self.batch_size)
        return self.timed("inline", [], body)

    def queued(self, scenario: str, count: int) -> Measure:
        from garde.jobs import submit
        from garde.jobs.retention import sweep

        with workers(count, self.store_url, self.env, self.folder / f"{scenario}.log") as pids:
            done = runs_done(self.store)

            def body() -> None:
                submit(self.store, sweep, {"today": TODAY.isoformat(), "batch_size": self.batch_size})
                end = time.monotonic() + DEADLINE
                while runs_done(self.store) == done:
                    if time.monotonic() > end:
                        raise SystemExit((self.folder / f"{scenario}.log").read_text())
                    time.sleep(0.05)
            return self.timed(scenario, pids, body)


def measure(admin_url: str, rows: int, tables: int, batch_size: int, only: list[str],
            folder: Path) -> list[Measure]:
    bench = Bench(admin_url, rows, tables, batch_size, folder)
    results: list[Measure] = []
    try:
        for scenario in ["raw", *(s for s in only if s != "raw")]:
            built = bench.fresh()
            print(f"built {rows:,} rows in {len(bench.tables)} table(s) in {built:.1f} s", flush=True)
            scenarios: dict[str, Callable[[], Measure]] = {
                "raw": bench.raw, "inline": bench.inline, "one": lambda: bench.queued("one", 1),
                "two": lambda: bench.queued("two", 2)}
            found = scenarios[scenario]()
            print(f"{scenario}: wall {found.wall:.2f} s, CPU here {found.cpu_self:.2f} s, workers "
                  f"{found.cpu_workers:.2f} s, PostgreSQL {found.cpu_backends:.2f} s; {found.load}",
                  flush=True)
            if results and found.state != results[0].state:
                raise SystemExit(f"{scenario} left {found.state}, the raw DELETE {results[0].state}")
            results.append(found)
        with bench.store.connect() as conn:
            verification = audit.verify(conn)
        if not verification.ok:
            raise SystemExit(f"the audit chain does not verify: {verification.reason}")
        left = sum(count for count, _, _ in results[0].state)
        print(f"end state exact in every scenario ({left:,} rows left of {rows:,}); audit chain verifies")
    finally:
        bench.close()
    return results


def report(results: list[Measure]) -> list[Result]:
    raw = results[0]
    out = []
    print("\n| scenario | wall s | wall ÷ raw | CPU this process s | CPU workers s | CPU PostgreSQL s "
          "| CPU total s | CPU ÷ raw | load at start |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in results:
        ratio = m.wall / raw.wall
        print(f"| {m.scenario} | {m.wall:.2f} | {ratio:.2f}× | {m.cpu_self:.2f} | {m.cpu_workers:.2f} | "
              f"{m.cpu_backends:.2f} | {m.cpu():.2f} | {m.cpu() / max(raw.cpu(), 0.01):.2f}× | "
              f"{m.load.rpartition('load average:')[2].strip()} |")
        if m.scenario == "raw":
            continue
        one = next((r for r in results if r.scenario == "one"), None)
        if m.scenario == "two" and one is not None:
            goal, met = "faster than one worker", m.wall < one.wall
        else:
            goal, met = "≤ 1.3×", ratio <= 1.3
        out.append(Result(f"sweep across workers: {m.scenario}", "time", m.wall, raw.wall, "s", 1 / ratio,
                          goal, met, f"{ratio:.2f}× the raw DELETE"))
    return out


def run() -> list[Result]:
    """``make bench``: only with ``GARDE_BENCH_POSTGRES_URL`` (it needs a PostgreSQL server)."""
    url = os.environ.get("GARDE_BENCH_POSTGRES_URL")
    if not url:
        print("skipped: set GARDE_BENCH_POSTGRES_URL to a PostgreSQL server's URL")
        return []
    os.environ.setdefault("GARDE_IDENTIFIER_KEY", f"bench-{uuid.uuid4().hex}")
    with tempfile.TemporaryDirectory() as folder:
        return report(measure(url, 10_000_000, 2, retention.BATCH_SIZE, list(SCENARIOS), Path(folder)))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--tables", type=int, default=2, help="tables the rows are spread over (parts)")
    parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
    parser.add_argument("--postgres", default=os.environ.get("GARDE_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--folder", type=Path, help="keep the data map and the workers' logs here")
    args = parser.parse_args(argv)
    os.environ.setdefault("GARDE_IDENTIFIER_KEY", f"bench-{uuid.uuid4().hex}")  # a store of its own
    only = [s for s in args.only.split(",") if s]
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for r in report(measure(args.postgres, args.rows, args.tables, args.batch_size, only, folder)):
            print(f"{r.benchmark}: garde {r.garde:.2f} s, raw {r.baseline:.2f} s, goal {r.goal}: "
                  f"{'met' if r.met else 'NOT met'}. {r.note}")


if __name__ == "__main__":
    main(sys.argv[1:])
