"""What a decision point keeps between calls (facts, answers) never changes an answer: the kept
answers agree with the straightforward evaluation, and a write by another connection or another
process is seen by the next decision, on SQLite and PostgreSQL."""

from __future__ import annotations

import json.encoder
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import consent, subjects
from garde.audit import canonical_payload, payload_text
from garde.consent.objections import object_to
from garde.decide import Decision, DecisionPoint, Reason
from garde.decide.freshness import TRIGGERS
from garde.decide.point import payload_parts
from garde.register import Register, parse_register
from garde.store import connect, migrate
from garde.suppression import suppress_subject
from tests.test_decide import register

BASE = datetime(2024, 1, 1, 12, tzinfo=UTC)

# -- the fast path agrees with the straightforward evaluation -------------------------------

RETENTION = ["30 days after collection", "60 days after last_contact", "90 days after relationship_end",
             "20 days after consent_withdrawn", "10 years after invoice_date"]

activities = st.lists(st.fixed_dictionaries({
    "bases": st.lists(st.sampled_from(["consent", "contract", "legitimate_interests"]), min_size=1,
                      max_size=3, unique=True),
    "direct_marketing": st.booleans(),
    "targeted_advertising": st.booleans(),
    "expiry": st.sampled_from([None, "40 days", "2 months"]),
    "retention": st.lists(st.tuples(st.sampled_from(RETENTION),
                                    st.sampled_from([None, "contact", "identity"])), max_size=2),
    "latest_of": st.booleans(),
}), min_size=1, max_size=3)

day = st.integers(0, 200)
operations = st.lists(st.one_of(
    st.tuples(st.sampled_from(["given", "withdrawn", "refused"]), st.integers(0, 2),
              st.sampled_from(["email", "sms", None]), day),
    st.tuples(st.just("object"), st.sampled_from(["a0", "a1", "direct_marketing", "targeted_advertising"])),
    st.tuples(st.just("dates"), st.sampled_from(["created_at", "relationship_started_at",
                                                 "relationship_ended_at", "last_contact_at"]), day),
    st.tuples(st.just("state"), st.sampled_from(["active", "restricted", "erased"])),
    st.tuples(st.just("suppress")),
), max_size=8)
asks = st.lists(st.tuples(
    st.integers(0, 2), st.sampled_from([None, ("contact.email",), ("identity.name", "legal.claim")]),
    st.sampled_from([None, "email", "sms", "cookie.analytics"]), st.integers(0, 400),
    st.booleans()), min_size=1, max_size=10)


def generated_register(declared: list[dict[str, Any]]) -> Register:
    lines = ["controller: {name: Boutique, country: FR, contact: {email: dpo@boutique.example}}",
             "activities:"]
    for i, a in enumerate(declared):
        lines += [f"  - id: a{i}", f"    name: Activity {i}", "    purposes: [A purpose]",
                  "    data_categories: [identity.name, contact.email, legal.claim]",
                  f"    legal_bases: [{', '.join(a['bases'])}]",
                  f"    direct_marketing: {str(a['direct_marketing']).lower()}",
                  f"    targeted_advertising: {str(a['targeted_advertising']).lower()}"]
        if a["expiry"] and "consent" in a["bases"]:
            lines.append("    consent: {capture: [web_form], withdrawal: [unsubscribe_link], "
                         f"expiry: {a['expiry']}}}")
        if a["retention"]:
            lines.append("    retention:")
            for rule, category in a["retention"]:
                lines.append(f"      - {{rule: {rule}{f', categories: [{category}]' if category else ''}}}")
            if a["latest_of"]:
                lines.append("    retention_combination: latest_of")
    return parse_register("\n".join(lines) + "\n").register


def apply(engine: sa.Engine, sid: str, operation: tuple[Any, ...]) -> None:
    with engine.begin() as conn:
        kind = operation[0]
        if kind in ("given", "withdrawn", "refused"):
            _, activity, channel, when = operation
            consent.record_consent(conn, sid, f"a{activity}", kind, channel=channel,
                                   at=BASE + timedelta(days=when))
        elif kind == "object":
            object_to(conn, sid, operation[1])
        elif kind == "dates":
            conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == sid)
                         .values({operation[1]: BASE + timedelta(days=operation[2])}))
        elif kind == "state":
            conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == sid)
                         .values(state=operation[1]))
        else:
            suppress_subject(conn, sid, "test")


@settings(max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activities, st.lists(st.tuples(operations, asks), min_size=1, max_size=4))
def test_kept_answers_agree_with_the_straightforward_evaluation(
        sqlite_url: str, declared: list[dict[str, Any]],
        rounds: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]) -> None:
    """Random registers, subjects and consent histories; decisions asked at random instants (the
    clock going back as well as forth, often exactly on an expiry or a retention's end), between
    writes: the point that keeps facts and answers says, reason for reason, what a point that reads
    the facts for each decision says."""
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    model = generated_register(declared)
    clock = [BASE]
    email = f"{uuid.uuid4().hex}@example.com"
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": email})
        conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == sid).values(created_at=BASE))
    fast = DecisionPoint(model, engine, audit=False, clock=lambda: clock[0])
    plain = DecisionPoint(model, engine, audit=False, clock=lambda: clock[0], cache_size=0)
    try:
        for writes, questions in rounds:
            for operation in writes:
                apply(engine, sid, operation)
            for activity, categories, channel, when, by_identity in questions:
                clock[0] = BASE + timedelta(days=when)
                subject: str | dict[str, str] = {"email": email} if by_identity else sid
                expected = plain.decide(f"a{activity}", subject, categories, channel)
                answer = fast.decide(f"a{activity}", subject, categories, channel)
                assert answer.to_data() == expected.to_data()
    finally:
        fast.close()
        plain.close()
        engine.dispose()


# -- a write elsewhere is seen by the next decision -----------------------------------------

def given_newsletter(engine: sa.Engine) -> str:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        consent.give(conn, sid, "newsletter", channel="email", at=BASE)
    return sid


def ask(point: DecisionPoint, sid: str | dict[str, str]) -> list[str]:
    return [r.code for r in point.decide("newsletter", sid, ["contact.email"], "email").reasons]


WITHDRAW = """
import sys
from garde import consent
from garde.store import connect
engine = connect(sys.argv[1])
with engine.begin() as conn:
    consent.withdraw(conn, sys.argv[2], "newsletter", channel="email")
engine.dispose()
"""


def test_a_withdrawal_in_another_process_is_seen_by_the_next_decision(engine: sa.Engine) -> None:
    sid = given_newsletter(engine)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: BASE + timedelta(days=1)) as point:
        assert ask(point, sid) == ["legal_basis"]
        assert ask(point, sid) == ["legal_basis"]  # kept (on SQLite)
        url = engine.url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-c", WITHDRAW, url, sid], check=True, timeout=120)
        assert ask(point, sid) == ["consent_withdrawn"]


def test_a_write_on_another_engine_is_seen_by_the_next_decision(engine: sa.Engine) -> None:
    sid = given_newsletter(engine)
    other = connect(engine.url.render_as_string(hide_password=False))
    with DecisionPoint(register(), engine, audit=False, clock=lambda: BASE + timedelta(days=1)) as point:
        assert ask(point, sid) == ["legal_basis"]
        with other.begin() as conn:
            object_to(conn, sid, "direct_marketing")
        assert "objection" in ask(point, sid)
        with other.begin() as conn:
            subjects.set_state(conn, sid, "erased")
        assert "subject_erased" in ask(point, sid)
    other.dispose()


def test_a_subject_whose_bucket_was_never_written_is_seen_once_written(engine: sa.Engine) -> None:
    """The counters' check of a subject asked by id reads its bucket's row, and no row means a sum
    of 0: an id not yet known (its bucket never written) is kept as unknown, and the subject
    recorded with that id by another engine is seen by the next decision."""
    sid = uuid.uuid4().hex[:33] + "zzz"  # the bucket "szzz": no hexadecimal id shares it
    other = connect(engine.url.render_as_string(hide_password=False))
    with DecisionPoint(register(), engine, audit=False, clock=lambda: BASE + timedelta(days=1)) as point:
        unknown = ask(point, sid)
        assert "legal_basis" not in unknown
        assert ask(point, sid) == unknown  # kept: the bucket has no row, as when it was read
        with other.begin() as conn:
            conn.execute(subjects.subjects.insert().values(id=sid, kind="customer", state="active",
                                                           created_at=BASE))
            consent.give(conn, sid, "newsletter", channel="email", at=BASE)
        assert ask(point, sid) == ["legal_basis"]
        assert ask(point, sid) == ["legal_basis"]
    other.dispose()


def test_a_kept_consent_expires_on_time(engine: sa.Engine) -> None:
    sid = given_newsletter(engine)
    clock = [BASE + timedelta(days=1)]
    with DecisionPoint(register(), engine, audit=False, clock=lambda: clock[0]) as point:
        assert ask(point, sid) == ["legal_basis"]
        clock[0] = BASE.replace(year=2027) - timedelta(microseconds=1)
        assert ask(point, sid) == ["legal_basis"]
        clock[0] = BASE.replace(year=2027)  # the register's 3 years
        assert ask(point, sid) == ["consent_expired"]
        clock[0] = BASE + timedelta(days=2)
        assert ask(point, sid) == ["legal_basis"]


def test_a_store_that_does_not_count_its_writes_is_read_for_each_decision(sqlite_url: str) -> None:
    """A trigger gone (a table rebuilt by a later migration, a hand-made schema): nothing is kept,
    rather than an answer kept past a write nobody counted."""
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TRIGGER {TRIGGERS['sqlite'][-3]}"))  # consent_events, insert
    sid = given_newsletter(engine)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: BASE + timedelta(days=1)) as point:
        assert ask(point, sid) == ["legal_basis"]
        with engine.begin() as conn:
            consent.withdraw(conn, sid, "newsletter", channel="email")
        assert ask(point, sid) == ["consent_withdrawn"]
    engine.dispose()


@pytest.mark.parametrize("size", [0, 1])
def test_cache_size_bounds_what_is_kept(sqlite_url: str, size: int) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    sid = given_newsletter(engine)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: BASE + timedelta(days=1),
                       cache_size=size) as point:
        for _ in range(3):
            assert ask(point, sid) == ["legal_basis"]
            assert ask(point, {"email": "ana@example.com"}) == ["legal_basis"]
        assert len(point._kept.entries if point._kept else ()) <= size
    engine.dispose()


# -- the audit entry of a decision -----------------------------------------------------------

texts = st.text(max_size=12) | st.sampled_from([',"at":""', '"at"', "\\", '\\",\\"at\\":\\"\\"'])


@settings(max_examples=300, derandomize=True)
@given(texts, st.none() | texts, st.none() | st.lists(texts, max_size=3), st.booleans(),
       st.lists(texts, max_size=3), st.lists(texts, max_size=3), st.datetimes(timezones=st.just(UTC)))
def test_a_decisions_payload_is_its_canonical_json_with_the_time_cut_in(
        activity: str, channel: str | None, requested: list[str] | None, allowed: bool,
        categories: list[str], codes: list[str], moment: datetime) -> None:
    """The payload the point writes from kept parts is, byte for byte, canonical_payload() of the
    payload as a dict, whatever the activity, channel and categories hold."""
    decision = Decision(allowed, tuple(categories), [Reason(code, "") for code in codes])
    head, tail = payload_parts(activity, channel, requested, decision)
    whole = canonical_payload({"activity": activity, "channel": channel, "requested": list(requested or ()),
                               "allowed": allowed, "categories": categories, "reasons": codes,
                               "at": moment.isoformat()})
    assert head + json.encoder.encode_basestring(moment.isoformat()) + tail == whole


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)))
def test_a_decisions_time_sent_as_posix_seconds_is_written_as_the_datetime(moment: datetime) -> None:
    """decide() hands a UTC time to the audit writer as ``timestamp()`` (a float pickles in a fifth of
    a datetime's time): the entry's payload holds the same ``isoformat()``, to the microsecond."""
    assert payload_text(("{", moment.timestamp(), "}")) == payload_text(("{", moment, "}"))
    assert payload_text(("{", moment.timestamp(), "}")) == "{" + json.encoder.encode_basestring(
        moment.isoformat()) + "}"
