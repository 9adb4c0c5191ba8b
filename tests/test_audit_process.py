"""The AuditWriter whose batches are written by a child process: same chain, same guarantees."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from garde import audit
from garde.audit.batch_reading import ordered_entries
from garde.settings import get_settings
from garde.store import connect, migrate


def decisions(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return [e["payload"]["i"] for e in audit.entries(conn, kind="decision")]


def test_the_child_writes_the_batches_in_order_on_one_chain(engine: sa.Engine) -> None:
    with audit.ProcessAuditWriter(engine, batch_size=7, max_delay=30, flush_at_exit=False) as writer:
        sink = writer._child
        assert isinstance(sink, audit._ChildSink)  # a child process, not this one's connection
        for i in range(40):
            writer.add(audit.Event("decision", {"i": i, "at": "2026-01-01"}, subject_id=f"s{i % 3}"))
            if i % 9 == 0:
                with engine.begin() as conn:  # an audited consent in its own transaction
                    audit.record(conn, "consent.given", {"i": i})
        writer.flush()
        assert writer.pending == 0
    assert decisions(engine) == list(range(40))
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.Verification(True, 45)


def test_a_partial_batch_is_written_after_max_delay(engine: sa.Engine) -> None:
    with audit.ProcessAuditWriter(engine, batch_size=1000, max_delay=0.05, flush_at_exit=False) as writer:
        writer.add(audit.Event("decision", {"i": 1}))
        deadline = time.monotonic() + 20
        while writer.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.pending == 0
    assert decisions(engine) == [1]


@pytest.fixture
def rows_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ``audit_batch_rows`` setting off: the writer appends a row an entry, as before 0037."""
    monkeypatch.setenv("GARDE_AUDIT_BATCH_ROWS", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("GARDE_AUDIT_BATCH_ROWS")
    get_settings.cache_clear()


@pytest.mark.usefixtures("rows_only")
def test_hashes_are_the_same_as_written_in_process(tmp_path: Path) -> None:
    """The child's rows, hashes included, are those record_many writes for the same entries (a row an
    entry: the ``audit_batch_rows`` setting off; the batch rows' are compared in test_audit_batches)."""
    rows = []
    for name, writer_class in (("child", audit.ProcessAuditWriter), ("here", audit.AuditWriter)):
        engine = connect(f"sqlite:///{tmp_path}/{name}.db", create=True)
        migrate(engine)
        with writer_class(engine, batch_size=5, max_delay=30, flush_at_exit=False) as writer:
            for i in range(5):
                writer.add(audit.Event("decision", {"i": i, "é": [None, True, 1.5], "b": {"z": "\"\\"}}))
            writer.flush()
        with engine.connect() as conn:
            rows.append([(e["seq"], e["kind"], e["payload"]) for e in audit.entries(conn)])
            ats = {e["at"] for e in audit.entries(conn)}
            at = ats.pop()
            recomputed = audit.GENESIS
            for e in audit.entries(conn):
                payload = audit.canonical_payload(e["payload"])
                recomputed = audit.entry_hash(e["seq"], at, e["kind"], None, "garde", payload, recomputed)
                assert recomputed == e["hash"]
        engine.dispose()
    assert rows[0] == rows[1]


def test_a_payload_queued_in_parts_is_written_as_its_joined_json(tmp_path: Path) -> None:
    """A decision point queues its payload as (head, time, tail); the child and this process both
    store and hash ``head + JSON string of time.isoformat() + tail`` (a str time as it is), the
    bytes of the whole payload."""
    head, tail = '{"activity":"news\\"letter","allowed":true,"at":', ',"reasons":["é"]}'
    times = [datetime(2026, 12, 6, 5, 0, 0, 1, tzinfo=UTC), "2026-12-06T05:00:01+00:00",
             datetime(2026, 12, 6, 6, 0, 1, tzinfo=timezone(timedelta(hours=1)))]
    for name, writer_class in (("child", audit.ProcessAuditWriter), ("here", audit.AuditWriter)):
        engine = connect(f"sqlite:///{tmp_path}/{name}.db", create=True)
        migrate(engine)
        with writer_class(engine, batch_size=3, max_delay=30, flush_at_exit=False) as writer:
            for at in times:
                writer.add_entry("decision", (head, at, tail), "s1", "garde")
            writer.flush()
        with engine.connect() as conn:  # the payloads' stored text, in rows or in decision batches
            stored = [row.payload for row in conn.execute(sa.select(audit.audit_log.c.payload)
                                                          .order_by(audit.audit_log.c.seq))]
            stored += [entry["payload"] for entry in ordered_entries(conn)]
            texts = [at if isinstance(at, str) else at.isoformat() for at in times]
            assert stored == [f'{head}"{text}"{tail}' for text in texts]
            assert audit.verify(conn) == audit.Verification(True, 3)
        engine.dispose()


@settings(max_examples=200, derandomize=True)
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=30), st.none() | st.text(max_size=8),
                          st.text(max_size=8)), max_size=6),
       st.text(max_size=70))
def test_a_batchs_hashes_are_each_entrys_canonical_hash(items: list[tuple[str, str, str | None, str]],
                                                        prev: str) -> None:
    """The batch's chain (what repeats quoted once) gives each entry the hash entry_hash() gives it,
    whatever the kinds, actors, subjects, payloads and the head's hash hold."""
    rows = audit._chain(items, 41, prev, "2026-12-06T05:00:00.000000Z")
    for (seq, at, kind, subject, actor, payload, before, digest, _seal) in rows:
        assert digest == audit.entry_hash(seq, at, kind, subject, actor, payload, before)
        assert before == prev
        prev = digest


def test_a_failure_in_the_child_is_raised_on_the_next_call_and_nothing_is_lost(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)  # not migrated: the child's writes fail
    writer = audit.ProcessAuditWriter(engine, batch_size=2, max_delay=0.05, flush_at_exit=False)
    writer.add(audit.Event("decision", {"i": 1}))
    writer.add(audit.Event("decision", {"i": 2}))  # handed to the child: no error here
    with pytest.raises(sa.exc.OperationalError):
        writer.flush()
    assert writer.pending == 2
    migrate(engine)
    writer.add(audit.Event("decision", {"i": 3}))
    writer.add(audit.Event("decision", {"i": 4}))
    writer.close()
    assert decisions(engine) == [1, 2, 3, 4]
    engine.dispose()


def test_a_killed_child_is_an_error_then_a_new_child_writes(engine: sa.Engine) -> None:
    writer = audit.ProcessAuditWriter(engine, batch_size=2, max_delay=0.05, flush_at_exit=False)
    sink = writer._child
    assert isinstance(sink, audit._ChildSink)
    sink.process.kill()
    sink.process.wait()
    writer.add(audit.Event("decision", {"i": 1}))
    writer.add(audit.Event("decision", {"i": 2}))
    with pytest.raises((RuntimeError, OSError)):
        writer.flush()
    writer.add(audit.Event("decision", {"i": 3}))
    writer.add(audit.Event("decision", {"i": 4}))
    deadline = time.monotonic() + 30
    while True:  # the next attempt (every max_delay) starts a new child
        try:
            writer.flush()
            break
        except (RuntimeError, OSError):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    writer.close()
    assert decisions(engine) == [1, 2, 3, 4]
    with engine.connect() as conn:
        assert audit.verify(conn).ok


class Opaque:
    """A payload value that pickles here but whose class the child cannot import."""

    def __str__(self) -> str:
        return "opaque"


def test_payloads_the_child_cannot_read_are_sent_as_their_canonical_json(engine: sa.Engine) -> None:
    with audit.ProcessAuditWriter(engine, batch_size=2, max_delay=30, flush_at_exit=False) as writer:
        writer.add(audit.Event("decision", {"i": 1, "x": Opaque()}))
        writer.add(audit.Event("decision", {"i": 2, "x": lambda: None}))  # does not even pickle
        writer.flush()
    with engine.connect() as conn:
        found = list(audit.entries(conn))
        assert audit.verify(conn).ok
    assert found[0]["payload"] == {"i": 1, "x": "opaque"}
    assert found[1]["payload"]["i"] == 2


def test_in_memory_sqlite_is_written_in_this_process() -> None:
    engine = connect("sqlite://")
    migrate(engine)
    with audit.ProcessAuditWriter(engine, batch_size=2, max_delay=30, flush_at_exit=False) as writer:
        assert writer._in_process
        for i in range(3):
            writer.add(audit.Event("decision", {"i": i}))
    assert decisions(engine) == [0, 1, 2]
    engine.dispose()


def test_without_max_delay_batches_are_written_by_the_caller(engine: sa.Engine) -> None:
    writer = audit.ProcessAuditWriter(engine, batch_size=2, max_delay=None, flush_at_exit=False)
    for i in range(3):
        writer.add(audit.Event("decision", {"i": i}))
    assert writer.pending == 1
    writer.close()
    assert decisions(engine) == [0, 1, 2]
