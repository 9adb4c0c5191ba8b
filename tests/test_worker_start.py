"""``garde worker`` opens its store when it starts: a store it cannot open (the wrong identifier key,
an unreachable database) is reported then, with a clear message and exit status 2, not by the first
job it takes (which would fail that job, and every one after it, while the worker looks healthy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.store import open_store
from tests.jobs_support import DEADLINE, garde_worker
from tests.own_loop import run_in_own_loop


def _ended(database_url: str, log: Path, env: dict[str, str]) -> tuple[int, str]:
    with garde_worker(database_url, log, env=env) as worker:
        status = worker.wait(timeout=DEADLINE)  # a bound for a loaded machine: it ends at once
    return status, " ".join(log.read_text().split())


@pytest.mark.postgres
def test_a_worker_with_another_identifier_key_stops_at_start_and_says_why(postgres_url: str,
                                                                        tmp_path: Path) -> None:
    open_store(postgres_url).dispose()  # the store is written with the tests' identifier key
    status, output = _ended(postgres_url, tmp_path / "worker.log",
                            {"GARDE_IDENTIFIER_KEY": "another-identifier-key-than-the-stores-own-key"})
    assert status == 2, output
    assert "identifier key" in output and "Traceback" not in output
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:  # it never took a job nor registered as a worker
            assert connection.execute(sa.text("SELECT count(*) FROM procrastinate_workers")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_worker_whose_database_is_unreachable_stops_at_start_and_says_why(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://garde@/garde?host={tmp_path / 'no-server-here'}"
    status, output = _ended(url, tmp_path / "worker.log", {})
    assert status == 2, output
    assert "cannot open the store" in output and "Traceback" not in output


@pytest.mark.postgres
def test_a_started_worker_freezes_what_it_opened_and_still_runs_jobs(migrated_postgres_url: str,
                                                                    tmp_path: Path) -> None:
    """The store, data map, catalogues and the queue's App live as long as the worker: frozen once they
    are open, so the collector's full passes stop walking them in the job's thread; its young generation
    is collected after 20,000 new objects, not a few times a request. Its event loop is uvloop's
    (installed with ``uvicorn[standard]``): cheaper a job than asyncio's."""
    from garde.jobs import submit
    from garde.jobs.builtin import ping
    from tests.jobs_support import wait_for_job

    store = open_store(migrated_postgres_url)
    log = tmp_path / "worker.log"
    try:
        queued = submit(store, ping, {"message": "after the freeze"})
        assert queued.job_id is not None
        with garde_worker(migrated_postgres_url, log):
            assert wait_for_job(migrated_postgres_url, queued.job_id) == "succeeded", log.read_text()
    finally:
        store.dispose()
    frozen = [line for line in log.read_text().splitlines() if "heap frozen:" in line]
    assert len(frozen) == 1, log.read_text()
    assert int(frozen[0].split("heap frozen: ")[1].split()[0]) > 10_000  # the modules, at least
    assert "event loop: uvloop.Loop" in log.read_text()
    assert "young collections every 20000 objects" in log.read_text()


def test_the_worker_collects_less_often_and_keeps_a_higher_or_disabled_threshold() -> None:
    """:func:`collect_less` raises the young generation's threshold from Python's default, never lowers
    one a process set higher, leaves collections off in a process that turned them off, and returns what
    the thresholds were (the worker restores them when it stops)."""
    import gc

    from garde.jobs.worker import YOUNG_THRESHOLD, collect_less

    before = gc.get_threshold()
    try:
        for start, expected in ((700, YOUNG_THRESHOLD), (50_000, 50_000), (0, 0)):
            gc.set_threshold(start, 11, 12)
            assert collect_less() == (start, 11, 12)
            assert gc.get_threshold() == (expected, 11, 12)
    finally:
        gc.set_threshold(*before)


@pytest.mark.postgres
def test_a_worker_logs_the_jobs_that_fail_not_each_one_that_succeeds(migrated_postgres_url: str,
                                                                      tmp_path: Path) -> None:
    """procrastinate writes two INFO lines for every job (its start, then "Success"): 400 lines a second
    at 200 jobs a second, and ≈ 22 µs of the worker's loop a job. ``garde worker`` leaves those out; a
    job that fails is still logged, with its error, and the worker's start and stop too."""
    from garde.jobs import submit
    from garde.jobs.builtin import ping
    from tests.jobs_support import wait_for_job

    store = open_store(migrated_postgres_url)
    log = tmp_path / "worker.log"
    try:
        succeeding = submit(store, ping, {"message": "quietly"}).job_id
        failing = submit(store, ping, {"unknown": 1}).job_id
        assert succeeding is not None and failing is not None
        with garde_worker(migrated_postgres_url, log):
            assert wait_for_job(migrated_postgres_url, succeeding) == "succeeded", log.read_text()
            assert wait_for_job(migrated_postgres_url, failing) == "failed", log.read_text()
    finally:
        store.dispose()
    said = log.read_text()
    assert f"garde.ping[{failing}]" in said and "ended with status: Error" in said, said
    assert "unknown" in said, said  # what went wrong
    assert f"garde.ping[{succeeding}]" not in said and "Success" not in said, said
    assert "Starting job" not in said, said
    assert "Stop requested" in said, said  # the worker's own lines stay


def test_the_success_lines_are_left_out_by_any_worker_name_and_kept_with_log_jobs(
        caplog: pytest.LogCaptureFixture) -> None:
    """:func:`quiet_job_lines` filters procrastinate's own records (made by its worker, on its logger and
    on the one named after ``--name``); a worker started with ``--log-jobs`` does not call it."""
    import logging

    import procrastinate
    import procrastinate.testing
    from procrastinate.worker import Worker

    from garde.jobs.worker import NoSuccessLines, quiet_job_lines

    app = procrastinate.App(connector=procrastinate.testing.InMemoryConnector())

    @app.task(name="said")
    def said(fail: bool = False) -> str:
        if fail:
            raise ValueError("refused")
        return "done"

    def run(name: str | None) -> list[logging.LogRecord]:
        caplog.clear()

        async def work() -> None:
            async with app.open_async():
                for fail in (False, True):
                    await said.defer_async(fail=fail)
                await Worker(app, name=name, wait=False, install_signal_handlers=False).run()

        with caplog.at_level(logging.INFO, logger="procrastinate"):
            run_in_own_loop(work())
        return [record for record in caplog.records if getattr(record, "job", None)]

    try:
        kept = run("kept")  # --log-jobs: nothing filtered
        assert {getattr(r, "action", None) for r in kept} >= {"start_job", "job_success", "job_error"}
        for name in (None, "night"):
            quiet_job_lines(name)
            quiet_job_lines(name)  # once is enough: not two filters
            actions = [getattr(r, "action", None) for r in run(name)]
            assert "start_job" not in actions and "job_success" not in actions, actions
            assert "job_error" in actions, actions
    finally:
        for logger_name in ("procrastinate.worker", "procrastinate.worker.night"):
            quiet = logging.getLogger(logger_name)
            assert sum(isinstance(each, NoSuccessLines) for each in quiet.filters) <= 1
            for each in [f for f in quiet.filters if isinstance(f, NoSuccessLines)]:
                quiet.removeFilter(each)
