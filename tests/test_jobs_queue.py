"""The job queue's foundation: its schema under the store's migrations, ``submit`` (queued on
PostgreSQL, inline on SQLite), and ``garde worker`` taking a job in a process of its own."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from garde.cli import app
from garde.jobs import QueueUnavailable, kind_named, queue_app, submit, submit_many
from garde.jobs.builtin import ping
from garde.jobs.queue import STALLED_LOCK, STALLED_TASK, requeue_stalled
from garde.jobs.schema import QUEUE_TABLES, applied
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store import MIGRATIONS, connect, migrate, open_store
from tests.jobs_support import DEADLINE, garde_worker, wait_for_job

runner = CliRunner()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_the_queue_schema_comes_with_the_migrations_on_postgresql_only(database_url: str) -> None:
    engine = connect(database_url, create=True)
    try:
        migrate(engine)
        if engine.dialect.name == "sqlite":
            assert not _tables(engine) & QUEUE_TABLES  # no queue: jobs run inline
            return
        assert _tables(engine) >= QUEUE_TABLES
        with engine.connect() as connection:
            first = applied(connection)
        assert first and first.startswith("03.")  # the newest migration of the installed release
        migrate(engine)  # again: nothing to do
        _downgrade(engine, "0019")  # the queue's schema goes, garde's stays
        assert not _tables(engine) & QUEUE_TABLES
        with engine.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%'")).scalar() == 0
        migrate(engine)
        assert _tables(engine) >= QUEUE_TABLES
    finally:
        engine.dispose()


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_db_upgrade_migrates_the_store_and_says_so(cli_env: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "schema from None to" in result.output and "jobs run inline" in result.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert "already at" in again.output


def test_on_sqlite_a_job_runs_inline_with_the_arguments_a_worker_would_get(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        done = submit(store, ping, {"message": "hello"})
        assert not done.queued and done.job_id is None
        assert done.result == {"message": "hello", "database": "sqlite"}
        with pytest.raises(GardeError, match="arguments must be JSON"):
            submit(store, ping, {"message": object()})
    finally:
        store.dispose()
    assert kind_named("garde.ping") is ping
    with pytest.raises(GardeError, match="no job kind"):
        kind_named("garde.nothing")


def test_postgresql_only_commands_say_why_on_sqlite(cli_env: Path) -> None:
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "needs a PostgreSQL store" in result.output and "inline" in result.output
    with pytest.raises(QueueUnavailable):
        queue_app(get_settings().database_url)


@pytest.mark.postgres
def test_a_worker_process_runs_a_submitted_job_and_stops_on_sigterm(migrated_postgres_url: str,
                                                                    tmp_path: Path) -> None:
    store = open_store(migrated_postgres_url)
    try:
        queued = submit(store, ping, {"message": "from the test"})
        assert queued.queued and queued.job_id is not None
        assert wait_for_job(migrated_postgres_url, queued.job_id, deadline=0) == "todo"  # nobody took it yet
        log = tmp_path / "worker.log"
        with garde_worker(migrated_postgres_url, log, "--concurrency", "2") as worker:
            assert wait_for_job(migrated_postgres_url, queued.job_id) == "succeeded", log.read_text()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=DEADLINE) == 0, log.read_text()
        assert inline_result(store) == {"message": "x", "database": "postgresql"}
    finally:
        store.dispose()


def inline_result(store: sa.Engine) -> object:
    """On PostgreSQL too, ``inline`` runs the job here (``garde retention sweep --inline``)."""
    return submit(store, ping, {"message": "x"}, inline=True).result


# A worker that died holding a job: the queue's own functions register it and hand it the job,
# then its heartbeat is an hour old, as SIGKILL or a lost machine would leave it.
DEAD_WORKER = """
WITH dead AS (SELECT worker_id FROM procrastinate_register_worker_v1())
SELECT (procrastinate_fetch_job_v2(NULL, dead.worker_id)).id, dead.worker_id FROM dead
"""
FAST_STALL = {"GARDE_WORKER_HEARTBEAT_SECONDS": "0.5", "GARDE_WORKER_STALLED_SECONDS": "2",
              "GARDE_JOBS_STALLED_SCHEDULE": "* * * * * *"}  # sixth field: every second


@pytest.mark.postgres
def test_the_job_of_a_dead_worker_is_queued_again_and_done_by_another(migrated_postgres_url: str,
                                                                      tmp_path: Path) -> None:
    store = open_store(migrated_postgres_url)
    try:
        queued = submit(store, ping, {"message": "orphan"})
        with store.begin() as connection:
            job_id, worker_id = connection.execute(sa.text(DEAD_WORKER)).one()
            assert job_id == queued.job_id
            connection.execute(sa.text("UPDATE procrastinate_workers SET last_heartbeat = now() - "
                                       "interval '1 hour' WHERE id = :id"), {"id": worker_id})
        assert wait_for_job(migrated_postgres_url, job_id, deadline=0) == "doing"
        log = tmp_path / "worker.log"
        with garde_worker(migrated_postgres_url, log, env=FAST_STALL):
            assert wait_for_job(migrated_postgres_url, job_id) == "succeeded", log.read_text()
        assert log.read_text().count("was running on a worker that stopped: queued again") == 1
        with store.connect() as connection:  # the dead worker's attempt, then the one that ended
            assert connection.execute(sa.text("SELECT attempts FROM procrastinate_jobs WHERE id = :id"),
                                      {"id": job_id}).scalar() == 2
    finally:
        store.dispose()


def _held_by_a_dead_worker(connection: sa.Connection, job_id: int) -> None:
    """Hand ``job_id`` to a worker the queue registers, then age that worker's heartbeat an hour."""
    connection.execute(sa.text("UPDATE procrastinate_jobs SET priority = 1000 WHERE id = :id"),
                       {"id": job_id})  # the job the dead worker takes first
    fetched, worker_id = connection.execute(sa.text(DEAD_WORKER)).one()
    assert fetched == job_id
    connection.execute(sa.text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                               "WHERE id = :id"), {"id": worker_id})


def _queued(connection: sa.Connection, task: str, **columns: str) -> int:
    names = ", ".join(columns)
    values = ", ".join(f":{name}" for name in columns)
    return int(connection.execute(sa.text(
        f"INSERT INTO procrastinate_jobs (queue_name, task_name, args{', ' + names if names else ''}) "
        f"VALUES ('periodic', :task, CAST('{{\"timestamp\": 1}}' AS jsonb){', ' + values if values else ''}) "
        "RETURNING id"), {"task": task, **columns}).scalar_one())


@pytest.mark.postgres
def test_a_worker_killed_while_retrying_stalled_jobs_does_not_stop_the_retries(migrated_postgres_url: str,
                                                                             tmp_path: Path) -> None:
    """CI saw it: a worker SIGKILLed inside the retry of stalled jobs held that task's lock for ever,
    so no retry ran again and the jobs of every later killed worker stayed ``doing``."""
    store = open_store(migrated_postgres_url)
    try:
        with store.begin() as connection:  # the dead retry, with the lock it used to take
            retry_id = _queued(connection, STALLED_TASK, lock=STALLED_TASK)
            _held_by_a_dead_worker(connection, retry_id)
        orphan = submit(store, ping, {"message": "orphan"}).job_id
        assert orphan is not None
        with store.begin() as connection:
            _held_by_a_dead_worker(connection, orphan)
        log = tmp_path / "worker.log"
        with garde_worker(migrated_postgres_url, log, env=FAST_STALL):
            assert wait_for_job(migrated_postgres_url, orphan) == "succeeded", log.read_text()
        assert wait_for_job(migrated_postgres_url, retry_id, deadline=0) == "failed"  # ended, not run again
    finally:
        store.dispose()


@pytest.mark.postgres
def test_a_stalled_job_is_handed_back_once_by_concurrent_retries(migrated_postgres_url: str) -> None:
    store = open_store(migrated_postgres_url)
    try:
        orphan = submit(store, ping, {"message": "orphan"}).job_id
        assert orphan is not None
        with store.begin() as connection:
            _held_by_a_dead_worker(connection, orphan)
        with store.connect() as holder:  # another worker's retry is under way
            holder.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": STALLED_LOCK})
            assert requeue_stalled(migrated_postgres_url, 2) == []
            holder.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": STALLED_LOCK})
            holder.commit()
        assert requeue_stalled(migrated_postgres_url, 2) == [orphan]
        assert requeue_stalled(migrated_postgres_url, 2) == []  # it waits now: not handed back twice
        assert wait_for_job(migrated_postgres_url, orphan, deadline=0) == "todo"
    finally:
        store.dispose()


@pytest.mark.postgres
def test_stalled_jobs_are_handed_back_from_a_thread_whose_event_loop_runs(migrated_postgres_url: str) -> None:
    """CI ran it after a browser test whose event loop still ran in the thread: a coroutine behind
    ``asyncio.run()`` then refused to start. The retry is synchronous, callable from anywhere."""
    store = open_store(migrated_postgres_url)
    try:
        orphan = submit(store, ping, {"message": "orphan"}).job_id
        with store.begin() as connection:
            _held_by_a_dead_worker(connection, orphan)

        async def inside_a_running_loop() -> list[int]:
            return requeue_stalled(migrated_postgres_url, 2)

        # a loop of its own in a thread of its own: this test's thread may run a browser test's loop
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(asyncio.run, inside_a_running_loop()).result() == [orphan]
    finally:
        store.dispose()


@pytest.mark.postgres
def test_a_killed_periodic_job_whose_next_run_waits_is_ended_not_doubled(migrated_postgres_url: str) -> None:
    store = open_store(migrated_postgres_url)
    try:
        with store.begin() as connection:
            remind = "periodic.requests.remind"
            killed = _queued(connection, remind, queueing_lock=remind)
            _held_by_a_dead_worker(connection, killed)
            waiting = _queued(connection, remind, queueing_lock=remind)
        assert requeue_stalled(migrated_postgres_url, 2) == []
        assert wait_for_job(migrated_postgres_url, killed, deadline=0) == "failed"
        assert wait_for_job(migrated_postgres_url, waiting, deadline=0) == "todo"
    finally:
        store.dispose()


def test_a_schedule_that_is_not_a_cron_string_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from garde.jobs.periodic import PERIODIC, schedules
    from garde.settings import Settings

    assert all(p.resolve() for p in PERIODIC)  # every periodic job names a function that exists
    assert [p.name for p, _ in schedules(Settings())] == ["retention.sweep", "requests.remind",
                                                          "audit.export_head", "jobs.prune"]  # renewals: off
    weekly = schedules(Settings(consent_renewal_schedule="0 6 * * 1"))
    assert [p.name for p, _ in weekly][2] == "consent.renewals"
    off = Settings(retention_sweep_schedule="", reminder_schedule="", audit_head_schedule="",
                   jobs_cleanup_schedule="")
    assert schedules(off) == []
    with pytest.raises(GardeError, match="GARDE_RETENTION_SWEEP_SCHEDULE"):
        schedules(Settings(retention_sweep_schedule="every night"))


def test_the_scheduled_work_runs_as_the_periodic_jobs_call_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Each periodic job of the scheduled work runs its command's library function with the
    worker's settings: the audit head lands in the checkpoint file, once a day; the renewal list in
    its file; a renewal job without a file says which setting is missing."""
    from garde.jobs.periodic import PERIODIC
    from garde.settings import get_settings

    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("GARDE_DATABASE_URL", url)
    monkeypatch.setenv("GARDE_AUDIT_CHECKPOINT_FILE", str(tmp_path / "heads.jsonl"))
    monkeypatch.setenv("GARDE_DPO_EMAIL", "dpo@example.com")
    monkeypatch.setenv("GARDE_OUTBOX", str(tmp_path / "outbox"))
    get_settings.cache_clear()
    jobs = {p.name: p.resolve() for p in PERIODIC}
    store = open_store(url)
    try:
        head = jobs["audit.export_head"](store)
        assert (tmp_path / "heads.jsonl").read_text().count("\n") == 1 and head["written"] and head["ok"]
        jobs["audit.export_head"](store)  # the same day: nothing more
        assert (tmp_path / "heads.jsonl").read_text().count("\n") == 1
        assert jobs["requests.remind"](store)["sent"] is False  # nothing due: no mail
        with pytest.raises(GardeError, match="GARDE_CONSENT_RENEWAL_FILE"):
            jobs["consent.renewals"](store)
        monkeypatch.setenv("GARDE_CONSENT_RENEWAL_FILE", str(tmp_path / "renewals.csv"))
        get_settings.cache_clear()
        jobs["consent.renewals"](store)
        assert (tmp_path / "renewals.csv").exists()
    finally:
        store.dispose()
        get_settings.cache_clear()


@pytest.mark.postgres
def test_a_job_is_queued_on_a_connection_of_the_store_s_pool(migrated_postgres_url: str) -> None:
    """``submit`` sends the job's insert on a connection the store's pool already holds, committed
    with it (an API or a worker queueing jobs opens no new database session per job), and a second
    job with a waiting job's queueing lock is still refused."""
    store = open_store(migrated_postgres_url)
    checkouts: list[object] = []
    sa.event.listen(store, "checkout", lambda *args: checkouts.append(args))
    try:
        with store.connect() as connection:  # the pool holds one session already
            sessions = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")).scalar_one()
        first = submit(store, ping, {"message": "one"}, queueing_lock="once")
        second = submit(store, ping, {"message": "two"})
        assert first.queued and second.queued and len(checkouts) == 3
        with store.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            ).scalar_one() == sessions
            assert connection.execute(sa.text(
                "SELECT args->>'message' FROM procrastinate_jobs WHERE id = :id"),
                {"id": first.job_id}).scalar_one() == "one"  # committed: another session reads it
        with pytest.raises(GardeError, match="already waiting"):
            submit(store, ping, {"message": "again"}, queueing_lock="once")
        assert submit(store, ping, queueing_lock="once", already_queued_ok=True).job_id is None
        assert submit(store, ping, {"message": "three"}).queued  # the refused insert left no broken session
    finally:
        store.dispose()


@pytest.mark.postgres
def test_many_jobs_are_queued_together_in_one_transaction(migrated_postgres_url: str) -> None:
    """``submit_many`` queues its jobs with one insert in one transaction (a caller queueing a hundred
    requests pays one round of it, not a hundred), in order; a refused argument queues none."""
    store = open_store(migrated_postgres_url)
    statements: list[str] = []
    checkouts: list[object] = []
    sa.event.listen(store, "checkout", lambda *args: checkouts.append(args))
    try:
        queued = submit_many(store, ping, [{"message": str(number)} for number in range(5)])
        assert [done.kind for done in queued] == ["garde.ping"] * 5 and all(done.queued for done in queued)
        assert len(checkouts) == 1  # one session of the store's pool for the five
        with store.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, args->>'message' FROM procrastinate_jobs WHERE id = ANY(:ids) ORDER BY id"),
                {"ids": [done.job_id for done in queued]}).all()
            assert connection.execute(sa.text(  # written by one transaction
                "SELECT count(DISTINCT xmin::text) FROM procrastinate_jobs WHERE id = ANY(:ids)"),
                {"ids": [done.job_id for done in queued]}).scalar_one() == 1
        assert [message for _, message in rows] == ["0", "1", "2", "3", "4"]
        assert [job_id for job_id, _ in rows] == [done.job_id for done in queued]
        sa.event.listen(store, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with pytest.raises(GardeError, match="arguments must be JSON"):
            submit_many(store, ping, [{"message": "fine"}, {"message": object()}])
        assert submit_many(store, ping, []) == [] and statements == []
    finally:
        store.dispose()


@pytest.mark.postgres
def test_many_jobs_with_queueing_locks_are_queued_together_and_never_twice(postgres_url: str) -> None:
    """A split sweep queues its parts together, each with its queueing lock: one insert; queued again
    while some still wait (a resumed run), those are left to their waiting jobs, the others queued."""
    store = open_store(postgres_url)
    try:
        locks = ["part:a", "part:b", "part:c"]
        first = submit_many(store, ping, [{"message": m} for m in "ab"], queueing_locks=locks[:2])
        assert all(each.queued for each in first)
        with store.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT count(DISTINCT xmin::text) FROM procrastinate_jobs WHERE id = ANY(:ids)"),
                {"ids": [each.job_id for each in first]}).scalar_one() == 1
        with pytest.raises(GardeError, match="already waiting"):
            submit_many(store, ping, [{"message": "c"}, {"message": "b"}],
                        queueing_locks=[locks[2], locks[1]])
        again = submit_many(store, ping, [{"message": m} for m in "abc"], queueing_locks=locks,
                            already_queued_ok=True)
        assert [each.job_id is None for each in again] == [True, True, False]
        with store.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT queueing_lock, args->>'message' FROM procrastinate_jobs "
                "WHERE queueing_lock IS NOT NULL ORDER BY id")).all() == [
                    ("part:a", "a"), ("part:b", "b"), ("part:c", "c")]
    finally:
        store.dispose()


def test_many_jobs_run_inline_in_order_on_sqlite(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        done = submit_many(store, ping, [{"message": "a"}, {"message": "b"}])
        assert [d.result["message"] for d in done] == ["a", "b"] and not any(d.queued for d in done)
    finally:
        store.dispose()
