"""Writers of several subjects at once on PostgreSQL: transactions writing overlapping subjects in
different orders all commit (no deadlock on the bucket counters, SQLSTATE 40P01), and decisions
see every write they made.

Each write to a table decisions read counts in its subjects' buckets (garde.decide.freshness).
Counted row by row as the rows were written, two transactions writing subjects A then B and B then
A each held one bucket row and waited for the other's. The counters are now added at commit, in
the buckets' order: a transaction holds no bucket row while it works.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from garde import consent, subjects
from garde.consent.importing import import_rows
from garde.decide import DecisionPoint
from garde.decide.freshness import subject_bucket
from garde.store import connect, migrate
from tests.test_decide import NOW, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = connect(migrated_postgres_url, create=True, pool_size=8)
    migrate(engine)
    yield engine
    engine.dispose()


def _people(store: sa.Engine, count: int) -> list[str]:
    """``count`` subjects (each with the e-mail ``<n>@example.com``), each id in a bucket of its own."""
    made = []
    with store.begin() as conn:
        for n in range(count):
            sid = uuid.uuid4().hex[:29] + f"{n:03x}"
            conn.execute(subjects.subjects.insert().values(id=sid, state="active",
                                                           created_at=NOW - timedelta(days=30)))
            subjects.link_identifiers(conn, sid, [("email", f"{n}@example.com")])
            made.append(sid)
    return made


def _waiting_on_a_lock(store: sa.Engine, pid: int) -> bool:
    with store.connect() as conn:
        return conn.execute(sa.text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                            {"pid": pid}).scalar() is True


def _until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition`` holds (each state it waits for comes, or the test hangs: no timing)."""
    while not condition():
        time.sleep(0.01)


def test_two_transactions_consenting_for_two_subjects_in_opposite_orders_both_commit(
        store: sa.Engine) -> None:
    """A gives for A then B; B's transaction gives for B then A in between: the second write of the
    first waits (the audit head, or before the fix a bucket) while the other is under way."""
    a, b = _people(store, 2)
    errors: list[BaseException] = []
    first_wrote, second_pid = threading.Event(), []
    second_done = threading.Event()

    def second() -> None:
        try:
            first_wrote.wait()
            with store.begin() as conn:
                second_pid.append(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                consent.give(conn, b, "newsletter", channel="email")
                consent.give(conn, a, "newsletter", channel="email")
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with store.begin() as conn:
            consent.give(conn, a, "newsletter", channel="email")
            first_wrote.set()
            # the other transaction is under way: it waits on a lock this one holds, or it is done
            _until(lambda: second_done.is_set()
                   or (bool(second_pid) and _waiting_on_a_lock(store, second_pid[0])))
            consent.give(conn, b, "newsletter", channel="email")
    finally:
        first_wrote.set()
        thread.join()
    assert errors == []
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar_one() == 4


def _import_at_once(store: sa.Engine, orders: list[list[int]], email: str) -> list[Any]:
    """One import a thread, all started together, the i-th of people ``orders[i]`` in that order
    (each person's e-mail ``email.format(n)``): the SQLSTATEs (or errors) of those that failed."""
    start = threading.Barrier(len(orders))
    errors: list[BaseException] = []

    def importer(tool: int, order: list[int]) -> None:
        records = [{"id": str(n), "email": email.format(n), "activity": "newsletter", "channel": "email",
                    "action": "given", "at": (NOW - timedelta(days=1, minutes=tool)).isoformat()}
                   for n in order]
        start.wait()
        try:
            report = import_rows(store, records, source=f"tool-{tool}", batch_size=len(order))
            assert report.added == len(order)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=importer, args=(tool, order)) for tool, order in enumerate(orders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [getattr(getattr(e, "orig", None), "sqlstate", None) or repr(e) for e in errors]


def test_imports_of_the_same_subjects_in_different_orders_all_commit_and_decisions_see_them(
        store: sa.Engine) -> None:
    """Four imports at once, each of the same 300 subjects' consents in its own order (forwards,
    backwards, from the middle): every import commits, and a decision point that kept the subjects'
    facts before sees every consent after."""
    people = 300
    sids = _people(store, people)
    with DecisionPoint(register(), store, audit=False, clock=lambda: NOW) as point:
        before = point.decide_many([("newsletter", sid) for sid in sids])
        assert not any(d.allowed for d in before)  # kept: no consent yet
        orders = [list(range(people)), list(reversed(range(people))),
                  list(range(people // 2, people)) + list(range(people // 2)),
                  [n for n in range(people) if n % 2] + [n for n in range(people) if not n % 2]]
        assert _import_at_once(store, orders, "{}@example.com") == []
        after = point.decide_many([("newsletter", sid) for sid in sids])
        assert all(d.allowed for d in after)
    with store.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar_one()
    assert events == people * len(orders)


def test_imports_creating_the_same_new_subjects_in_opposite_orders_all_commit(store: sa.Engine) -> None:
    """Two imports at once of the same 300 people garde does not know yet, in opposite orders: each
    creates their subjects, and waits on the other's new identifiers (a unique index) in the other
    order, a deadlock the database breaks by aborting one; that one's batch runs again
    (garde.store.transactions.retried) and finds the people the other created. Every consent is
    recorded, each person is one subject."""
    people = 300
    orders = [list(range(people)), list(reversed(range(people)))]
    assert _import_at_once(store, orders, "new-{}@example.com") == []
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM subjects")).scalar_one() == people
        events = conn.execute(sa.text("SELECT count(DISTINCT subject_id), count(*) FROM consent_events")
                              ).one()
    assert tuple(events) == (people, people * len(orders))


def _counters(store: sa.Engine, sids: list[str]) -> list[int]:
    with store.connect() as conn:
        return [conn.execute(sa.text("SELECT coalesce(max(version), 0) FROM decide_facts_buckets "
                                     "WHERE bucket = :b"), {"b": subject_bucket(sid)}).scalar_one()
                for sid in sids]


def test_the_counters_move_at_commit_with_what_the_transaction_kept(store: sa.Engine) -> None:
    """Counted at commit, once a bucket: a write in a savepoint rolled back counts nowhere, one in
    a savepoint released counts, a transaction rolled back counts nothing."""
    a, b, c = _people(store, 3)
    before = _counters(store, [a, b, c])
    with store.begin() as conn:
        consent.give(conn, a, "newsletter", channel="email")
        consent.give(conn, a, "orders", channel="email")
        undone = conn.begin_nested()
        consent.give(conn, b, "newsletter", channel="email")
        undone.rollback()
        with conn.begin_nested():
            consent.give(conn, c, "newsletter", channel="email")
    assert [n - m for n, m in zip(_counters(store, [a, b, c]), before, strict=True)] == [1, 0, 1]
    odd = uuid.uuid4().hex[:29] + "x,y"  # an id written by plain SQL, its bucket holding a comma
    with store.begin() as conn:
        conn.execute(subjects.subjects.insert().values(id=odd, state="active", created_at=NOW))
        consent.give(conn, odd, "newsletter", channel="email")
    assert _counters(store, [odd]) == [1]
    with pytest.raises(RuntimeError), store.begin() as conn:
        consent.give(conn, b, "newsletter", channel="email")
        raise RuntimeError("rolled back")
    assert [n - m for n, m in zip(_counters(store, [a, b, c]), before, strict=True)] == [1, 0, 1]


def test_a_truncated_ledger_moves_every_counter_and_decisions_see_it(store: sa.Engine) -> None:
    a, b = _people(store, 2)
    with store.begin() as conn:
        for sid in (a, b):
            consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
    with DecisionPoint(register(), store, audit=False, clock=lambda: NOW) as point:
        assert all(d.allowed for d in point.decide_many([("newsletter", a), ("newsletter", b)]))  # kept
        before = _counters(store, [a, b])
        with store.begin() as conn:
            conn.execute(sa.text("TRUNCATE consent_events"))
        assert all(n > m for n, m in zip(_counters(store, [a, b]), before, strict=True))
        assert not any(d.allowed for d in point.decide_many([("newsletter", a), ("newsletter", b)]))
