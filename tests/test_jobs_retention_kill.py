"""Retention sweeps as jobs on PostgreSQL: split into parts two workers share, and killed.

The kill test runs two ``garde worker`` processes over NEGOMARKETS' data and SIGKILLs one of them
at random points of the sweep (points drawn from a fixed seed: the same on every run, CI or not;
``GARDE_KILL_SEED`` draws others), 20 times (``GARDE_JOB_KILLS``), restarting it each time; the
jobs of a killed worker are queued again once its heartbeat stops. Then the tables must equal both
oracles of ``test_retention_negomarkets``, every journalled key once, one audit entry per batch,
the run closed once, and the audit chain verifying.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
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

KILLS = int(os.environ.get("GARDE_JOB_KILLS", "20"))
SEED = 20261206 if os.environ.get("CI") == "true" else int(os.environ.get("GARDE_KILL_SEED", "20261206"))

pytestmark = pytest.mark.postgres


def _env(shop_url: str) -> dict[str, str]:
    return {**FAST_STALL, "GARDE_DATASETS": str(DATASET), "GARDE_NEGOMARKETS_URL": shop_url,
            "GARDE_RETENTION_SWEEP_SCHEDULE": ""}


def _count(store: sa.Engine, query: sa.Select[tuple[int]]) -> int:
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _batches(store: sa.Engine) -> int:
    return _count(store, sa.select(sa.func.count()).select_from(retention_batches))


def _closed(store: sa.Engine) -> bool:
    return _count(store, sa.select(sa.func.count()).select_from(retention_runs)
                  .where(retention_runs.c.status == "done")) > 0


@pytest.fixture
def deployment(postgres_url: str) -> Iterator[Deployment]:
    found = Deployment(postgres_url, postgres_url)  # the business tables beside the store's
    yield found
    found.close()


def _wait_closed(store: sa.Engine, log: Path) -> None:
    end = time.monotonic() + DEADLINE
    while not _closed(store):
        assert time.monotonic() < end, log.read_text()
        time.sleep(0.1)


def test_a_sweep_split_across_two_workers_ends_exact(deployment: Deployment, postgres_url: str,
                                                    tmp_path: Path) -> None:
    fill(deployment.shop)
    before = snapshot(deployment.shop)
    queued = submit(deployment.store, sweep, {"today": TODAY.isoformat(), "batch_size": 5})
    assert queued.queued
    log = tmp_path / "workers.log"
    with garde_worker(postgres_url, log, env=_env(postgres_url)), \
         garde_worker(postgres_url, log, env=_env(postgres_url)):
        _wait_closed(deployment.store, log)
    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    assert after == expected
    with deployment.store.connect() as conn:
        parts = conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                     "'retention.sweep_part' AND status = 'succeeded'")).scalar()
        assert audit.verify(conn).ok
    assert parts == 5  # NEGOMARKETS' tables fall into five parts no reference links


def test_workers_killed_at_random_points_of_a_sweep_leave_it_exact(deployment: Deployment, postgres_url: str,
                                                                   tmp_path: Path) -> None:
    fill(deployment.shop, scale=8)  # enough for 20 kills on a quick, quiet machine (3 gave 16, 6 gave 19)
    before = snapshot(deployment.shop)
    by_sql = expected_by_sql(deployment.shop)
    rng = random.Random(SEED)
    log = tmp_path / "workers.log"
    env = _env(postgres_url)
    assert submit(deployment.store, sweep, {"today": TODAY.isoformat(), "batch_size": 2}).queued
    kills = 0
    with ExitStack() as stack:
        workers = [stack.enter_context(garde_worker(postgres_url, log, env=env)) for _ in range(2)]
        while kills < KILLS and not _closed(deployment.store):
            target = _batches(deployment.store) + rng.randint(0, 2)
            end = time.monotonic() + DEADLINE
            while _batches(deployment.store) < target and not _closed(deployment.store):
                assert time.monotonic() < end, log.read_text()
                time.sleep(0.01)
            time.sleep(rng.random() * 0.05)
            victim = rng.randrange(2)
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = stack.enter_context(garde_worker(postgres_url, log, env=env))
        _wait_closed(deployment.store, log)
    assert kills >= KILLS, f"the sweep ended after {kills} kills: give it more work"

    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    for name in before:
        assert after[name] == expected[name], name
        assert set(after[name]) == by_sql[name], name
    with deployment.store.connect() as conn:
        batches = conn.execute(sa.select(retention_batches)).all()
        runs = conn.execute(sa.select(retention_runs)).all()
        verification = audit.verify(conn)
        audited = Counter(e["payload"]["batch"] for e in audit.entries(conn, kind="retention.batch"))
        finished = len(list(audit.entries(conn, kind="retention.run.finished")))
    assert verification.ok, verification.reason
    assert [r.status for r in runs] == ["done"] and finished == 1
    assert all(b.status == "done" for b in batches)
    assert audited == Counter({b.id: 1 for b in batches})
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


def test_the_workers_sweep_on_the_schedule_setting(deployment: Deployment, postgres_url: str,
                                                   tmp_path: Path) -> None:
    """The nightly sweep is a procrastinate periodic task: here every second, as of the day it runs."""
    fill(deployment.shop)
    before = snapshot(deployment.shop)
    log = tmp_path / "workers.log"
    with garde_worker(postgres_url, log, env={**_env(postgres_url),
                                               "GARDE_RETENTION_SWEEP_SCHEDULE": "* * * * * *"}):
        _wait_closed(deployment.store, log)
    with deployment.store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                    "'periodic.retention.sweep'")).scalar() >= 1
        assert audit.verify(conn).ok
    assert snapshot(deployment.shop) != before  # NEGOMARKETS' data is due today too
