"""What garde deletes or overwrites in a SQLite file is gone from the file's bytes, not only from
its tables: anyone given a copy of the store (a backup, a support ticket, a stolen laptop) reads
free pages and the write-ahead log as easily as rows. Deleted and overwritten content is zeroed
(``secure_delete``), and after an erasure the log is emptied (``empty_journal``)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.rights.tables import requests
from garde.store import connect, empty_journal, migrate
from tests.leftovers import in_files, spellings

ADDRESS = "zoe.erasable@example.org"


def test_a_deleted_or_overwritten_value_is_left_in_no_byte_of_the_store(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(engine)
    values = spellings({"email": ADDRESS, "other": "paul.overwritten@example.org"})
    try:
        with engine.begin() as conn:
            for n, identity in enumerate((ADDRESS, "paul.overwritten@example.org")):
                conn.execute(requests.insert().values(
                    id=f"00000000-0000-4000-8000-00000000000{n}", type="access", status="received",
                    identities=f'{{"email": "{identity}"}}', identity_hashes="{}", language="en",
                    details="{}", received_at=datetime.now(UTC), deadline=date(2027, 1, 1)))
        assert empty_journal(engine)  # both rows written into the database file itself
        assert in_files([tmp_path], values) != []
        with engine.begin() as conn:
            conn.execute(requests.delete().where(requests.c.id.like("%0")))
            conn.execute(requests.update().values(identities=None))  # as a closed request's
        assert empty_journal(engine)
        assert in_files([tmp_path], values) == []
    finally:
        engine.dispose()


def test_a_reader_keeping_the_log_delays_the_erasure_s_end_two_seconds_at_most(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(engine)
    try:
        with engine.connect() as reader:
            reader.exec_driver_sql("BEGIN")
            reader.exec_driver_sql("SELECT count(*) FROM requests").scalar()  # holds its snapshot
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM requests"))  # a write after the reader's snapshot
            started = time.monotonic()
            assert not empty_journal(engine)
            assert time.monotonic() - started < 10
            reader.exec_driver_sql("ROLLBACK")
        assert "a reader kept the write-ahead log" in caplog.text
        assert empty_journal(engine)  # the reader gone, the log is emptied
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()
