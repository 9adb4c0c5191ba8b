"""Answers shared between subjects in the same state (garde.decide.rules.facts_key): two subjects
with the same key get the same answer at every instant, their ids apart; a decision point that
shares them answers, reason for reason, as one that reads and evaluates every decision."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import subjects
from garde.consent.state import ConsentEvent
from garde.decide import DecisionModel, DecisionPoint
from garde.decide.rules import SubjectFacts, evaluate, facts_key, stable_until
from garde.store import connect, migrate
from tests.test_decide_kept import BASE, activities, apply, asks, generated_register, operations

dates = st.sampled_from([None, BASE, BASE + timedelta(days=40), BASE + timedelta(days=95)])
events = st.lists(st.builds(
    ConsentEvent, st.sampled_from(["a0", "a1"]), st.sampled_from(["email", "sms", None]),
    st.sampled_from(["given", "withdrawn", "refused"]),
    st.sampled_from([BASE, BASE + timedelta(days=10), BASE + timedelta(days=50)]),
    st.sampled_from([None, BASE + timedelta(days=60)]), st.integers(0, 3),
    st.sampled_from([None, "e1", "e2"])), max_size=3)
FIELDS = {
    "subject_id": st.sampled_from(["s1", "s2"]),
    "state": st.sampled_from([None, "active", "restricted", "erased"]),
    "created_at": dates, "relationship_started_at": dates, "relationship_ended_at": dates,
    "last_contact_at": dates,
    "objections": st.frozensets(st.sampled_from(["a0", "a1", "direct_marketing", "targeted_advertising"])),
    "suppressed": st.booleans(),
    "consent_events": events.map(tuple),
}


@st.composite
def facts_pairs(draw: Any) -> tuple[SubjectFacts, SubjectFacts]:
    """Two subjects' facts: the second the first with some fields drawn again (often the same key)."""
    first = {name: draw(strategy) for name, strategy in FIELDS.items()}
    second = {name: draw(strategy) if draw(st.booleans()) else first[name]
              for name, strategy in FIELDS.items()}
    if draw(st.booleans()):  # the same events recorded later: other seqs, the same order
        second["consent_events"] = tuple(
            ConsentEvent(e.activity, e.channel, e.action, e.at, e.expires_at, e.seq * 7 + 100, "other")
            for e in first["consent_events"])
    return SubjectFacts(**first), SubjectFacts(**second)


@settings(max_examples=250, derandomize=True, deadline=None)
@given(activities, facts_pairs(),
       st.sampled_from([None, ("contact.email",), ("identity.name", "legal.claim")]),
       st.sampled_from([None, "email", "sms", "cookie.analytics"]), st.lists(st.integers(0, 400), min_size=1))
def test_subjects_with_the_same_key_get_the_same_answer_at_every_instant(
        declared: list[dict[str, Any]], pair: tuple[SubjectFacts, SubjectFacts],
        categories: tuple[str, ...] | None, channel: str | None, days: list[int]) -> None:
    model = DecisionModel(generated_register(declared))
    first, second = pair
    for rules in model.activities.values():
        if facts_key(rules, first, channel) != facts_key(rules, second, channel):
            continue
        for day in days:
            at = BASE + timedelta(days=day)
            one = evaluate(rules.id, rules, first, categories, channel, at).to_data()
            other = evaluate(rules.id, rules, second, categories, channel, at).to_data()
            assert one.pop("subject_id") == first.subject_id and other.pop("subject_id") == second.subject_id
            assert one == other
            # the first one's answer holds for the second until the first one's bound
            until = stable_until(rules, first, at)
            if until is not None:
                later = evaluate(rules.id, rules, second, categories, channel,
                                 until - timedelta(microseconds=1)).to_data()
                later.pop("subject_id")
                assert later == one


@settings(max_examples=20, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(activities, st.lists(st.tuples(st.integers(0, 3), operations), min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(0, 3), asks), min_size=1, max_size=4))
def test_a_point_sharing_answers_between_subjects_answers_as_one_that_reads_each_time(
        sqlite_url: str, declared: list[dict[str, Any]], writes: list[tuple[int, list[Any]]],
        questions: list[tuple[int, list[Any]]]) -> None:
    """Four subjects created alike, some written to: the point that keeps and shares answers says,
    reason for reason, what a point that reads the facts for each decision says."""
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    model = generated_register(declared)
    clock = [BASE]
    with engine.begin() as conn:
        sids = [subjects.ensure_subject(conn, {"email": f"{uuid.uuid4().hex}@example.com"}) for _ in range(4)]
        conn.execute(subjects.subjects.update().where(subjects.subjects.c.id.in_(sids)).values(created_at=BASE))
    fast = DecisionPoint(model, engine, audit=False, clock=lambda: clock[0])
    plain = DecisionPoint(model, engine, audit=False, clock=lambda: clock[0], cache_size=0)
    try:
        rounds = zip(writes, questions * len(writes), strict=False)
        for (writer, operations_), (asked, asked_questions) in rounds:
            for operation in operations_:
                apply(engine, sids[writer], operation)
            for activity, categories, channel, when, _by_identity in asked_questions:
                clock[0] = BASE + timedelta(days=when)
                for sid in (sids[asked], *sids):
                    expected = plain.decide(f"a{activity}", sid, categories, channel)
                    answer = fast.decide(f"a{activity}", sid, categories, channel)
                    assert answer.to_data() == expected.to_data()
    finally:
        fast.close()
        plain.close()
        engine.dispose()


def test_a_shared_answer_is_the_subjects_own(sqlite_url: str) -> None:
    """Two customers alike: the second's answer comes from the first one's, with its own id."""
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    model = generated_register([{"bases": ["legitimate_interests"], "direct_marketing": False,
                                 "targeted_advertising": False, "expiry": None, "retention": [],
                                 "latest_of": False}])
    with engine.begin() as conn:
        sids = [subjects.ensure_subject(conn, {"email": f"{n}@example.com"}) for n in ("ana", "bob")]
    with DecisionPoint(model, engine, audit=False, clock=lambda: BASE) as point:
        first, second = (point.decide("a0", sid) for sid in sids)
        assert point._kept is not None and len(point._kept.shared) == 1
        assert (first.subject_id, second.subject_id) == tuple(sids)
        assert first.reasons is second.reasons
        assert first.to_data() | {"subject_id": sids[1]} == second.to_data()
    engine.dispose()
