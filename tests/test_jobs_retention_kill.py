"""Retention sweeps as jobs on PostgreSQL: split into parts two workers share, and killed.

The kill test runs two workers (``tests.worker_kills``) over NEGOMARKETS' data and SIGKILLs one of
them every zero to two batches of the sweep's journal (counts drawn from a fixed seed: the same on
every run, CI or not; ``GARDE_KILL_SEED`` draws others), restarting it each time; the jobs of a killed
worker are queued again as once its heartbeat stops. A kill counts when it lands before the run closes
(the workers are stopped to look); a sweep that closes first is followed by another over new rows,
until 20 kills (``GARDE_JOB_KILLS``) have landed, however fast the machine. After each sweep the tables
must equal both oracles of ``test_retention_negomarkets`` and its journal hold every key once; at the
end, one audit entry per batch, each run closed once, and the audit chain verifying.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde import audit
from garde.jobs import submit
from garde.jobs.retention import sweep
from garde.retention.journal import decode_keys, retention_batches, retention_runs
from tests.jobs_support import DEADLINE, garde_worker
from tests.test_jobs_queue import FAST_STALL
from tests.test_retention_negomarkets import (
    DATASET,
    TODAY,
    Deployment,
    expected_by_python,
    expected_by_sql,
    fill,
    snapshot,
)
from tests.worker_kills import Workers, killable_workers

KILLS = int(os.environ.get("GARDE_JOB_KILLS", "20"))
SEED = 20261206 if os.environ.get("CI") == "true" else int(os.environ.get("GARDE_KILL_SEED", "20261206"))

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _env(shop_url: str) -> dict[str, str]:
    return {**FAST_STALL, "GARDE_DATASETS": str(DATASET), "GARDE_NEGOMARKETS_URL": shop_url,
            "GARDE_RETENTION_SWEEP_SCHEDULE": ""}


def _count(store: sa.Engine, query: sa.Select[tuple[int]]) -> int:
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _batches(store: sa.Engine) -> int:
    return _count(store, sa.select(sa.func.count()).select_from(retention_batches))


def _closed(store: sa.Engine) -> int:
    """How many runs have closed."""
    return _count(store, sa.select(sa.func.count()).select_from(retention_runs)
                  .where(retention_runs.c.status == "done"))


@pytest.fixture
def deployment(migrated_postgres_url: str) -> Iterator[Deployment]:
    found = Deployment(migrated_postgres_url, migrated_postgres_url)  # the business tables beside the store's
    yield found
    found.close()


def _wait_closed(store: sa.Engine, log: Path, runs: int = 1) -> None:
    """Until ``runs`` runs have closed (bounded)."""
    end = time.monotonic() + DEADLINE
    while _closed(store) < runs:
        assert time.monotonic() < end, log.read_text()[-3000:]
        time.sleep(0.05)


def test_a_sweep_split_across_two_workers_ends_exact(deployment: Deployment, migrated_postgres_url: str,
                                                    tmp_path: Path) -> None:
    fill(deployment.shop)
    before = snapshot(deployment.shop)
    queued = submit(deployment.store, sweep, {"today": TODAY.isoformat(), "batch_size": 5})
    assert queued.queued
    log = tmp_path / "workers.log"
    with garde_worker(migrated_postgres_url, log, env=_env(migrated_postgres_url)), \
         garde_worker(migrated_postgres_url, log, env=_env(migrated_postgres_url)):
        _wait_closed(deployment.store, log)
    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    assert after == expected
    with deployment.store.connect() as conn:
        parts = conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                     "'retention.sweep_part' AND status = 'succeeded'")).scalar()
        assert audit.verify(conn).ok
    # NEGOMARKETS' tables fall into five parts no reference links: the coordinator job sweeps the first
    assert parts == 4


def test_workers_killed_at_random_points_of_a_sweep_leave_it_exact(deployment: Deployment,
                                                                   migrated_postgres_url: str,
                                                                   tmp_path: Path) -> None:
    rng = random.Random(SEED)
    env = {**os.environ, "GARDE_DATABASE_URL": migrated_postgres_url, **_env(migrated_postgres_url)}
    kills = runs = 0
    with killable_workers(env, deployment.store, tmp_path / "workers.log", concurrency=1) as workers:
        workers.start()
        workers.start()
        while kills < KILLS:  # a sweep that closes first: new rows, a new sweep, the kills go on
            assert runs < KILLS, f"{runs} sweeps closed with {kills} kills in all: no kill lands"
            runs += 1
            kills += _killed_sweep(deployment, workers, rng, runs, KILLS - kills, tmp_path / "workers.log")
    assert kills == KILLS
    print(f"{KILLS} kills over {runs} sweeps")
    with deployment.store.connect() as conn:
        batches = conn.execute(sa.select(retention_batches)).all()
        closed = [r.status for r in conn.execute(sa.select(retention_runs))]
        verification = audit.verify(conn)
        audited = Counter(e["payload"]["batch"] for e in audit.entries(conn, kind="retention.batch"))
        finished = Counter(e["payload"]["run"] for e in audit.entries(conn, kind="retention.run.finished"))
    assert verification.ok, verification.reason
    # each run closed once (a sweep job handed back after its run closed would start one more: closed too)
    assert len(closed) >= runs and set(closed) == {"done"} and finished == Counter(dict.fromkeys(finished, 1))
    assert len(finished) == len(closed)
    assert all(b.status == "done" for b in batches)
    assert audited == Counter({b.id: 1 for b in batches})


def _killed_sweep(deployment: Deployment, workers: Workers, rng: random.Random, run: int, wanted: int,
                  log: Path) -> int:
    """Fill the tables afresh (seed ``run``), submit a sweep, and kill a worker every zero to two
    batches of its journal until it closes or ``wanted`` kills have landed; then the tables must
    equal both oracles and the run's journal be exact. Returns the kills that landed before it closed."""
    fill(deployment.shop, seed=run)
    earlier = _run_ids(deployment.store)
    before = snapshot(deployment.shop)
    by_sql = expected_by_sql(deployment.shop)
    assert submit(deployment.store, sweep, {"today": TODAY.isoformat(), "batch_size": 2}).queued
    kills = 0
    while kills < wanted:
        target = _batches(deployment.store) + rng.randint(0, 2)
        end = time.monotonic() + DEADLINE
        while _batches(deployment.store) < target and _closed(deployment.store) < run:
            assert time.monotonic() < end, log.read_text()[-3000:]
            time.sleep(0.005)
        workers.pause()  # the journal as it is at the kill
        if _closed(deployment.store) >= run:
            workers.resume()
            break
        busy = workers.busy("retention")  # a worker running a part (or the sweep) is the victim if any
        victim = rng.choice(busy or list(workers.alive))
        workers.kill(victim)  # and the others resume
        kills += 1
        workers.start()
    _wait_closed(deployment.store, log, run)
    _exact(deployment, _run_ids(deployment.store) - earlier, before, by_sql)
    return kills


def _run_ids(store: sa.Engine) -> set[str]:
    with store.connect() as conn:
        return set(conn.execute(sa.select(retention_runs.c.id)).scalars())


def _exact(deployment: Deployment, runs: set[str], before: dict[str, dict[int, tuple[Any, ...]]],
           by_sql: dict[str, set[int]]) -> None:
    """The tables equal both oracles; the sweep's ``runs`` journalled every key once, their pages never
    overlapping."""
    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    for name in before:
        assert after[name] == expected[name], name
        assert set(after[name]) == by_sql[name], name
    with deployment.store.connect() as conn:
        batches = conn.execute(sa.select(retention_batches).where(retention_batches.c.run_id.in_(runs))).all()
    keys, spans = _journalled(batches)
    for (table, operation), journalled in keys.items():
        assert len(journalled) == len(set(journalled)), f"a key of {table} {operation} was journalled twice"
        if operation == "delete":
            assert set(journalled) == set(before[table]) - set(after[table]), table
    for (table, operation), ranges in spans.items():  # pages on PostgreSQL: never two batches on one
        ranges.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(ranges)), f"{table}: ranges overlap"
        if operation == "delete":
            assert sum(count for *_, count in ranges) == len(set(before[table]) - set(after[table])), table


def _journalled(batches: list[sa.Row[Any]]) -> tuple[dict[tuple[str, str], list[Any]],
                                                     dict[tuple[str, str], list[tuple[Any, Any, int]]]]:
    """The keys each step journalled, and its batches' ranges (pages or keys) with their counts."""
    keys: dict[tuple[str, str], list[Any]] = {}
    spans: dict[tuple[str, str], list[tuple[Any, Any, int]]] = {}
    for b in batches:
        found, span = decode_keys(b.keys)
        if span is None:
            keys.setdefault((b.table_name, b.operation), []).extend(found or [])
        else:
            spans.setdefault((b.table_name, b.operation), []).append((span.low, span.high, b.count))
    return keys, spans


def test_the_workers_sweep_on_the_schedule_setting(deployment: Deployment, migrated_postgres_url: str,
                                                   tmp_path: Path) -> None:
    """The nightly sweep is a procrastinate periodic task: here every second, as of the day it runs."""
    fill(deployment.shop)
    before = snapshot(deployment.shop)
    log = tmp_path / "workers.log"
    with garde_worker(migrated_postgres_url, log, env={**_env(migrated_postgres_url),
                                               "GARDE_RETENTION_SWEEP_SCHEDULE": "* * * * * *"}):
        _wait_closed(deployment.store, log)
    with deployment.store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                    "'periodic.retention.sweep'")).scalar() >= 1
        assert audit.verify(conn).ok
    assert snapshot(deployment.shop) != before  # NEGOMARKETS' data is due today too
