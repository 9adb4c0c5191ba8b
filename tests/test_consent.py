"""The consent ledger: state = fold of events, expiry and renewal, receipts, GPC."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit, consent, subjects
from garde.consent.ledger import (
    DIGEST_FIELDS,
    Evidence,
    consent_events,
    event_digest,
    latest_per_key,
    values_digest,
)
from garde.consent.receipts import receipt
from garde.consent.state import ConsentEvent, as_utc, fold
from garde.periods import Period
from garde.store import connect, metadata, migrate
from tests.test_decide import NOW, register


def test_migration_builds_the_declared_ledger(engine: sa.Engine) -> None:
    columns = {c["name"] for c in sa.inspect(engine).get_columns("consent_events")}
    assert columns == set(metadata.tables["consent_events"].columns.keys())


def test_give_withdraw_history_and_audit(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        given_event = consent.give(conn, sid, "newsletter", channel="email", method="web_form",
                                   at=NOW - timedelta(days=2),
                                   evidence=Evidence.from_request("192.0.2.1", "Firefox", "sha256:abc"))
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events_strategy)
def test_state_is_the_fold_of_events_in_python_and_in_sql(
        sqlite_url: str, generated: list[tuple[str, str | None, str, int]]) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    base = NOW - timedelta(days=60)
    with engine.begin() as conn:
        conn.execute(consent_events.delete())
        sid = subjects.ensure_subject(conn, {"email": "fold@example.com"})
        for activity, channel, action, day in generated:
            consent.record_consent(conn, sid, activity, action, channel=channel,  # type: ignore[arg-type]
                                   at=base + timedelta(days=day))
    reference = [ConsentEvent(a, c, x, base + timedelta(days=d), seq=i)  # type: ignore[arg-type]
                 for i, (a, c, x, d) in enumerate(generated)]
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
    engine.dispose()


def test_receipt_follows_iso_27560_and_kantara(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": "ana@example.com"})
        event = consent.give(conn, sid, "newsletter", channel="email", method="web_form",
                             evidence=Evidence("sha256:notice-v3", consent.hash_ip("192.0.2.1"), "Firefox"),
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
