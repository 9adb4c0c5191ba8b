"""The buffered AuditWriter: batches, flushes on close and in the background, never drops silently."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from garde import audit
from garde.store import connect, migrate


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = connect(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit.audit_log)).scalar_one())


def test_writes_in_batches_and_on_close_in_order(engine: sa.Engine) -> None:
    writer = audit.AuditWriter(engine, batch_size=4, max_delay=None, flush_at_exit=False)
    for i in range(10):
        writer.add(audit.Event("decision", {"i": i}))
    assert (count(engine), writer.pending) == (8, 2)
    writer.close()
    with engine.connect() as conn:
        assert [e["payload"]["i"] for e in audit.entries(conn)] == list(range(10))
        assert audit.verify(conn) == audit.Verification(True, 10)
    with pytest.raises(RuntimeError):
        writer.add(audit.Event("decision", {}))


def test_background_flush_after_max_delay(engine: sa.Engine) -> None:
    with audit.AuditWriter(engine, batch_size=1000, max_delay=0.05, flush_at_exit=False) as writer:
        writer.add(audit.Event("decision", {"i": 1}))
        deadline = time.monotonic() + 10
        while writer.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        assert count(engine) == 1


def test_a_failed_write_keeps_the_entries_and_raises(sqlite_url: str) -> None:
    engine = connect(sqlite_url)  # not migrated: the write fails
    writer = audit.AuditWriter(engine, batch_size=2, max_delay=None, flush_at_exit=False)
    writer.add(audit.Event("decision", {"i": 1}))
    with pytest.raises(sa.exc.OperationalError):
        writer.add(audit.Event("decision", {"i": 2}))
    assert writer.pending == 2
    migrate(engine)
    writer.close()
    assert count(engine) == 2
    engine.dispose()


def test_record_and_writer_interleave_on_one_chain(engine: sa.Engine) -> None:
    with audit.AuditWriter(engine, batch_size=3, max_delay=None, flush_at_exit=False) as writer:
        for i in range(7):
            writer.add(audit.Event("decision", {"i": i}))
            if i % 2:
                with engine.begin() as conn:
                    audit.record(conn, "consent.given", {"i": i})
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.Verification(True, 10)
