"""A SQLite store's commit counter (garde.store.commits): a decision on kept facts asks the store
nothing while no commit was made, and still sees every write committed before it started through
garde, in this process or another; a write that bypasses garde is seen within
``outside_writes_within``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.audit import ProcessAuditWriter
from garde.decide import DecisionPoint
from garde.store import connect, migrate
from garde.store.commits import IN_FLIGHT, counter_for
from tests.decide_support import Counting
from tests.test_decide import NOW, register
from tests.test_decide_buckets import new_subjects, write


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = connect(f"sqlite:///{tmp_path}/garde.db", create=True)
    migrate(engine)
    yield engine
    engine.dispose()


def allowed(point: DecisionPoint, sid: str) -> bool:
    return point.decide("newsletter", sid, ["contact.email"], "email").allowed


def test_a_kept_decision_asks_the_store_nothing_until_a_commit(store: sa.Engine) -> None:
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    with Counting(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600) as point:
        assert allowed(point, sid)  # read, the commit word noted with the facts
        before = point.statements
        for _ in range(5):
            assert allowed(point, sid)
        assert point.statements == before  # the commit word alone
        write(store, sid, "withdrawn", 1)  # this process, another connection
        assert not allowed(point, sid)
        assert point.statements > before


WITHDRAW = """
import sys
from datetime import datetime
from garde import consent
from garde.store import connect
engine = connect(sys.argv[1])
with engine.begin() as conn:
    consent.withdraw(conn, sys.argv[2], "newsletter", channel="email", at=datetime.fromisoformat(sys.argv[3]))
engine.dispose()
"""


def test_a_write_in_another_process_is_seen_by_the_next_decision(store: sa.Engine) -> None:
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    with Counting(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600) as point:
        assert allowed(point, sid) and allowed(point, sid) and allowed(point, sid)
        before = point.statements
        assert allowed(point, sid) and point.statements == before  # on the commit word
        url = store.url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-c", WITHDRAW, url, sid, (NOW - timedelta(days=1)).isoformat()],
                       check=True, timeout=120)
        assert not allowed(point, sid)


def test_a_write_that_bypasses_garde_is_seen_within_the_window(store: sa.Engine) -> None:
    """The ``sqlite3`` module alone (another program): its commit does not move the word; the
    point's look at the store's counters catches it, at most ``outside_writes_within`` later."""
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    database = store.url.database
    assert database is not None
    elsewhere = connect(f"sqlite:///{database}")
    slow = DecisionPoint(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600)
    quick = DecisionPoint(register(), elsewhere, audit=False, clock=lambda: NOW, outside_writes_within=0.2)
    with slow, quick:
        for point in (slow, quick):
            assert allowed(point, sid) and allowed(point, sid) and allowed(point, sid)
        word = counter_for(database)
        assert word is not None
        before = word.word(0)
        plain = sqlite3.connect(database)
        with plain:  # the migration's triggers count it in the subject's bucket
            plain.execute("UPDATE subjects SET state = 'erased' WHERE id = ?", (sid,))
        plain.close()
        assert word.word(0) == before
        assert allowed(slow, sid)  # within the hour: the word says nothing was committed
        time.sleep(0.25)
        assert not allowed(quick, sid)
    elsewhere.dispose()


def test_the_audit_writers_appends_do_not_move_the_word(store: sa.Engine) -> None:
    sid, = new_subjects(store, ("abc",))
    counter = counter_for(str(store.url.database))
    assert counter is not None
    writer = ProcessAuditWriter(store, batch_size=2)
    with DecisionPoint(register(), store, audit=writer, clock=lambda: NOW) as point:
        point.decide("orders", sid)
        before = counter.word(0)
        for _ in range(6):
            point.decide("orders", sid)
        assert writer.flush() > 0
        assert counter.word(0) == before
    writer.close()


def test_a_commit_in_flight_sends_every_decision_to_the_store(store: sa.Engine) -> None:
    """A process killed between a commit's two moves leaves the count in flight above 0: decisions
    ask the store each time (right, and as slow as without the counter)."""
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    counter = counter_for(str(store.url.database))
    assert counter is not None
    counter.begin()  # and never its end
    try:
        assert counter.word(0) & IN_FLIGHT == 1
        with Counting(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600) as point:
            assert allowed(point, sid) and allowed(point, sid) and allowed(point, sid)
            before = point.statements
            for _ in range(3):
                assert allowed(point, sid)
            assert point.statements == before + 3
    finally:
        counter.end()
    assert counter.word(0) & IN_FLIGHT == 0


def test_decide_many_on_kept_facts_asks_the_store_nothing_until_a_commit(store: sa.Engine) -> None:
    sids = new_subjects(store)
    for sid in sids:
        write(store, sid, "given", 5)
    asked = [("newsletter", sid, ["contact.email"], "email") for sid in sids]
    with Counting(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600) as point:
        assert all(d.allowed for d in point.decide_many(asked))  # read, the word noted
        before = point.statements
        assert all(d.allowed for d in point.decide_many(asked))
        assert point.statements == before
        write(store, sids[2], "withdrawn", 1)
        assert [d.allowed for d in point.decide_many(asked)] == [True, True, False]
        assert point.statements > before
