"""The consent ledger: state = fold of events, expiry and renewal, receipts, GPC."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit, consent, subjects
from garde.consent.ledger import (
    CLOCK_SKEW,
    DIGEST_FIELDS,
    Evidence,
    consent_events,
    event_digest,
    latest_per_key,
    values_digest,
)
from garde.consent.receipts import receipt
from garde.consent.state import ConsentEvent, as_utc, fold
from garde.decide import DecisionPoint
from garde.keys import identifier_data_key
from garde.periods import Period
from garde.problems import GardeError
from garde.store import metadata
from tests.test_decide import NOW, register


def test_migration_builds_the_declared_ledger(engine: sa.Engine) -> None:
    columns = {c["name"] for c in sa.inspect(engine).get_columns("consent_events")}
    assert columns == set(metadata.tables["consent_events"].columns.keys())


def test_give_withdraw_history_and_audit(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        given_event = consent.give(conn, sid, "newsletter", channel="email", method="web_form",
                                   at=NOW - timedelta(days=2),
                                   evidence=Evidence.from_request("192.0.2.1", "Firefox", "sha256:abc",
                                                                  key=identifier_data_key(conn)))
        consent.withdraw(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
    with engine.connect() as conn:
        events = list(consent.history(conn, sid))
        states = consent.current(conn, sid, at=NOW)
        kinds = [e["kind"] for e in audit.entries(conn, subject_id=sid)]
        assert audit.verify(conn).ok
    assert [e.action for e in events] == ["given", "withdrawn"]
    assert events[0].ip_hash and "192.0.2.1" not in json.dumps(events[0].to_data())
    assert events[0].event_id == given_event.event_id
    assert [(s.activity, s.channel, s.status) for s in states] == [("newsletter", "email", "withdrawn")]
    assert kinds == ["consent.given", "consent.withdrawn"]


def test_withdrawal_is_not_retroactive_and_a_late_import_of_an_old_consent_does_not_revive(
        engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        consent.withdraw(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=1))
        consent.give(conn, sid, "newsletter", channel="email", at=NOW - timedelta(days=30))  # recorded later
        states = consent.current(conn, sid, at=NOW)
    assert states[0].status == "withdrawn"


def test_expiry_uses_the_earlier_of_the_event_and_the_activity_lifetime() -> None:
    at = datetime(2024, 1, 31, tzinfo=UTC)
    event = ConsentEvent("cookies", "cookie.analytics", "given", at, expires_at=at + timedelta(days=400))
    now = datetime(2025, 3, 1, tzinfo=UTC)
    state = fold([event], "cookies", "cookie.analytics", now, Period(13, "month"))
    assert state.status == "expired" and state.expires_at == datetime(2025, 2, 28, tzinfo=UTC)


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))


@given(given_at=moments, months=st.integers(1, 36), after=st.integers(-400, 2000),
       renewal=st.one_of(st.none(), st.integers(1, 1500)))
def test_expiry_and_renewal(given_at: datetime, months: int, after: int, renewal: int | None) -> None:
    validity = Period(months, "month")
    now = given_at + timedelta(days=after)
    events = [ConsentEvent("a", "email", "given", given_at, seq=1)]
    if renewal is not None:
        events.append(ConsentEvent("a", "email", "given", given_at + timedelta(days=renewal), seq=2))
    latest = max((e for e in events if e.at <= now), key=lambda e: e.at, default=None)
    state = fold([e for e in events if e.at <= now], "a", "email", now, validity)
    if latest is None:
        assert state.status == "none"
    else:
        assert state.valid == (validity.after(latest.at) > now)
        assert state.status == ("given" if state.valid else "expired")


ACTIVITIES = ("newsletter", "cookies-analytics")
CHANNELS = ("email", "sms", None)
events_strategy = st.lists(
    st.tuples(st.sampled_from(ACTIVITIES), st.sampled_from(CHANNELS),
              st.sampled_from(["given", "withdrawn", "refused"]), st.integers(0, 40)),
    max_size=12)


def withdrawn_after_last_consent(events: list[ConsentEvent], activity: str, channel: str | None) -> bool:
    """Whether a withdrawal or refusal applying to (activity, channel) was recorded after the last
    consent recorded for it (``seq`` is the order recorded)."""
    applying = [e for e in events if e.activity == activity and e.channel in (channel, None)]
    last_given = max((e.seq for e in applying if e.action == "given"), default=None)
    return last_given is not None and any(e.seq > last_given for e in applying if e.action != "given")


@settings(max_examples=500)
@given(events_strategy)
def test_a_withdrawal_recorded_after_the_last_consent_means_not_consented(
        generated: list[tuple[str, str | None, str, int]]) -> None:
    """GDPR Art. 7(3), whatever the dates the events claim (a consent dated later than the
    withdrawal recorded after it, an old file imported late): listed in the order recorded."""
    events = [ConsentEvent(a, c, x, NOW + timedelta(days=d - 20), seq=i + 1)  # type: ignore[arg-type]
              for i, (a, c, x, d) in enumerate(generated)]
    for activity in ACTIVITIES:
        for channel in CHANNELS:
            state = fold(events, activity, channel, NOW + timedelta(days=30))
            if withdrawn_after_last_consent(events, activity, channel):
                assert state.status in ("withdrawn", "refused")
            applying = [e for e in events if e.activity == activity and e.channel in (channel, None)]
            if applying and not any(e.action != "given" for e in applying):
                assert state.status == "given"  # nothing withdrawn: the latest consent stands


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events_strategy)
def test_state_is_the_fold_of_events_in_python_and_in_sql(
        engine: sa.Engine, generated: list[tuple[str, str | None, str, int]]) -> None:
    """Events recorded in an order their dates do not follow: the store's state, the audience's
    SQL fold and decide() agree with :func:`fold`, and keep every withdrawal recorded last. The
    examples share the test's store (as they shared its database before): each starts by deleting
    the events; a decision point of its own."""
    base = NOW - timedelta(days=60)
    with engine.begin() as conn:
        conn.execute(consent_events.delete())
        sid = subjects.ensure_subject(conn, {"email": "fold@example.com"})
        for activity, channel, action, day in generated:
            consent.record_consent(conn, sid, activity, action, channel=channel,  # type: ignore[arg-type]
                                   at=base + timedelta(days=day))
    reference = [ConsentEvent(a, c, x, base + timedelta(days=d), seq=i)  # type: ignore[arg-type]
                 for i, (a, c, x, d) in enumerate(generated)]
    point = DecisionPoint(register(), engine, audit=False, clock=lambda: NOW)
    with engine.connect() as conn:
        derived = {(s.activity, s.channel): s.status for s in consent.current(conn, sid, at=NOW)}
        for activity in ACTIVITIES:
            for channel in CHANNELS:
                expected = fold(reference, activity, channel, NOW)
                if (activity, channel) in derived:
                    assert derived[(activity, channel)] == expected.status
                latest = latest_per_key(activity, channel)
                row = conn.execute(sa.select(latest.c.action).where(latest.c.rank == 1)).first()
                assert (row.action if row else "none") == expected.status
                if withdrawn_after_last_consent(reference, activity, channel):
                    assert expected.status in ("withdrawn", "refused")
                if channel is not None and activity == "newsletter":
                    allowed = point.decide(activity, sid, channel=channel).allowed
                    assert allowed == (expected.status == "given")
    point.close()


def test_a_consent_dated_later_does_not_undo_a_withdrawal_recorded_after_it(engine: sa.Engine) -> None:
    """A consent dated a few minutes ahead (a clock ahead, within the tolerated skew), then a
    withdrawal: decide(), the subject's state and the audience all say withdrawn."""
    from garde.audience import audience
    from garde.decide.model import DecisionModel

    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        consent.give(conn, sid, "newsletter", channel="email", at=subjects.now() + timedelta(minutes=4))
        consent.withdraw(conn, sid, "newsletter", channel="email")
    later = subjects.now() + timedelta(minutes=10)
    with DecisionPoint(register(), engine, audit=False, clock=lambda: later) as point:
        decision = point.decide("newsletter", sid, channel="email")
    assert not decision.allowed and "consent_withdrawn" in decision.codes()
    with engine.connect() as conn:
        assert [s.status for s in consent.current(conn, sid, at=later)] == ["withdrawn"]
        model = DecisionModel(register())
        assert list(audience(conn, model, "newsletter", "email", at=later)) == []


@pytest.mark.parametrize(("days_after_withdrawal", "status"), [(-3, "withdrawn"), (3, "given")])
def test_an_export_imported_after_a_withdrawal(engine: sa.Engine, days_after_withdrawal: int,
                                               status: str) -> None:
    """Recorded after the withdrawal, an imported consent counts only by its date: one dated
    before the withdrawal (an old file) does not revive the consent; one dated after it is a
    new consent (the subject consented again in the other tool)."""
    from garde.consent.importing import import_rows

    withdrawn_at = NOW - timedelta(days=10)
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        consent.withdraw(conn, sid, "newsletter", channel="email", at=withdrawn_at)
    at = withdrawn_at + timedelta(days=days_after_withdrawal)
    report = import_rows(engine, [{"id": "1", "email": "ana@example.com", "activity": "newsletter",
                                   "channel": "email", "action": "given", "at": at.isoformat()}],
                         source="tool")
    assert report.added == 1
    with engine.connect() as conn:
        assert [s.status for s in consent.current(conn, sid, at=NOW)] == [status]


def test_a_consent_dated_in_the_future_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        with pytest.raises(GardeError, match=r"^at: .* is in the future \(more than 5 minutes ahead"):
            consent.give(conn, sid, "newsletter", channel="email",
                         at=subjects.now() + CLOCK_SKEW + timedelta(minutes=1))
        consent.give(conn, sid, "newsletter", channel="email", at=subjects.now() + CLOCK_SKEW / 2)
    with engine.connect() as conn:
        assert [e.action for e in consent.history(conn, sid)] == ["given"]


def test_receipt_follows_iso_27560_and_kantara(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        ip_hash = consent.hash_ip("192.0.2.1", identifier_data_key(conn))
        event = consent.give(conn, sid, "newsletter", channel="email", method="web_form",
                             evidence=Evidence("sha256:notice-v3", ip_hash, "Firefox"),
                             valid_for=Period(3, "year"))
    document = json.loads(json.dumps(receipt(event, register())))
    assert set(document) >= {"schema_version", "header", "processing", "parties", "events", "kantara"}
    assert document["header"]["record_id"] == event.event_id
    assert document["header"]["pii_principal_id"] == sid
    processing = document["processing"]
    assert processing["legal_basis"] == ["eu-gdpr:A6-1-a"]
    assert processing["personal_data_types"] == ["identity.name", "contact.email"]
    assert processing["notice"]["version"] == "sha256:notice-v3"
    assert processing["withdrawal_method"] == ["unsubscribe_link"]
    assert [p["role"] for p in document["parties"]] == ["controller", "pii_principal"]
    (record,) = document["events"]
    assert record["event_state"] == "dpv:ConsentGiven" and record["validity_duration"] == "P3Y"
    assert record["evidence"]["user_agent"] == "Firefox"
    kantara = document["kantara"]
    assert kantara["consentReceiptID"] == event.event_id and kantara["piiPrincipalId"] == sid
    assert kantara["services"][0]["purposes"][0]["purpose"] == "Send the newsletter"
    assert kantara["jurisdiction"] == "FR"
    assert as_utc(event.expires_at or NOW).year == event.at.year + 3


def test_gpc_header() -> None:
    assert consent.gpc_signal({"Sec-GPC": "1"})
    assert consent.gpc_signal({"sec-gpc": " 1 "})
    assert not consent.gpc_signal({"Sec-GPC": "0"})
    assert not consent.gpc_signal({"DNT": "1"})


texts = st.one_of(st.none(), st.text(max_size=40))
digest_values = st.tuples(*([texts] * 5), moments, texts, texts, texts, texts, st.one_of(st.none(), moments))


@settings(max_examples=200)
@given(digest_values)
def test_an_event_digest_is_the_sha256_of_its_canonical_audit_form(values: tuple[object, ...]) -> None:
    """The importer's hand-written canonical JSON is byte for byte the audit module's."""
    canonical = [as_utc(v).isoformat() if isinstance(v, datetime) else v for v in values]
    expected = hashlib.sha256(audit.canonical_payload({"event": canonical}).encode()).hexdigest()
    assert values_digest(values) == expected
    assert event_digest(dict(zip(DIGEST_FIELDS, values, strict=True))) == expected
