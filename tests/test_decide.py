"""decide(): every reason has a test that triggers it and one that does not, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from garde import audit, consent, subjects
from garde.consent.objections import object_to, record_gpc
from garde.decide import DecisionPoint
from garde.register import Register, parse_register

REGISTER = """
controller: {name: Boutique, country: FR, contact: {email: dpo@boutique.example}}
activities:
  - id: newsletter
    name: Newsletter
    purposes: [Send the newsletter]
    data_categories: [identity.name, contact.email]
    legal_bases: [consent]
    direct_marketing: true
    channels: [email]
    consent: {capture: [web_form], withdrawal: [unsubscribe_link], expiry: 3 years}
  - id: customer-offers
    name: Offers to customers (soft opt-in)
    data_categories: [identity.name, contact.email, contact.phone]
    legal_bases: [legitimate_interests]
    direct_marketing: true
    channels: [email, sms]
  - id: orders
    name: Orders
    data_categories: [identity, contact, transaction]
    legal_bases: [contract]
    retention:
      - 5 years after relationship_end
  - id: prospecting
    name: Prospects
    data_categories: [identity, contact]
    legal_bases: [legitimate_interests]
    retention:
      - rule: 3 years after last_contact
        categories: [contact]
  - id: ads
    name: Targeted advertising
    data_categories: [online.tracker]
    legal_bases: [legitimate_interests]
    targeted_advertising: true
  - id: cookies-analytics
    name: Audience measurement
    data_categories: [online.tracker]
    legal_bases: [consent]
    consent: {expiry: 13 months}
  - id: claims
    name: Claims and disputes
    data_categories: [identity, contact, legal.claim]
    legal_bases: [legitimate_interests]
"""

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def register() -> Register:
    return parse_register(REGISTER).register


@pytest.fixture
def point(engine: sa.Engine) -> Iterator[DecisionPoint]:
    """A point whose decisions are audited by a writer thread of this process: a point's own writer
    (``audit=True``) starts a child process and waits until it has imported what it writes with (≈ 0.3 s
    of CPU and more of wall a test, 38 tests here). That writer is the one
    :func:`test_decisions_are_audited_after_flush` uses, and ``tests/test_audit_process.py`` tests it."""
    with audit.AuditWriter(engine) as writer, \
            DecisionPoint(register(), engine, audit=writer, clock=lambda: NOW) as point:
        yield point


def new_subject(engine: sa.Engine, email: str = "ana@example.com", **dates: datetime) -> str:
    with engine.begin() as conn:
        subject_id = subjects.ensure_subject(conn, {"email": email})
        values = {"created_at": NOW - timedelta(days=30), **dates}
        conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == subject_id).values(values))
    return subject_id


def codes(point: DecisionPoint, activity: str, subject: str | dict[str, str],
          categories: list[str] | None = None, channel: str | None = None) -> tuple[bool, list[str]]:
    decision = point.decide(activity, subject, categories, channel)
    return decision.allowed, [r.code for r in decision.reasons if r.blocks]


def test_activity_unknown(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "no-such-activity", sid) == (False, ["activity_unknown"])
    assert "activity_unknown" not in codes(point, "prospecting", sid)[1]


def test_category_not_declared_is_dropped_and_blocks_only_when_nothing_is_left(
        point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    decision = point.decide("prospecting", sid, ["contact.email", "health"])
    assert decision.allowed and decision.categories == ("contact.email",)
    reason = next(r for r in decision.reasons if r.code == "category_not_declared")
    assert reason.categories == ("health",) and not reason.blocks
    assert codes(point, "prospecting", sid, ["health"]) == (False, ["category_not_declared"])
    assert codes(point, "prospecting", sid, ["identity.name"]) == (True, [])


def test_consent_missing_given_withdrawn_expired_and_renewed(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "newsletter", sid, channel="email") == (False, ["consent_missing"])
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=10))
    assert codes(point, "newsletter", sid, channel="email") == (True, [])
    with engine.begin() as conn:
        consent.withdraw(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
    assert codes(point, "newsletter", sid, channel="email") == (False, ["consent_withdrawn"])
    # a consent given four years ago: past the activity's three-year lifetime
    other = new_subject(engine, "old@example.com")
    with engine.begin() as conn:
        consent.give(conn, other, "newsletter", channel="email", at=NOW - timedelta(days=4 * 365))
    assert codes(point, "newsletter", other, channel="email") == (False, ["consent_expired"])
    with engine.begin() as conn:  # renewal
        consent.give(conn, other, "newsletter", channel="email", at=NOW - timedelta(days=1))
    assert codes(point, "newsletter", other, channel="email") == (True, [])


def test_consent_on_another_channel_does_not_count(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="sms", at=NOW - timedelta(days=1))
    assert codes(point, "newsletter", sid, channel="email") == (False, ["consent_missing"])
    assert codes(point, "newsletter", sid) == (True, [])  # no channel: any channel's consent will do


def test_objection(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "prospecting", sid) == (True, [])
    with engine.begin() as conn:
        object_to(conn, sid, "prospecting")
    assert codes(point, "prospecting", sid) == (False, ["objection"])
    assert codes(point, "orders", sid)[1] == ["no_contract"]  # an objection is scoped to its activity


def test_gpc_objects_to_targeted_advertising_only(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "ads", sid) == (True, [])
    with engine.begin() as conn:
        assert record_gpc(conn, sid)
        assert not record_gpc(conn, sid)  # recorded once
    assert codes(point, "ads", sid) == (False, ["objection"])
    assert codes(point, "prospecting", sid) == (True, [])


def test_subject_restricted_except_legal_claims(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    with engine.begin() as conn:
        subjects.set_state(conn, sid, "restricted")
    assert codes(point, "prospecting", sid) == (False, ["subject_restricted"])
    assert codes(point, "claims", sid) == (True, [])


def test_subject_erased(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "claims", sid) == (True, [])
    with engine.begin() as conn:
        subjects.set_state(conn, sid, "erased")
    assert codes(point, "claims", sid) == (False, ["subject_erased"])


def test_suppressed_blocks_marketing_only(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine, relationship_started_at=NOW - timedelta(days=100))
    assert codes(point, "customer-offers", sid, channel="email") == (True, [])
    with engine.begin() as conn:
        from garde.suppression import suppress

        suppress(conn, {"email": "ANA@example.com "}, "complaint")
    assert codes(point, "customer-offers", sid, channel="email") == (False, ["subject_suppressed"])
    assert codes(point, "orders", sid) == (True, [])
    # an address the engine never saw is still checked against the list
    assert codes(point, "customer-offers", {"email": "ana@example.com"}, channel="email")[1][0] == \
        "subject_suppressed"


def test_unsubscribe_withdraws_and_suppresses(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine, relationship_started_at=NOW - timedelta(days=100))
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=3))
        consent.unsubscribe(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
    assert codes(point, "newsletter", sid, channel="email") == (False, ["subject_suppressed",
                                                                         "consent_withdrawn"])
    assert "subject_suppressed" in codes(point, "customer-offers", sid, channel="email")[1]


def test_consenting_again_to_what_one_unsubscribed_from_lifts_the_suppression(
        point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine, relationship_started_at=NOW - timedelta(days=100))
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=30))
        consent.unsubscribe(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=20))
        consent.give(conn, sid, "ads", at=NOW - timedelta(days=10))  # something else: still suppressed
    assert codes(point, "newsletter", sid, channel="email")[1][0] == "subject_suppressed"
    assert "subject_suppressed" in codes(point, "customer-offers", sid, channel="email")[1]
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
        [lifted] = [e["payload"] for e in audit.entries(conn, kind="suppression.lifted", subject_id=sid)]
    assert lifted["reason"] == "unsubscribed" and lifted["identifiers"] >= 1
    assert codes(point, "newsletter", sid, channel="email") == (True, [])
    assert codes(point, "customer-offers", sid, channel="email") == (True, [])


def test_an_objection_is_not_lifted_by_a_new_consent(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine, relationship_started_at=NOW - timedelta(days=100))
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=30))
        consent.unsubscribe(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=20))
        consent.object_to(conn, sid, "direct_marketing")
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
    assert codes(point, "newsletter", sid, channel="email")[0] is False
    assert "subject_suppressed" in codes(point, "newsletter", sid, channel="email")[1]


def test_direct_marketing_objection_is_absolute_and_suppresses(point: DecisionPoint,
                                                               engine: sa.Engine) -> None:
    sid = new_subject(engine, relationship_started_at=NOW - timedelta(days=100))
    with engine.begin() as conn:
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=3))
        object_to(conn, sid, "direct_marketing")
    allowed, blocking = codes(point, "newsletter", sid, channel="email")
    assert not allowed and {"objection", "subject_suppressed"} <= set(blocking)


def test_soft_opt_in_for_customers_only(point: DecisionPoint, engine: sa.Engine) -> None:
    prospect = new_subject(engine, "prospect@example.com")
    customer = new_subject(engine, "customer@example.com", relationship_started_at=NOW - timedelta(days=9))
    assert codes(point, "customer-offers", prospect, channel="email") == (False, ["consent_missing"])
    decision = point.decide("customer-offers", customer, channel="email")
    assert decision.allowed and "soft_opt_in" in decision.codes()
    assert codes(point, "customer-offers", prospect, channel="post") == (True, [])  # not electronic mail
    # soft opt-in never overrides a consent-based activity, nor an explicit refusal
    assert codes(point, "newsletter", customer, channel="email") == (False, ["consent_missing"])
    with engine.begin() as conn:
        consent.refuse(conn, customer, "customer-offers", channel="email", at=NOW - timedelta(days=1))
    assert codes(point, "customer-offers", customer, channel="email") == (False, ["consent_withdrawn"])


def test_cookies_need_consent_by_eprivacy(point: DecisionPoint, engine: sa.Engine) -> None:
    sid = new_subject(engine)
    assert codes(point, "ads", sid, channel="cookie.advertising") == (False, ["consent_missing"])
    assert codes(point, "ads", sid, channel="cookie.necessary") == (True, [])
    with engine.begin() as conn:
        consent.give(conn, sid, "cookies-analytics", channel="cookie.analytics",
                     at=NOW - timedelta(days=14 * 30))
    assert codes(point, "cookies-analytics", sid, channel="cookie.analytics")[1][0] == "consent_expired"


def test_no_contract(point: DecisionPoint, engine: sa.Engine) -> None:
    never = new_subject(engine, "never@example.com")
    running = new_subject(engine, "running@example.com", relationship_started_at=NOW - timedelta(days=9))
    ended = new_subject(engine, "ended@example.com", relationship_started_at=NOW - timedelta(days=900),
                        relationship_ended_at=NOW - timedelta(days=9))
    assert codes(point, "orders", never) == (False, ["no_contract"])
    assert codes(point, "orders", running) == (True, [])
    assert codes(point, "orders", ended) == (False, ["no_contract"])


def test_retention_passed(point: DecisionPoint, engine: sa.Engine) -> None:
    recent = new_subject(engine, "recent@example.com", last_contact_at=NOW - timedelta(days=400))
    stale = new_subject(engine, "stale@example.com", created_at=NOW - timedelta(days=5 * 365),
                        last_contact_at=NOW - timedelta(days=4 * 365))
    assert codes(point, "prospecting", recent) == (True, [])
    decision = point.decide("prospecting", stale)  # only `contact` has a retention rule
    assert decision.allowed and decision.categories == ("identity",)
    assert codes(point, "prospecting", stale, ["contact.email"]) == (False, ["retention_passed"])


def test_unknown_subject(point: DecisionPoint) -> None:
    assert codes(point, "newsletter", {"email": "nobody@example.com"}, channel="email") == \
        (False, ["consent_missing"])
    assert codes(point, "prospecting", {"email": "nobody@example.com"}) == (True, [])


def test_decisions_are_audited_after_flush(engine: sa.Engine) -> None:
    sid = new_subject(engine)
    with DecisionPoint(register(), engine, clock=lambda: NOW) as point:
        for _ in range(3):
            point.decide("prospecting", sid, ["contact.email"])
        assert point.audit_writer is not None
    with engine.connect() as conn:
        decisions = list(audit.entries(conn, kind="decision"))
        assert audit.verify(conn).ok
    assert len(decisions) == 3
    assert decisions[0]["payload"]["allowed"] is True
    assert decisions[0]["subject_id"] == sid
