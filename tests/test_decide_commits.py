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


# A withdrawal whose process stops itself between the commit word's two moves, just before
# SQLite's commit (``before``) or just after it (``after``): the interpreter's profile hook sees the
# driver's ``commit`` called or returning (no code of garde's replaced), says so and waits to be killed.
PAUSED_IN_COMMIT = """
import sqlite3, sys, time
from datetime import datetime
from garde import consent
from garde.store import connect
engine = connect(sys.argv[1])
stop_on = "c_call" if sys.argv[4] == "before" else "c_return"

def pause(frame, event, arg):
    if event == stop_on and getattr(arg, "__name__", "") == "commit" and isinstance(
            getattr(arg, "__self__", None), sqlite3.Connection):
        print("paused", flush=True)
        time.sleep(600)

with engine.begin() as conn:
    consent.withdraw(conn, sys.argv[2], "newsletter", channel="email", at=datetime.fromisoformat(sys.argv[3]))
    sys.setprofile(pause)
"""


@pytest.mark.parametrize("killed", ["before", "after"])
def test_a_process_killed_mid_commit_leaves_decisions_fast_and_right_again(store: sa.Engine,
                                                                          killed: str) -> None:
    """SIGKILL between the word's two moves, before or after SQLite's commit: the count in flight
    is taken back once the process is gone (its mark names it), decisions see the store as it is
    (the withdrawal committed or not) and are answered on the word again, without statements."""
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    counter = counter_for(str(store.url.database))
    assert counter is not None
    url = store.url.render_as_string(hide_password=False)
    with Counting(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600) as point:
        assert allowed(point, sid) and allowed(point, sid)
        child = subprocess.Popen([sys.executable, "-c", PAUSED_IN_COMMIT, url, sid,
                                  (NOW - timedelta(days=1)).isoformat(), killed], stdout=subprocess.PIPE)
        try:
            assert child.stdout is not None and child.stdout.readline() == b"paused\n"
            assert counter.word(0) & IN_FLIGHT == 1
            before = point.statements
            assert allowed(point, sid) == (killed == "before")  # the store asked: right while in flight
            assert point.statements > before
        finally:
            child.kill()
            child.wait(timeout=60)
            assert child.stdout is not None
            child.stdout.close()
        time.sleep(0.15)  # RECOVER_EVERY: the point looked for gone processes a moment ago
        assert allowed(point, sid) == (killed == "before")
        assert counter.word(0) & IN_FLIGHT == 0  # taken back by itself, the file still there
        before = point.statements
        for _ in range(5):
            assert allowed(point, sid) == (killed == "before")
        assert point.statements == before  # on the word again: no statement
        write(store, sid, "given", 0)  # and a later commit is seen at once
        assert allowed(point, sid)


def test_a_commit_in_flight_of_a_live_process_is_never_taken_back(store: sa.Engine) -> None:
    counter = counter_for(str(store.url.database))
    assert counter is not None
    counter.begin()
    try:
        time.sleep(0.15)
        assert not counter.recover()
        assert counter.word(0) & IN_FLIGHT == 1
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
