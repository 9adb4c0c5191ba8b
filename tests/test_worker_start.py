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
