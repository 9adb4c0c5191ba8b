"""``garde worker`` opens its store when it starts: a store it cannot open (the wrong identifier key,
an unreachable database) is reported then, with a clear message and exit status 2, not by the first
job it takes (which would fail that job, and every one after it, while the worker looks healthy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.store import open_store
from tests.jobs_support import DEADLINE, garde_worker


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
