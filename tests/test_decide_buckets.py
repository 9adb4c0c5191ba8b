"""Kept facts by bucket of subjects, on SQLite and PostgreSQL: a write made through another
engine (another process, another machine) is seen by the next decision, empties only what is
kept of its subjects' buckets, and a decision costs one statement whether its facts are kept or
not; decide_many() answers as decide() one by one."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import consent, subjects
from garde.consent.objections import object_to
from garde.decide import DecisionPoint
from garde.decide.freshness import kept_in_step, subject_bucket
from garde.decide.point import DecisionRequest
from garde.store import connect, migrate
from garde.suppression import lift_subject, suppress_subject
from tests.decide_support import Counting
from tests.test_decide import NOW, register

ACTIVITIES = ["newsletter", "customer-offers", "orders", "prospecting", "ads", "cookies-analytics", "claims"]
# subjects 0 and 1 share a bucket (the same last characters of their ids), 2 is in another one
TAILS = ("aaa", "aaa", "bbb")


@pytest.fixture
def other(engine: sa.Engine) -> Iterator[sa.Engine]:
    """A second engine on the same store: another process's or machine's connections."""
    second = connect(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def new_subjects(engine: sa.Engine, tails: tuple[str, ...] = TAILS) -> list[str]:
    """Subjects whose ids end with ``tails``, each with an e-mail address `<id>@example.com`."""
    made = []
    with engine.begin() as conn:
        for tail in tails:
            sid = uuid.uuid4().hex[:29] + tail
            conn.execute(subjects.subjects.insert().values(id=sid, state="active",
                                                           created_at=NOW - timedelta(days=30)))
            subjects.link_identifiers(conn, sid, [("email", f"{sid}@example.com")])
            made.append(sid)
    return made


def write(engine: sa.Engine, sid: str, operation: str, day: int) -> None:
    with engine.begin() as conn:
        if operation in ("given", "withdrawn", "refused"):
            consent.record_consent(conn, sid, "newsletter", operation, channel="email",
                                   at=NOW - timedelta(days=day))
        elif operation == "object":
            object_to(conn, sid, "direct_marketing")
        elif operation in ("restricted", "erased", "active"):
            subjects.set_state(conn, sid, operation)
        elif operation == "suppress":
            suppress_subject(conn, sid, "test")
        else:
            lift_subject(conn, sid, "test")


def test_facts_are_kept_on_both_dialects_and_a_withdrawal_elsewhere_is_seen(
        engine: sa.Engine, other: sa.Engine) -> None:
    """Process A withdraws a consent through its own engine: process B's next decision sees it,
    on SQLite and on PostgreSQL, though B keeps the subject's facts between decisions."""
    sid, = new_subjects(engine, ("abc",))
    write(other, sid, "given", 5)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: NOW) as point:
        assert point.decide("newsletter", sid, ["contact.email"], "email").allowed
        kept = point._kept
        assert kept is not None and kept.counted  # kept on PostgreSQL too
        first = kept.entries[sid]
        assert point.decide("newsletter", sid, ["contact.email"], "email").allowed
        assert kept.entries[sid] is first  # not read again
        write(other, sid, "withdrawn", 1)
        decision = point.decide("newsletter", sid, ["contact.email"], "email")
        assert not decision.allowed and decision.reasons[0].code == "consent_withdrawn"
        assert kept.entries[sid] is not first
        asked = {"email": f"{sid}@example.com"}
        assert not point.decide("newsletter", asked, ["contact.email"], "email").allowed
        write(other, sid, "given", 0)
        assert point.decide("newsletter", asked, ["contact.email"], "email").allowed


def test_a_decision_is_one_statement_kept_or_not(engine: sa.Engine, other: sa.Engine) -> None:
    """Asking the store before each kept decision (``outside_writes_within=0``; PostgreSQL always)."""
    sids = new_subjects(engine)
    with Counting(register(), engine, audit=False, clock=lambda: NOW, outside_writes_within=0) as point:
        for subject in (sids[0], sids[1], {"email": f"{sids[1]}@example.com"}):
            point.decide("newsletter", subject)  # (the identifier key is read once per engine: not counted)
        for subject in (sids[2], {"email": f"{sids[2]}@example.com"}):
            before = point.statements
            point.decide("newsletter", subject, ["contact.email"], "email")  # read
            point.decide("newsletter", subject, ["contact.email"], "email")  # kept: its counters only
            point.decide("orders", subject)  # kept facts, another answer
            assert point.statements - before == 3
        write(other, sids[2], "withdrawn", 0)
        before = point.statements
        point.decide("newsletter", sids[2], ["contact.email"], "email")
        assert point.statements - before == 2  # the counters moved: read again
        before = point.statements
        point.decide_many([("newsletter", sid) for sid in sids] + [("orders", sids[0])])
        assert point.statements - before == 1  # every subject's counters in one statement
        fresh = new_subjects(engine)
        before = point.statements
        by_email = {"email": f"{fresh[0]}@example.com"}
        point.decide_many([*(("newsletter", sid) for sid in fresh), ("ads", by_email)])
        assert point.statements - before == 1  # four subjects' facts in one statement


operations = st.lists(st.tuples(
    st.integers(0, 2), st.sampled_from(["given", "withdrawn", "refused", "object", "restricted", "erased",
                                        "active", "suppress", "lift"]), st.integers(0, 60)), max_size=5)
questions = st.lists(st.tuples(
    st.integers(0, 2), st.sampled_from(ACTIVITIES), st.sampled_from([None, ("contact.email",)]),
    st.sampled_from([None, "email", "sms"]), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(operations, questions), min_size=1, max_size=3))
def test_a_write_empties_only_its_buckets_and_answers_stay_right(
        engine: sa.Engine, other: sa.Engine, rounds: list[tuple[list[Any], list[Any]]]) -> None:
    """Writes through another engine about random subjects, two of them in one bucket; between
    them, decisions by a point that keeps facts agree with a point that reads them for each
    decision, and what it keeps of a subject is read again exactly when a write touched that
    subject's bucket."""
    sids = new_subjects(engine)
    fast = DecisionPoint(register(), engine, audit=False, clock=lambda: NOW)
    plain = DecisionPoint(register(), engine, audit=False, clock=lambda: NOW, cache_size=0)
    try:
        for writes, asks in rounds:
            kept = fast._kept
            assert kept is not None
            before = {sid: kept.entries.get(sid) for sid in sids}
            touched = {subject_bucket(sids[i]) for i, _operation, _day in writes}
            for i, operation, day in writes:
                write(other, sids[i], operation, day)
            for sid in sids:  # ask about every subject by id: its entry is kept or read again
                fast.decide("orders", sid)
                entry = kept.entries[sid]
                if before[sid] is not None:
                    assert (entry is before[sid]) == (subject_bucket(sid) not in touched)
            for i, activity, categories, channel, by_identity in asks:
                subject: str | dict[str, str] = sids[i]
                if by_identity:
                    subject = {"email": f"{sids[i]}@example.com"}
                assert (fast.decide(activity, subject, categories, channel).to_data()
                        == plain.decide(activity, subject, categories, channel).to_data())
    finally:
        fast.close()
        plain.close()


subjects_asked = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2)), st.just("unknown"), st.none())


@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations, st.lists(st.tuples(st.sampled_from([*ACTIVITIES, "unknown"]), subjects_asked,
                                      st.sampled_from([None, ("contact.email",), ("identity.name",)]),
                                      st.sampled_from([None, "email", "Email"])), max_size=12),
       st.booleans())
def test_decide_many_answers_as_decide_one_by_one(
        engine: sa.Engine, writes: list[Any], asked: list[Any], keeping: bool) -> None:
    sids = new_subjects(engine)
    for i, operation, day in writes:
        write(engine, sids[i], operation, day)

    def subject(which: Any) -> str | dict[str, str] | None:
        if isinstance(which, int):
            return sids[which]
        if isinstance(which, tuple):
            return {"email": f"{sids[which[0]]}@example.com"}
        return None if which is None else uuid.uuid4().hex

    requests = [DecisionRequest(activity, subject(which), categories, channel)
                for activity, which, categories, channel in asked]
    with DecisionPoint(register(), engine, audit=False, clock=lambda: NOW, cache_size=100 if keeping else 0) \
            as many, DecisionPoint(register(), engine, audit=False, clock=lambda: NOW, cache_size=0) as one:
        answers = [d.to_data() for d in many.decide_many(requests)]
        assert answers == [one.decide(*request).to_data() for request in requests]
        assert [d.to_data() for d in many.decide_many(requests)] == answers  # kept, when keeping


def downgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from garde.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_counters_migrate_up_and_down(database_url: str) -> None:
    """0020 replaces 0019's one counter by the buckets' (triggers on both dialects), 0024 counts at
    commit on PostgreSQL, and both go back."""
    store = connect(database_url, create=True)
    try:
        migrate(store, "0019")
        with store.connect() as conn:
            assert not kept_in_step(conn)
        migrate(store)
        with store.connect() as conn:
            assert kept_in_step(conn)
        sid, = new_subjects(store, ("xyz",))
        with store.connect() as conn:
            counted = conn.execute(sa.text("SELECT version FROM decide_facts_buckets WHERE bucket = :b"),
                                   {"b": subject_bucket(sid)}).scalar()
        # SQLite counts each row (the subject, its e-mail); PostgreSQL each transaction, at commit
        assert counted == (2 if store.dialect.name == "sqlite" else 1)
        downgrade(store, "0019")
        with store.connect() as conn:
            assert not kept_in_step(conn)
            assert conn.execute(sa.text("SELECT version FROM decide_facts_version")).scalar() == 0
        migrate(store)
        with store.connect() as conn:
            assert kept_in_step(conn)
    finally:
        store.dispose()


def test_decisions_during_concurrent_writes_see_every_commit_before_them(
        engine: sa.Engine, other: sa.Engine) -> None:
    """A writer thread withdraws and gives again, 30 times, through another engine while decisions
    run without pause. A decision that starts after commit k and during which no other commit
    began answers exactly the state of k; after each commit the writer waits for one such
    decision, so each of the 30 states is checked at least once (and the decisions overlapping a
    commit exercise the races)."""
    sid, = new_subjects(engine, ("cde",))
    with other.begin() as conn:
        consent.record_consent(conn, sid, "newsletter", "given", channel="email", at=NOW - timedelta(days=2))
    started, done, checked = [0], [0], set()
    seen = threading.Event()

    def writer() -> None:
        for k in range(1, 31):
            started[0] = k
            with other.begin() as conn:
                consent.record_consent(conn, sid, "newsletter", "withdrawn" if k % 2 else "given",
                                       channel="email", at=NOW - timedelta(days=1) + timedelta(seconds=k))
            done[0] = k
            deadline = time.monotonic() + 60
            # its own state checked (a decision of the state before may set `seen` late, once
            # decisions on kept facts take microseconds)
            while k not in checked and time.monotonic() < deadline:
                seen.wait(timeout=1)
                seen.clear()

    thread = threading.Thread(target=writer)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: NOW) as point:
        thread.start()
        try:
            while thread.is_alive():
                before = done[0]
                allowed = point.decide("newsletter", sid, ["contact.email"], "email").allowed
                if started[0] == before:  # no commit began during the decision
                    # given after an even number of commits, withdrawn after an odd one
                    assert allowed == (before % 2 == 0), before
                    checked.add(before)
                    seen.set()
        finally:
            thread.join()
    assert checked >= set(range(1, 31))
