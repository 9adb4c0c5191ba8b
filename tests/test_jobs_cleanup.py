"""The queue's hygiene on PostgreSQL: finished jobs older than the keep period deleted, with their
history and the consent files staged for them, by the daily periodic job (and ``garde jobs prune``);
waiting jobs and recent ones kept; each run audited once with its count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.cli.schemas import COMMANDS
from garde.jobs import queue_app, submit
from garde.jobs.builtin import ping
from garde.jobs.listing import cancel_job
from garde.jobs.periodic import PERIODIC, schedules
from garde.jobs.staging import job_staging, stage
from garde.private_files import private_folder
from garde.settings import Settings, get_settings
from garde.store import open_store
from tests.jobs_support import garde_worker, wait_for_job

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres


@pytest.fixture
def env(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"GARDE_REGISTERS": str(ROOT / "registers" / "reference-shop.yaml"),
              "GARDE_DATABASE_URL": postgres_url, "GARDE_RETENTION_SWEEP_SCHEDULE": "",
              "GARDE_REMINDER_SCHEDULE": "", "GARDE_AUDIT_HEAD_SCHEDULE": "",
              "GARDE_JOBS_CLEANUP_SCHEDULE": "", "GARDE_JOBS_STALLED_SCHEDULE": "",
              "TMPDIR": str(private_folder(tmp_path / "tmp"))}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _age(store: sa.Engine, jobs: list[int], days: int) -> None:
    """Make the jobs' history ``days`` older, as if they had ended then."""
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE procrastinate_events SET at = at - make_interval(days => :days) "
                             "WHERE job_id = ANY(:jobs)"), {"days": days, "jobs": jobs})


def _remaining(store: sa.Engine) -> set[int]:
    with store.connect() as conn:
        return set(conn.execute(sa.text("SELECT id FROM procrastinate_jobs")).scalars())


def test_finished_jobs_older_than_the_keep_period_are_deleted_by_the_daily_job(
        postgres_url: str, env: dict[str, str], tmp_path: Path) -> None:
    """They used to be kept for ever, with their arguments (request ids, file names) and history."""
    store = open_store(postgres_url)
    try:
        export = tmp_path / "export.csv"
        export.write_text("email,activity,action,at\nana@example.com,newsletter,given,2025-01-02\n",
                          encoding="utf-8")
        staged_for_failed, staged_alone = stage(store, export), stage(store, export)
        old_ok = submit(store, ping, {"message": "old"}).job_id
        new_ok = submit(store, ping, {"message": "new"}).job_id
        old_failed = submit(store, ping, {"unknown": 1}).job_id  # fails: no such argument
        old_cancelled = submit(store, ping, {"message": "cancel me"}).job_id
        assert old_ok and new_ok and old_failed and old_cancelled
        cancel_job(store, old_cancelled, actor="dpo")
        with queue_app(postgres_url).open() as queue:  # an import that fails for good: its file is kept
            import_failed = queue.configure_task("consent.import", queue="imports").defer(
                staged=staged_for_failed, name="../x.csv", source="s", columns={})
        log = tmp_path / "worker.log"
        with garde_worker(postgres_url, log, env=env):
            for finished, status in ((old_ok, "succeeded"), (new_ok, "succeeded"), (old_failed, "failed"),
                                     (import_failed, "failed")):
                assert wait_for_job(postgres_url, finished) == status, log.read_text()
        waiting = submit(store, ping, {"message": "waits"}).job_id  # no worker: stays todo, however old
        assert waiting
        _age(store, [old_ok, old_failed, old_cancelled, import_failed, waiting], days=31)
        _age(store, [new_ok], days=29)

        assert Settings.model_fields["jobs_cleanup_schedule"].default == "15 3 * * *"  # daily, by default
        assert ("jobs.prune", "15 3 * * *") in [(p.name, cron) for p, cron in schedules(
            Settings(jobs_cleanup_schedule="15 3 * * *"))]
        daily = {p.name: p.resolve() for p in PERIODIC}["jobs.prune"]
        assert daily(store) == {"days": 30, "jobs": 4, "staged_files": 1}
        assert _remaining(store) == {new_ok, waiting}
        with store.connect() as conn:
            events = sa.text("SELECT count(*) FROM procrastinate_events WHERE NOT job_id = ANY(:j)")
            assert conn.execute(events, {"j": [new_ok, waiting]}).scalar_one() == 0
            assert set(conn.execute(sa.select(job_staging.c.staged)).scalars()) == {staged_alone}
            pruned = [(e["actor"], e["payload"]) for e in audit.entries(conn) if e["kind"] == "job.pruned"]
        assert pruned == [("garde worker", {"days": 30, "jobs": 4, "staged_files": 1})]

        assert daily(store)["jobs"] == 0  # nothing more: the recent and the waiting job stay
        assert _remaining(store) == {new_ok, waiting}

        runner = CliRunner()
        result = runner.invoke(app, ["jobs", "prune", "--days", "1", "--actor", "ops", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"days": 1, "jobs": 1, "staged_files": 0}
        COMMANDS["jobs prune"].model.model_validate_json(result.stdout)
        assert _remaining(store) == {waiting}
        with store.connect() as conn:
            pruned = [(e["actor"], e["payload"]["jobs"]) for e in audit.entries(conn, kind="job.pruned")]
            assert audit.verify(conn).ok
        assert pruned == [("garde worker", 4), ("garde worker", 0), ("ops", 1)]
    finally:
        store.dispose()
