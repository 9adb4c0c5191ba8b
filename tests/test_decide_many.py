"""decide_many(): the answers, reasons and audit entries of decide() one by one, on SQLite and
PostgreSQL, with its audit entries queued as one batch (AuditWriter.add_entries)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit, subjects
from garde.audit import AuditWriter
from garde.decide import DecisionPoint
from garde.decide.freshness import identity_bucket
from garde.decide.point import DecisionRequest
from garde.keys import identifier_data_key
from garde.store import connect
from garde.subjects import identifier_hash
from tests.api_support import api_client, bearer
from tests.decide_support import Counting
from tests.test_decide import NOW, register
from tests.test_decide_buckets import ACTIVITIES, new_subjects, operations, write


def last_seq(engine: sa.Engine) -> int:
    with engine.connect() as conn:  # the head: the last entry, in a row or a decision batch
        last = conn.execute(sa.select(audit.audit_head.c.seq)).scalar()
        return int(last or 0)


def logged(engine: sa.Engine, after: int) -> list[tuple[Any, ...]]:
    """The entries after ``after``, as what a decision wrote: kind, subject, actor, payload."""
    with engine.connect() as conn:
        return [(e["kind"], e["subject_id"], e["actor"], e["payload"])
                for e in audit.entries(conn, after=after)]


@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations, st.lists(st.tuples(st.sampled_from([*ACTIVITIES, "unknown"]), st.integers(0, 7),
                                      st.sampled_from([None, ("contact.email",), ("identity.name", "x.y")]),
                                      st.sampled_from([None, "email", "Email", "sms"])), max_size=14),
       st.booleans(), st.integers(1, 5))
def test_decide_many_answers_and_audits_as_decide_one_by_one(
        engine: sa.Engine, writes: list[Any], asked: list[Any], keeping: bool, batch_size: int) -> None:
    """Random ledgers, random batches: the same answers and reasons, and the same audit entries in
    the same order, whether the batch's entries fill a writer's batches or not."""
    sids = new_subjects(engine)
    for operation in writes:
        write(engine, sids[operation[0]], *operation[1:])
    # each subject by id and by e-mail address, one the store does not know, none
    known: list[str | dict[str, str] | None] = [*sids, *({"email": f"{sid}@example.com"} for sid in sids)]
    candidates = [*known, uuid.uuid4().hex, None]
    requests = [DecisionRequest(activity, candidates[which], categories, channel)
                for activity, which, categories, channel in asked]
    start = last_seq(engine)
    with AuditWriter(engine, batch_size=batch_size, max_delay=None, flush_at_exit=False) as writer, \
            DecisionPoint(register(), engine, audit=writer, clock=lambda: NOW, actor="one") as one:
        expected = [one.decide(*request).to_data() for request in requests]
    middle = last_seq(engine)
    with AuditWriter(engine, batch_size=batch_size, max_delay=None, flush_at_exit=False) as writer, \
            DecisionPoint(register(), engine, audit=writer, clock=lambda: NOW, actor="one",
                          cache_size=100 if keeping else 0) as many:
        assert [d.to_data() for d in many.decide_many(requests)] == expected
        if keeping:  # answers kept: the same again
            assert [d.to_data() for d in many.decide_many(requests)] == expected
    one_by_one = logged(engine, start)[:middle - start]
    assert len(one_by_one) == len(requests)
    batched = logged(engine, middle)
    assert batched[:len(requests)] == one_by_one
    if keeping:
        assert batched[len(requests):] == one_by_one
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_add_entries_writes_what_add_entry_writes_in_the_same_batches(engine: sa.Engine) -> None:
    """Seven entries with batches of three: two appends of three, the last one at flush, in order."""
    items = [("decision", {"n": n}, f"s{n}", "garde") for n in range(7)]
    start = last_seq(engine)
    with AuditWriter(engine, batch_size=3, max_delay=None, flush_at_exit=False) as writer:
        writer.add_entries(items[:2])
        assert writer.written == 0 and writer.pending == 2
        writer.add_entries(items[2:])
        assert writer.written == 6 and writer.pending == 1  # two full batches written as they filled
        writer.add_entries([])
        assert writer.flush() == 1
    assert logged(engine, start) == [(k, s, a, p) for k, p, s, a in items]
    with engine.connect() as conn:
        appends = [entry["at"] for entry in audit.entries(conn, after=start)]
        assert len(set(appends[:3])) == len(set(appends[3:6])) == 1  # a batch is one append: one time
        assert audit.verify(conn).ok


def test_add_entries_through_the_writer_thread_keeps_order_under_back_pressure(engine: sa.Engine) -> None:
    """A writer thread with one queued batch at most: a call of 50 entries waits for the writer
    batch after batch, and every entry lands once, in order, interleaved with add_entry()."""
    start = last_seq(engine)
    expected = []
    with AuditWriter(engine, batch_size=4, max_delay=0.05, max_queued=1, flush_at_exit=False) as writer:
        for round_ in range(3):
            many = [("decision", {"round": round_, "n": n}, None, "garde") for n in range(50)]
            writer.add_entries(many)
            writer.add_entry("decision", {"round": round_, "single": True}, None, "garde")
            expected += [*many, ("decision", {"round": round_, "single": True}, None, "garde")]
        writer.flush()
        assert writer.pending == 0
    assert logged(engine, start) == [(k, s, a, p) for k, p, s, a in expected]


def test_the_api_batch_is_decided_at_one_instant_and_audited_in_order(sqlite_url: str) -> None:
    """``POST /decisions/batch`` goes through decide_many(): one instant for the whole batch, an
    entry per subject in the order asked, with the key's name as actor."""
    asked = [{"email": f"batch{i}@example.com"} for i in range(5)]
    with api_client(sqlite_url) as (client, keys):
        answer = client.post("/api/v1/decisions/batch", headers=bearer(keys["service"]), json={
            "activity": "newsletter", "channel": "email", "subjects": asked})
        assert answer.status_code == 200, answer.text
    engine = connect(sqlite_url)
    try:
        entries = [e for e in logged(engine, 0) if e[0] == "decision"]
    finally:
        engine.dispose()
    assert len(entries) == len(asked) and {e[2] for e in entries} == {"key:service-key"}
    assert len({e[3]["at"] for e in entries}) == 1
    assert [d["allowed"] for d in answer.json()["decisions"]] == [False] * len(asked)


def test_a_subject_whose_identities_share_a_bucket_stays_kept_in_a_batch(engine: sa.Engine) -> None:
    """Two identities whose digests end alike (one bucket): the counters were summed once per
    bucket when the facts were read, and are again, so a second batch reads no facts."""
    sid, = new_subjects(engine, ("ccc",))
    with engine.connect() as conn:
        key = identifier_data_key(conn)
    email = f"{sid}@example.com"
    tail = identity_bucket(identifier_hash("email", email, key))
    number = next(str(n) for n in range(100_000)
                  if identity_bucket(identifier_hash("customer_id", str(n), key)) == tail)
    with engine.begin() as conn:
        subjects.link_identifiers(conn, sid, [("customer_id", number)])
    asked = {"email": email, "customer_id": number}
    # the counters' path (on SQLite the commit word would spare the statement: test_decide_commits)
    with Counting(register(), engine, audit=False, clock=lambda: NOW, outside_writes_within=0) as point:
        first = point.decide_many([("newsletter", asked), ("orders", sid)])
        before = point.statements
        assert [d.to_data() for d in point.decide_many([("newsletter", asked), ("orders", sid)])] == [
            d.to_data() for d in first]
        assert point.statements - before == 1  # the counters only: the facts are still kept
