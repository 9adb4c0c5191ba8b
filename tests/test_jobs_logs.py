"""A worker's log of a job that failed on a database error quotes no value of the row.

procrastinate logs a failed job with its exception, and psycopg's message of a refused row carries
PostgreSQL's ``DETAIL: Failing row contains (…)``: every value of the row, in the worker's log (kept,
shipped, read by people who are not the DPO). Request runs said their error without it; the other
jobs (imports, sweeps, exports, reminders) did not. Here a consent import is refused by a constraint
on ``consent_events`` through a real ``garde worker``, and its log is read.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.jobs import queue_app
from garde.jobs.staging import stage
from tests.jobs_support import garde_worker, wait_for_job
from tests.test_jobs_forged import forging  # noqa: F401

AGENT = "QvMozilla ana.lima@example.org vQ"
CSV = f"email,activity,action,at,user_agent\nana.lima@example.org,newsletter,given,2025-01-02,{AGENT}\n"


@pytest.mark.postgres
def test_a_job_refused_by_a_constraint_logs_no_value_of_the_row(
        migrated_postgres_url: str, tmp_path: Path, forging: tuple[dict[str, str], sa.Engine, str]) -> None:  # noqa: F811
    env, store, _ = forging
    with store.begin() as conn:
        conn.execute(sa.text("ALTER TABLE consent_events ADD CONSTRAINT no_agents "
                             "CHECK (user_agent NOT LIKE 'Qv%')"))
    export = tmp_path / "agents.csv"
    export.write_text(CSV, encoding="utf-8")
    staged = stage(store, export)
    app = queue_app(migrated_postgres_url)
    with app.open():
        job_id = app.configure_task("consent.import", queue="imports").defer(
            staged=staged, name="agents.csv", source="crm", columns={})
    log = tmp_path / "worker.log"
    with garde_worker(migrated_postgres_url, log, env=env):
        assert wait_for_job(migrated_postgres_url, job_id) == "failed", log.read_text()
    said = log.read_text()
    assert "CheckViolation" in said and "no_agents" in said, said  # what went wrong is still said
    assert 'File "' in said  # and where
    for personal in ("ana.lima", AGENT, "Failing row"):
        assert personal not in said, said


def test_every_log_line_of_a_database_error_is_cleaned_in_the_process(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """One place for every logger of the process (garde's, procrastinate's, uvicorn's): a record made
    with a database error (as ``exc_info`` or an argument) carries its :func:`database_refusal`, on
    SQLite too (a trigger's words are not kept)."""
    from garde.store.logs import install_cleaning

    install_cleaning()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", hide_parameters=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE said (a text)"))
        conn.execute(sa.text("CREATE TRIGGER refusing BEFORE INSERT ON said "
                             "BEGIN SELECT RAISE(ABORT, 'refused ana.lima@example.org'); END"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO said VALUES ('x')"))
    except sa.exc.IntegrityError as refused:
        error = refused
    engine.dispose()
    logger = logging.getLogger("procrastinate.worker.test")
    with caplog.at_level(logging.INFO):
        logger.error("Job failed", exc_info=error)
        logger.warning("it failed: %s", error)
        try:
            raise RuntimeError("wrapped") from error
        except RuntimeError:
            logging.getLogger("garde.test").exception("unexpected")
    text = "\n".join(logging.Formatter().format(record) for record in caplog.records)
    assert "ana.lima" not in text, text
    # the driver's error and SQLAlchemy's raised from it, each said once per record: 2 + 1 + 2
    assert text.count("refused by a trigger of the database") == 5, text


def test_a_database_errors_text_written_into_a_message_is_withheld(
        engine: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A database error's text put in the message itself (an f-string, ``.format``: ruff's G rules
    refuse both in garde's code) or passed as ``str(error)`` is recognised by SQLAlchemy's and the
    driver's marks (``[SQL: …]``, its background link, PostgreSQL's ``DETAIL:``) and withheld, its class
    kept, on SQLite and PostgreSQL. Before, the record carried the statement's parameters and the row."""
    from garde.store.logs import install_cleaning

    install_cleaning()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE said_once (email varchar(80) UNIQUE)"))
        conn.execute(sa.text("INSERT INTO said_once VALUES ('ana.lima@example.org')"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO said_once VALUES (:email)"), {"email": "ana.lima@example.org"})
    except sa.exc.IntegrityError as refused:
        error = refused
    if engine.dialect.name == "postgresql":  # SQLite's engines hide the parameters: its text quotes none
        assert "ana.lima" in str(error)  # what a careless line would log
    logger = logging.getLogger("garde.test")
    with caplog.at_level(logging.INFO):
        logger.warning(f"it failed: {error}")  # noqa: G004 (the mistake the rule forbids, made on purpose)
        logger.warning("it failed: {}".format(error))  # noqa: G001, UP032
        logger.warning("it failed: %s", str(error))
        logger.warning("it failed again: %(error)s", {"error": str(error)})
        driver = error.orig
        logger.warning("the driver said: %s", str(driver))
    text = "\n".join(logging.Formatter().format(record) for record in caplog.records)
    assert "ana.lima" not in text, text
    assert text.count("IntegrityError") + text.count("UniqueViolation") >= 4, text
    assert text.count("it failed") == 4 and "the driver said" in text, text
