"""The buffered AuditWriter: batches, flushes on close and in the background, never drops silently."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from garde import audit
from garde.store import connect, migrate


def count(engine: sa.Engine) -> int:
    """Entries in the log: its rows and the entries of its decision batches (garde.audit.batches)."""
    with engine.connect() as conn:
        return sum(1 for _ in audit.entries(conn))


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
    engine = connect(sqlite_url, create=True)  # not migrated: the write fails
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


def lock_the_log(engine: sa.Engine) -> tuple[Callable[[], None], Callable[[], None]]:
    """Another transaction holding the log's write lock, so the writer has to wait; (hold, release)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database is not None
        raw = sqlite3.connect(database, isolation_level=None, check_same_thread=False)

        def unlock() -> None:
            raw.execute("COMMIT")
            raw.close()

        return (lambda: raw.execute("BEGIN EXCLUSIVE") and None), unlock
    conn = engine.connect()

    def hold() -> None:
        conn.begin()
        conn.execute(sa.text("LOCK TABLE audit_head IN ACCESS EXCLUSIVE MODE"))

    def release() -> None:
        conn.commit()
        conn.close()

    return hold, release


def test_background_writer_does_the_writes_and_keeps_the_order(engine: sa.Engine) -> None:
    hold, release = lock_the_log(engine)
    with engine.begin() as conn:
        audit.record(conn, "register.loaded", {})  # the head row exists before the lock
    hold()
    with audit.AuditWriter(engine, batch_size=5, max_delay=30, flush_at_exit=False) as writer:
        started = time.monotonic()
        for i in range(12):  # two full batches go to the writer, which waits for the lock
            writer.add(audit.Event("decision", {"i": i}))
        waited = time.monotonic() - started
        pending = writer.pending
        release()
        # the writer may commit its two waiting batches before flush() takes the state: flush() sees
        # the rest committed, and the writer all twelve
        assert 2 <= writer.flush() <= 12
        assert writer.written == 12
        assert writer.pending == 0
    assert waited < 1, "add() must not wait for a write"
    assert pending == 12
    with engine.connect() as conn:
        assert [e["payload"]["i"] for e in audit.entries(conn, kind="decision")] == list(range(12))
        assert audit.verify(conn) == audit.Verification(True, 13)


def test_a_full_queue_makes_add_wait(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, "register.loaded", {})
    hold, release = lock_the_log(engine)
    hold()
    writer = audit.AuditWriter(engine, batch_size=2, max_delay=30, flush_at_exit=False, max_queued=2)
    # the writer takes one batch and waits for the lock; two more fill the queue; the next add waits
    for i in range(6):
        writer.add(audit.Event("decision", {"i": i}))
    blocked = threading.Thread(target=lambda: [writer.add(audit.Event("decision", {"i": i}))
                                               for i in range(6, 8)])
    blocked.start()
    blocked.join(0.5)
    assert blocked.is_alive(), "add() must wait while the queue is full"
    assert writer.pending <= (2 + 1 + 1) * 2
    release()
    blocked.join(30)
    assert not blocked.is_alive()
    writer.close()
    with engine.connect() as conn:
        assert [e["payload"]["i"] for e in audit.entries(conn, kind="decision")] == list(range(8))
        assert audit.verify(conn).ok


def test_a_background_failure_is_raised_on_the_next_call_and_nothing_is_lost(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)  # not migrated: the writer's writes fail
    # the writer retries a failed batch after max_delay: long enough here that it does not fail
    # again, and report that, while the test migrates the store (it did on a loaded CI machine)
    writer = audit.AuditWriter(engine, batch_size=2, max_delay=30, flush_at_exit=False)
    writer.add(audit.Event("decision", {"i": 1}))
    writer.add(audit.Event("decision", {"i": 2}))  # handed to the writer: no error here
    with pytest.raises(sa.exc.OperationalError):
        writer.flush()
    assert writer.pending == 2
    migrate(engine)
    writer.add(audit.Event("decision", {"i": 3}))
    writer.close()
    with engine.connect() as conn:
        assert [e["payload"]["i"] for e in audit.entries(conn)] == [1, 2, 3]
    engine.dispose()


def test_concurrent_threads_share_one_chain(engine: sa.Engine) -> None:
    threads, each = 6, 300
    with audit.AuditWriter(engine, batch_size=50, max_delay=0.05, flush_at_exit=False) as writer:
        def decide(thread: int) -> None:
            for i in range(each):
                writer.add(audit.Event("decision", {"thread": thread, "i": i}))
                if i % 100 == 0:
                    with engine.begin() as conn:  # an audited consent in its own transaction
                        audit.record(conn, "consent.given", {"thread": thread, "i": i})

        workers = [threading.Thread(target=decide, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.Verification(True, threads * each + threads * 3)
        seen: dict[int, list[int]] = {}
        for entry in audit.entries(conn, kind="decision"):
            seen.setdefault(entry["payload"]["thread"], []).append(entry["payload"]["i"])
    assert seen == {t: list(range(each)) for t in range(threads)}
