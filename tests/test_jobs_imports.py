"""``garde consent import --job``: the CSV staged in the store encrypted, imported by whoever runs the
job (a ``garde worker`` process on PostgreSQL, the command itself on SQLite), then deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from garde.cli import app
from garde.jobs.staging import job_staging
from garde.settings import get_settings
from garde.store import open_store
from tests.jobs_support import garde_worker, wait_for_job

ROOT = Path(__file__).resolve().parents[1]
CSV = ("email,activity,action,at\nimported-ana@example.com,newsletter,given,2025-01-02\n"
       "imported-bob@example.com,newsletter,given,not a date\n")


@pytest.fixture
def settings(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = {"GARDE_DATABASE_URL": migrated_url, "GARDE_RETENTION_SWEEP_SCHEDULE": "",
           "GARDE_REGISTERS": str(ROOT / "registers" / "reference-shop.yaml")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def _count(store: sa.Engine, sql: str) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def _import_job(tmp_path: Path) -> Result:
    """``garde consent import export.csv --job``: queued on PostgreSQL, run at once on SQLite."""
    export = tmp_path / "export.csv"
    export.write_text(CSV, encoding="utf-8")
    return CliRunner().invoke(app, ["consent", "import", str(export), "--job"])


def _job_id(result: Result) -> int:
    assert result.exit_code == 0, result.output
    return int(result.output.split("queued as job ")[1].split(":")[0])


def test_a_consent_import_job_imports_the_staged_file_then_deletes_it(
        settings: dict[str, str], migrated_url: str, tmp_path: Path) -> None:
    result = _import_job(tmp_path)
    store = open_store(migrated_url)
    try:
        if migrated_url.startswith("postgresql"):
            job_id = _job_id(result)
            with store.connect() as conn:
                chunks = conn.execute(sa.select(job_staging.c.chunk)).scalars().all()
            assert chunks and all(b"imported-ana" not in chunk for chunk in chunks)  # encrypted
            assert _count(store, "SELECT count(*) FROM consent_events") == 0
            log = tmp_path / "worker.log"
            with garde_worker(migrated_url, log, env=settings):
                assert wait_for_job(migrated_url, job_id) == "succeeded", log.read_text()
            assert "1 added" in log.read_text()
        else:  # inline: the report, and exit status 1 for the refused row, as without --job
            assert result.exit_code == 1, result.output
            assert "1 events added" in result.output and "1 rows refused" in result.output
        assert _count(store, "SELECT count(*) FROM consent_events") == 1
        assert _count(store, "SELECT count(*) FROM job_staging") == 0
    finally:
        store.dispose()
    refused = CliRunner().invoke(app, ["consent", "import", str(tmp_path / "export.csv"), "--job", "--format",
                                       "json"])
    assert refused.exit_code == 2 and "--job" in refused.output


def test_cancelling_a_consent_import_job_deletes_its_staged_file(settings: dict[str, str], migrated_url: str,
                                                                 tmp_path: Path) -> None:
    """A cancelled import never runs: its encrypted rows (identities) would stay in job_staging for ever.
    (On SQLite the import runs inline and nothing is staged after it.)"""
    result = _import_job(tmp_path)
    store = open_store(migrated_url)
    try:
        if migrated_url.startswith("postgresql"):
            job_id = _job_id(result)
            assert _count(store, "SELECT count(*) FROM job_staging") == 1
            cancelled = CliRunner().invoke(app, ["jobs", "cancel", str(job_id), "--actor", "dpo@example.com"])
            assert cancelled.exit_code == 0, cancelled.output
        assert _count(store, "SELECT count(*) FROM job_staging") == 0
    finally:
        store.dispose()


def test_a_consent_import_job_logs_no_identity_of_the_rows_it_refuses(
        settings: dict[str, str], migrated_url: str, tmp_path: Path) -> None:
    """The worker's log (kept, shipped to log systems) said why each row was refused, quoting it: a
    mistyped e-mail address is still someone's. The log and the job's result name the lines and the
    reasons, never the values; the command run where the file is says it all."""
    export = tmp_path / "export.csv"
    export.write_text("email,activity,action,at\nimported-ana@example.com,newsletter,given,2025-01-02\n"
                      "cleo.secret@,newsletter,given,2025-01-02\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["consent", "import", str(export), "--job"])
    if not migrated_url.startswith("postgresql"):  # inline: told on the operator's own terminal
        assert "1 rows refused" in result.output
        return
    log = tmp_path / "worker.log"
    with garde_worker(migrated_url, log, env=settings):
        assert wait_for_job(migrated_url, _job_id(result)) == "succeeded", log.read_text()
    said = log.read_text()
    assert "1 added" in said and "line 3" in said and "not an e-mail address" in said
    assert "cleo.secret" not in said and "imported-ana" not in said
