"""The queue's fetch keeps its cheap plan whatever the table's statistics say (migration 0032).

A queue analysed while it held a handful of jobs, then given 200 at once (a burst of requests, a
sweep's parts): procrastinate's fetch was planned as a join of every waiting job with every other,
≈ 630 buffers for the first job taken and several milliseconds a job. Buffers read are counted, not
time: the count does not depend on the machine's load."""

from __future__ import annotations

import json
import re

import procrastinate
import psycopg
import pytest
from procrastinate import sql

from garde.jobs.queue import conninfo

WAITING = 200
# what the plan reading the priority index in order touches a job (≈ 35 – 100 buffers), well under the
# join of every waiting job with every other (≈ 620 for 200 waiting)
BOUND = 250
DEFER = ("SELECT procrastinate_defer_jobs_v1(array_agg(ROW('requests', 'garde.ping', 0, NULL, NULL, "
         "'{}'::jsonb, NULL)::procrastinate_job_to_defer_v1)) FROM generate_series(1, %s)")


def _fetch_function() -> str:
    """The fetch function the installed procrastinate calls (the one migration 0032 sets)."""
    called = re.search(r"FROM (procrastinate_fetch_job\w*)\(", sql.queries["fetch_job"])
    assert called, sql.queries["fetch_job"]
    return called.group(1)


def test_the_fetch_function_procrastinate_calls_is_the_one_the_migration_sets() -> None:
    assert _fetch_function() == "procrastinate_fetch_job_v2", (
        f"procrastinate {procrastinate.__version__} fetches with {_fetch_function()}: give it the setting of "
        "migration 0032 in a new migration (docs/jobs.md, 'The queue's schema')")


def _buffers(connection: psycopg.Connection, worker: int) -> int:
    row = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT {_fetch_function()}(NULL, %s)",
                             (worker,)).fetchone()
    assert row is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    top = plan[0]["Plan"]
    return int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))


@pytest.mark.parametrize("analysed_with", [0, 8])
def test_a_burst_of_jobs_after_the_queue_was_analysed_near_empty_is_fetched_cheaply(
        migrated_postgres_url: str, analysed_with: int) -> None:
    with psycopg.connect(conninfo(migrated_postgres_url), autocommit=True) as connection:
        # statistics as a new store, or one whose old jobs were just pruned, has them; autovacuum kept
        # from analysing the table again during the test
        connection.execute("ALTER TABLE procrastinate_jobs SET (autovacuum_enabled = false)")
        if analysed_with:
            connection.execute(DEFER, (analysed_with,))
            connection.execute("UPDATE procrastinate_jobs SET status = 'succeeded'")
        connection.execute("ANALYZE procrastinate_jobs")
        worker = connection.execute(
            "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id").fetchone()
        assert worker is not None
        connection.execute(DEFER, (WAITING,))
        fetched = [_buffers(connection, worker[0]) for _ in range(5)]
        taken = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'").fetchone()
    assert taken == (5,)  # each fetch took a job
    assert max(fetched[1:]) < BOUND, fetched  # the first fetch also fills the new session's caches
