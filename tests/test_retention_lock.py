"""One retention sweep at a time: a second one is told clearly, by whom and since when, and changes nothing.

The holder is a real second process, on SQLite (a file lock beside the
store) and on PostgreSQL (a session advisory lock); a holder killed with
SIGKILL leaves no stale lock behind.
"""

from __future__ import annotations

import signal
import subprocess
from contextlib import AbstractContextManager
from datetime import date

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde.cli import app
from garde.retention import journal
from garde.retention.lock import SweepRunning, _advisory_holder, sweep_lock
from tests.conftest import held_in_another_process
from tests.test_hold_cli import deployment  # noqa: F401 (fixture: store and data through the environment)
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment, expected_by_python, snapshot

runner = CliRunner()


def held_elsewhere(url: str) -> AbstractContextManager[subprocess.Popen[str]]:
    """Another process holding the sweep lock of the store at ``url`` until the block ends."""
    return held_in_another_process(
        "from garde.retention.lock import sweep_lock\nfrom garde.store import connect",
        f"sweep_lock(connect({url!r}))")


def test_a_second_sweep_is_refused_naming_the_run_and_the_process(engine: sa.Engine,
                                                                  database_url: str) -> None:
    with engine.begin() as conn:
        run = journal.start_run(conn, date(2026, 1, 2), 100, False)
    with held_elsewhere(database_url) as child:
        with pytest.raises(SweepRunning) as info, sweep_lock(engine):
            pytest.fail("two sweeps hold the lock at once")
        message = str(info.value)
        assert message.startswith("a retention sweep is already running")
        assert f"run {run.id[:8]} as of 2026-01-02, started " in message
        assert f"pid {child.pid}" in message and " since " in message
    with sweep_lock(engine):  # released when the holder ends
        pass


@pytest.mark.postgres
def test_a_sweep_on_another_database_of_the_server_is_not_named(postgres_url: str,
                                                                migrated_postgres_url: str) -> None:
    """Advisory locks are per database: a sweep running on another store of the same server holds a lock
    of the same key there, and must not be named as this store's (it was: `pg_locks` read server-wide)."""
    store = sa.create_engine(migrated_postgres_url)
    try:
        with held_elsewhere(postgres_url) as stranger, store.connect() as conn:
            assert f"pid {stranger.pid}" not in _advisory_holder(conn)
            with sweep_lock(store):  # the other database's sweep does not hold this store's lock
                pass
    finally:
        store.dispose()


def test_a_killed_sweep_leaves_no_stale_lock(engine: sa.Engine, database_url: str) -> None:
    with held_elsewhere(database_url) as child:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        with sweep_lock(engine):
            pass


def test_the_lock_is_one_per_store_even_in_one_process(engine: sa.Engine) -> None:
    with sweep_lock(engine), pytest.raises(SweepRunning), sweep_lock(engine):
        pass
    with sweep_lock(engine):
        pass


def test_garde_retention_sweep_while_another_runs_exits_clearly_and_changes_nothing(
        deployment: Deployment) -> None:  # noqa: F811
    before = snapshot(deployment.shop)
    args = ["retention", "sweep", "--inline", "--datasets", str(DATASET), "--today", TODAY.isoformat(),
            "--quiet"]
    with held_elsewhere(deployment.store.url.render_as_string(hide_password=False)) as child:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "a retention sweep is already running" in result.output.replace("\n", " ")
        assert f"pid {child.pid}" in result.output.replace("\n", " ")
        assert snapshot(deployment.shop) == before
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert snapshot(deployment.shop) == expected_by_python(before)
