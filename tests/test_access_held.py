"""An access answer holds what garde itself keeps of the subject, and nothing of anyone else (issue 11).

Ana and Bob share a consent channel (the newsletter by e-mail), both
objected, both are on the suppression list, both are named by a legal hold
and both have audit entries. Ana's answer lists each of her records and no
trace of Bob's; "we hold no data about you" is said only when the datasets
and garde hold nothing but the request itself, with the controller and its
supervisory authority named. On SQLite and on PostgreSQL (the ``shop``
fixture of test_rights_requests).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from garde import consent
from garde.consent.confirmations import ask
from garde.consent.ledger import Evidence, hash_ip
from garde.consent.objections import object_to
from garde.keys import identifier_data_key
from garde.legal_holds import place_hold, release_hold
from garde.rights import reject, submit
from garde.rights.access import report_ready
from garde.rights.running import run
from garde.subjects import ensure_subject, identifier_hash
from garde.suppression import suppress
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

ANA, BOB = "ana@example.org", "bob@example.org"


def _answer(shop: Shop, request_id: str) -> tuple[dict[str, Any], str, str]:  # noqa: F811
    folder = shop.deployment.results / request_id
    report_ready(folder, shop.deployment.results)  # as every reader of the answer does
    text = (folder / "access.json").read_text()
    return json.loads(text), text, (folder / "access.html").read_text()


def _records_of_two_people(shop: Shop) -> None:  # noqa: F811
    with shop.store.begin() as conn:
        key = identifier_data_key(conn)
        for email, who in ((ANA, "Ana"), (BOB, "Bob")):
            subject = ensure_subject(conn, {"email": email})
            consent.give(conn, subject, "newsletter", channel="email", method="web_form",
                         evidence=Evidence(notice_version=f"notice-{who}", ip_hash=hash_ip("192.0.2.1", key),
                                           user_agent=f"Browser of {who}"))
            object_to(conn, subject, "crm-profiling", reason=f"objection of {who}")
            suppress(conn, {"email": email}, "unsubscribed")
            place_hold(conn, "subject", f"email:{email}", f"litigation with {who}")
        consent.withdraw(conn, ensure_subject(conn, {"email": ANA}), "newsletter", channel="email",
                         method="unsubscribe_link")
        earlier = submit(conn, "erasure", {"email": ANA}, language="en")
        reject(conn, earlier.id, "Ana's earlier erasure: an order is still open")
        bob_request = submit(conn, "access", {"email": BOB}, language="en")
        reject(conn, bob_request.id, "Bob's request: identity not confirmed")


def test_an_access_answer_lists_every_kind_of_record_garde_keeps_of_the_subject(shop: Shop) -> None:  # noqa: F811
    _records_of_two_people(shop)
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    run(shop.store, request_id, shop.deployment)
    answer, text, html = _answer(shop, request_id)
    held = answer["held"]
    assert [(c["activity"], c["channel"], c["action"]) for c in held["consents"]] == [
        ("newsletter", "email", "given"), ("newsletter", "email", "withdrawn")]
    assert held["consents"][0]["notice_version"] == "notice-Ana"
    assert [(o["scope"], o["reason"]) for o in held["objections"]] == [("crm-profiling", "objection of Ana")]
    assert [(e["identity"], e["reason"]) for e in held["suppression"]] == [("email", "unsubscribed")]
    assert [h["reason"] for h in held["legal_holds"]] == ["litigation with Ana"]
    kinds = [r["type"] for r in held["requests"]]
    assert kinds == ["erasure", "access"] and held["requests"][1]["current"]
    assert held["requests"][0]["rejection_reason"] == "Ana's earlier erasure: an order is still open"
    assert [s["status"] for s in held["requests"][0]["steps"]] == ["received", "rejected"]
    audited = {e["kind"] for e in held["audit"]}
    assert {"consent.given", "consent.withdrawn", "objection", "legal_hold.placed"} <= audited
    assert not answer["no_data"]
    # Read by a person: the HTML names each record in words and dates.
    for words in ("Your consents and their history", "Your objections", "Do-not-contact list",
                  "Legal holds naming you", "litigation with Ana", "consent withdrawn", "legal hold placed",
                  "request: identity verified",
                  "an order is still open"):
        assert words in html, words
    # Nothing of Bob, who shares the channel, the hold and the audit stream.
    assert "request.verified" not in html
    for trace in ("Bob", BOB, "notice-Bob", "Browser of Bob"):
        assert trace not in text and trace not in html, trace


def test_an_access_answer_shows_no_digest_code_or_key(shop: Shop) -> None:  # noqa: F811
    _records_of_two_people(shop)
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    run(shop.store, request_id, shop.deployment)
    _, text, html = _answer(shop, request_id)
    with shop.store.connect() as conn:
        key = identifier_data_key(conn)
        secrets = [identifier_hash("email", ANA, key), hash_ip("192.0.2.1", key)]
        secrets += [row.hash for row in conn.execute(sa.text("SELECT hash FROM audit_log"))]
        secrets += [row.code_hash for row in conn.execute(sa.text("SELECT code_hash FROM "
                                                                  "verification_codes"))]
    for secret in secrets:
        assert secret not in text and secret not in html
    assert not re.search(r'"(ip_hash|digest|hash|code_hash|identity_hash)"', text)


def test_a_released_hold_is_still_listed_with_its_release(shop: Shop) -> None:  # noqa: F811
    with shop.store.begin() as conn:
        ensure_subject(conn, {"email": ANA})
        hold = place_hold(conn, "subject", f"email:{ANA}", "tax audit")
        release_hold(conn, hold)
    request_id = verified(shop, "access", {"email": ANA}, language="fr")
    run(shop.store, request_id, shop.deployment)
    answer, _, html = _answer(shop, request_id)
    assert [h["reason"] for h in answer["held"]["legal_holds"]] == ["tax audit"]
    assert answer["held"]["legal_holds"][0]["released_at"] is not None
    assert {"legal_hold.placed", "legal_hold.released"} <= {e["kind"] for e in answer["held"]["audit"]}
    assert "Levée le" in html


def test_no_data_is_said_only_when_datasets_and_garde_hold_nothing(shop: Shop) -> None:  # noqa: F811
    nobody = "nobody@example.org"
    request_id = verified(shop, "access", {"email": nobody}, language="fr")
    run(shop.store, request_id, shop.deployment)
    answer, _, html = _answer(shop, request_id)
    assert answer["no_data"] and answer["categories"] == []
    assert answer["controllers"] == ["Mini Shop SAS"]
    assert "Mini Shop SAS ne détient aucune donnée vous concernant" in html
    assert "CNIL" in answer["no_data_text"] and "CNIL" in html


def test_a_consent_alone_is_data_held(shop: Shop) -> None:  # noqa: F811
    someone = "someone@example.org"  # in no dataset: only garde knows of their consent
    with shop.store.begin() as conn:
        consent.give(conn, ensure_subject(conn, {"email": someone}), "newsletter", channel="email")
    request_id = verified(shop, "access", {"email": someone}, language="en")
    run(shop.store, request_id, shop.deployment)
    answer, _, html = _answer(shop, request_id)
    assert not answer["no_data"] and answer["no_data_text"] is None
    assert len(answer["held"]["consents"]) == 1
    assert "holds no data about you" not in html


def test_an_earlier_request_alone_is_data_held(shop: Shop) -> None:  # noqa: F811
    someone = "someone@example.org"
    first = verified(shop, "access", {"email": someone}, language="en")
    run(shop.store, first, shop.deployment)
    assert _answer(shop, first)[0]["no_data"]
    second = verified(shop, "access", {"email": someone}, language="en")
    run(shop.store, second, shop.deployment)
    answer = _answer(shop, second)[0]
    assert not answer["no_data"] and [r["id"] for r in answer["held"]["requests"]] == [first, second]


def test_a_hold_naming_a_national_phone_number_keeps_that_customer(shop: Shop) -> None:  # noqa: F811
    # The crm's contacts hold +33699999999; a DPO types it as French people write it.
    from garde.retention.holds import gather_holds

    with shop.store.begin() as conn:
        place_hold(conn, "subject", "phone:06 99 99 99 99", "litigation", region=shop.deployment.phone_region)
        holds = gather_holds(conn, shop.deployment.datamap, shop.deployment.engines)
    assert list(holds.rows.values()) == [{"crm.contacts": 2, "crm.interactions": 2}]


def test_what_garde_holds_is_read_in_one_statement_in_each_kind_s_order(shop: Shop) -> None:  # noqa: F811
    """Issue 14: the seven reads (subjects, consents, objections, suppression, requests, holds, audit)
    are one statement, plus two for the subject's other requests and their steps (nine before); each
    kind in its own order, the same records a read of each table gives."""
    from garde.audit import audit_log
    from garde.consent.ledger import consent_events, record_consent
    from garde.rights.held import garde_held
    from garde.rights.intake import get_request

    _records_of_two_people(shop)
    with shop.store.begin() as conn:  # a consent recorded later but given earlier comes first
        record_consent(conn, ensure_subject(conn, {"email": ANA}), "newsletter", "given", channel="sms",
                       at=datetime.now(UTC) - timedelta(days=3))
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
        sa.event.listen(conn, "before_cursor_execute", count)
        held = garde_held(conn, request, {"email": [ANA]})
        sa.event.remove(conn, "before_cursor_execute", count)
        subject = request.subject_id
        c, a = consent_events.c, audit_log.c
        consents = conn.execute(sa.select(c.channel, c.action).where(c.subject_id == subject)
                                .order_by(c.at, c.id)).all()
        audited = conn.execute(sa.select(a.seq).where(a.subject_id == subject)
                               .order_by(a.seq)).scalars().all()
    assert len(sent) == 3, "\n".join(sent)
    assert [(e["channel"], e["action"]) for e in held["consents"]] == [tuple(row) for row in consents]
    assert held["consents"][0]["channel"] == "sms"
    assert [e["seq"] for e in held["audit"]] == audited
    assert [r["type"] for r in held["requests"]] == ["erasure", "access"]
    assert [h["reason"] for h in held["legal_holds"]] == ["litigation with Ana"]
    assert [(o["scope"], o["reason"]) for o in held["objections"]] == [("crm-profiling", "objection of Ana")]
    assert [(e["identity"], e["reason"]) for e in held["suppression"]] == [("email", "unsubscribed")]


def test_the_decisions_in_batch_rows_are_in_the_answer_as_rows_are(shop: Shop) -> None:  # noqa: F811
    """Issue 14, migration 0037: the audit writer's decisions stored as batch rows are listed in the
    access answer with the subject's other entries, in order, and none of Bob's; past the SQLite
    runs' frontier (the last appends) and indexed alike."""
    from garde import audit
    from garde.rights.held import garde_held
    from garde.rights.intake import get_request

    _records_of_two_people(shop)
    head, tail = '{"activity":"newsletter","allowed":true,"at":', ',"reasons":["consent"]}'
    with shop.store.begin() as conn:
        ana, bob = (ensure_subject(conn, {"email": email}) for email in (ANA, BOB))
    for round_ in range(5):  # 5 × 600: three runs built on SQLite, the rest past the frontier
        items = [("decision", (head, 1_765_000_000.0 + round_ + n * 1e-5, tail), (ana, bob, None)[n % 3],
                  "garde") for n in range(600)]
        with shop.store.begin() as conn:
            audit._append(conn, items, None, batched=True)
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    with shop.store.connect() as conn:
        held = garde_held(conn, get_request(conn, request_id), {"email": [ANA]})
        expected = [(e["seq"], e["kind"]) for e in audit.entries(conn, subject_id=ana)]
        assert audit.verify(conn).ok
    assert [(e["seq"], e["kind"]) for e in held["audit"]] == expected
    assert sum(1 for e in held["audit"] if e["kind"] == "decision") == 1000
    assert all(e["details"].get("allowed") is True for e in held["audit"] if e["kind"] == "decision")


def test_a_confirmation_asked_of_the_address_is_data_held(shop: Shop) -> None:  # noqa: F811
    """A shop's form named this address, unchecked (the consent API, sec28): garde keeps a confirmation
    asked of it (its keyed digest, the activity, the key that asked, when; answered or not) and mailed
    its holder. That is garde's record of them (Art. 15(1)): the answer lists it (red29: it said garde
    held nothing), in JSON and in the report's words, naming the key that asked, never its secret,
    and nothing of a confirmation asked of another address."""
    someone = "asked@example.org"  # in no dataset, no consent: only the confirmation names them
    with shop.store.begin() as conn:
        ask(conn, "email", someone, "newsletter", "email", actor="key:shop-forms")
        ask(conn, "email", "other@example.org", "newsletter", "email", actor="key:shop-forms")
    for lang, heading, unanswered in (("en", "Consent confirmations asked of you", "not answered"),
                                      ("fr", "Confirmations de consentement qui vous ont été demandées",
                                       "sans réponse"),
                                      ("it", "Conferme del consenso che ti sono state chieste",
                                       "senza risposta")):
        request_id = verified(shop, "access", {"email": someone}, language=lang)
        run(shop.store, request_id, shop.deployment)
        answer, text, html = _answer(shop, request_id)
        assert not answer["no_data"], answer["no_data_text"]
        [asked] = answer["held"]["confirmations"]
        assert {k: v for k, v in asked.items() if k != "asked_at"} == {
            "identity": "email", "activity": "newsletter", "channel": "email", "asked_by": "shop-forms",
            "answered_at": None}
        assert asked["asked_at"] is not None and "other@" not in text and "hash" not in asked
        assert heading in html and unanswered in html and "shop-forms" in html
