"""An identity the shop's systems name beside someone else's opens nothing of theirs: NOT YET (red25).

Red team of 2026-12-07 (red25), found and not fixed: the consent API links every identity a call
names to one engine subject (``garde.consent.recording.record_choice`` → ``ensure_subject``), so
that ``decide()`` and withdrawals find the subject by any of them. The shop's systems relay what a
visitor typed into a public form (an e-mail and a telephone number), and a data subject's session
opens the subject its proven identity is linked to, whoever made the link. Mallory types her own
e-mail and Bea's telephone number into the shop's newsletter form; the shop records the consent
with both; Mallory signs in with her own mailbox and reads Bea's requests, consents and answer
files (Bea's access answer: her whole record). The fix needs the links' provenance (a proof's
against a claim's) on the rights side: docs/security.md, residual "Identities linked on the shop's
word". This test says what must hold; it is expected to fail until then (``strict``: it fails the
suite once it passes, so that the mark goes with the fix).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from garde import consent
from garde.consent.recording import ConsentChoice, record_choice
from garde.decide.model import DecisionModel
from garde.rights import FileMailer, submit, verify_out_of_band
from garde.rights.held import engine_subjects, garde_held
from garde.rights.mailer import WithSms
from garde.rights.my_consents import OutsideScope, change_my_consent, object_to_direct_marketing
from garde.rights.self_service import my_consents, my_requests, submit_mine
from garde.rights.sessions import SubjectSession, authenticate, confirm_session, start_session
from garde.subjects import find_subject, objections
from garde.suppression import is_suppressed
from tests.api_support import Served, bearer, subject_token
from tests.conftest import mailed_code
from tests.subjects_support import ME, World
from tests.web_support import answer_files, answered, csrf_of, mailed_code_to, mails_to, privacy_center


@pytest.mark.parametrize("subjects_app", ["sqlite"], indirect=True)
def test_an_identity_claimed_beside_anothers_opens_none_of_their_records(subjects: World) -> None:
    phone = f"+3361{uuid.uuid4().int % 10**7:07d}"
    mallory = f"mallory-{uuid.uuid4().hex[:8]}@attacker.example"
    shop = bearer(subjects.keys["service"])
    for identities in ({"email": subjects.bea, "phone": phone},  # Bea's checkout, her own number
                       {"email": mallory, "phone": phone}):      # Mallory's form: her address, Bea's number
        given = subjects.client.post("/api/v1/consents/give", headers=shop, json={
            "activity": "newsletter", "subject": identities, "channel": "email", "method": "web_form"})
        assert given.status_code == 201, given.text
    token = bearer(subject_token(subjects.client, mallory, subjects.outbox))
    assert subjects.client.get(f"{ME}/files", headers=token).json() == []
    assert subjects.client.get(f"{ME}/requests", headers=token).json() == []
    request_id, name = subjects.files[subjects.bea][0]
    assert subjects.client.get(f"{ME}/requests/{request_id}/files/{name}", headers=token).status_code == 404
    assert subjects.client.get(f"{ME}/consents", headers=token).json()["partial"] is True


# The library, on SQLite and PostgreSQL: the variant, the consents a narrowed session changes, its
# requests' subject, and the genuine customer's flows (a phone session through an SMS gateway).
MODEL = DecisionModel.load(Path(__file__).resolve().parents[1] / "registers" / "reference-shop.yaml")


class Texts:
    """An SMS gateway that keeps the texts it was given (the outside service a deployment plugs in)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_sms(self, to: str, body: str) -> None:
        self.sent.append((to, body))


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _phone() -> str:
    return f"+3361{uuid.uuid4().int % 10**7:07d}"


def _claim(engine: sa.Engine, activity: str, identities: dict[str, str], action: str = "given") -> str:
    """What the shop's consent API records (``record_choice``, as ``POST /consents/give``); the subject."""
    event = record_choice(engine, MODEL, ConsentChoice(
        action="given" if action == "given" else "withdrawn", activity=activity, identities=identities,
        channel="email" if activity == "newsletter" else None))
    return event.subject_id


def _session(engine: sa.Engine, kind: str, value: str, folder: Path) -> SubjectSession:
    """A session proven by the code sent to ``value`` (a mail, or a text for a phone)."""
    texts, outbox = Texts(), folder / f"mail-{_tag()}"
    started = start_session(engine, kind, value, WithSms(FileMailer(outbox), texts))
    started.deliver()
    found_code = re.search(r"\b(\d{6})\b", texts.sent[-1][1]) if kind == "phone" else None
    code = found_code.group(1) if found_code else mailed_code(outbox)
    token = confirm_session(engine, started.session, code)
    with engine.connect() as conn:
        found = authenticate(conn, token.token)
    assert found is not None
    return found


def _states(engine: sa.Engine, session: SubjectSession) -> dict[str, str]:
    with engine.connect() as conn:
        state, _ = my_consents(conn, session, MODEL.validity())
    return {s.activity: s.status for s in state}


def _linked(engine: sa.Engine, kind: str, value: str) -> str | None:
    with engine.connect() as conn:
        return find_subject(conn, {kind: value})


def test_the_victims_email_beside_the_attackers_number_first_opens_nothing_later(
        engine: sa.Engine, tmp_path: Path) -> None:
    bea, number = f"bea-{_tag()}@example.com", _phone()
    shared = _claim(engine, "newsletter", {"email": bea, "phone": number})  # Mallory's form, Bea unknown yet
    assert _claim(engine, "segmentation", {"email": bea}) == shared  # Bea's later checkout joins it
    with engine.begin() as conn:
        beas = submit(conn, "access", {"email": bea}, actor="test")
        beas = verify_out_of_band(conn, beas.id, "id card", actor="agent:test", identities=["email"])
    assert beas.subject_id is not None and beas.subject_id != shared  # a subject of the request's own
    mallory = _session(engine, "phone", number, tmp_path)
    assert mallory.narrowed and mallory.subject_id == shared
    with engine.connect() as conn:
        assert my_requests(conn, mallory) == []
        _, history = my_consents(conn, mallory, MODEL.validity())
    assert {e.activity for e in history} == {"newsletter"}  # her own form's, not Bea's checkout
    assert _states(engine, mallory) == {"newsletter": "given"}
    with engine.begin() as conn:  # her request, proven by her number: its subject is not the shared one
        hers = submit_mine(conn, mallory, "access")
        assert hers.subject_id != shared
        assert shared not in engine_subjects(conn, hers.subject_id, {"phone": [number]})
        # their access answers: each the consents recorded with their own identities alone (not the
        # form's, which named both), and no other request
        mallorys_held = garde_held(conn, hers, {"phone": [number]})
        beas_held = garde_held(conn, beas, {"email": [bea]})
    assert mallorys_held["consents"] == []
    assert [r["id"] for r in mallorys_held["requests"]] == [hers.id]
    assert [c["activity"] for c in beas_held["consents"]] == ["segmentation"]
    assert [r["id"] for r in beas_held["requests"]] == [beas.id]
    # Bea proving her address sees what was recorded with it, and her request
    beas_session = _session(engine, "email", bea, tmp_path)
    assert beas_session.narrowed
    assert _states(engine, beas_session) == {"newsletter": "given", "segmentation": "given"}
    with engine.connect() as conn:
        assert [r.id for r in my_requests(conn, beas_session)] == [beas.id]
    with engine.connect() as conn:  # decide() still finds the shared subject by either identity
        assert find_subject(conn, {"email": bea}) == find_subject(conn, {"phone": number}) == shared


def test_an_attackers_session_changes_none_of_the_victims_consents(engine: sa.Engine, tmp_path: Path) -> None:
    bea, mallory, number = f"bea-{_tag()}@example.com", f"mallory-{_tag()}@attacker.example", _phone()
    shared = _claim(engine, "segmentation", {"email": bea, "phone": number})  # Bea's checkout
    assert _claim(engine, "newsletter", {"email": mallory, "phone": number}) == shared  # Mallory's form
    session = _session(engine, "email", mallory, tmp_path)
    assert session.narrowed
    assert _states(engine, session) == {"newsletter": "given"}
    with pytest.raises(OutsideScope):
        change_my_consent(engine, MODEL, session, "segmentation", None, False, "en")
    change_my_consent(engine, MODEL, session, "newsletter", "email", False, "en")  # her own: hers to withdraw
    assert object_to_direct_marketing(engine, MODEL, session, "en")
    with engine.connect() as conn:
        assert consent.current(conn, shared)[-1].status == "given"  # Bea's segmentation stands
        assert [s.activity for s in consent.current(conn, shared) if s.status == "given"] == ["segmentation"]
        assert objections(conn, shared) == set()  # the objection is Mallory's address's alone
        assert is_suppressed(conn, {"email": mallory}) and not is_suppressed(conn, {"email": bea})
        assert find_subject(conn, {"email": mallory}) == shared


def test_a_customer_sees_her_records_and_those_under_each_identity_she_proves(
        engine: sa.Engine, tmp_path: Path) -> None:
    cleo, number = f"cleo-{_tag()}@example.com", _phone()
    subject = _claim(engine, "newsletter", {"email": cleo})
    first = _session(engine, "email", cleo, tmp_path)  # a subject of her address alone: her link is proven
    assert not first.narrowed and _states(engine, first) == {"newsletter": "given"}
    assert _claim(engine, "segmentation", {"email": cleo, "phone": number}) == subject  # her checkout
    again = _session(engine, "email", cleo, tmp_path)
    # The checkout's number is the shop's word: her proven address no longer opens the whole record
    # (red27: a claim made after a proof is someone else's as likely), but what was recorded with it
    assert again.narrowed
    assert _states(engine, again) == {"newsletter": "given", "segmentation": "given"}
    with engine.begin() as conn:
        made = submit_mine(conn, again, "access")
    assert made.subject_id != subject  # a subject of the request's own
    by_phone = _session(engine, "phone", number, tmp_path)  # the number: only what was recorded with it
    assert by_phone.narrowed and _states(engine, by_phone) == {"segmentation": "given"}
    with engine.connect() as conn:
        assert my_requests(conn, by_phone) == []
        assert [r.id for r in my_requests(conn, again)] == [made.id]


def _token(served: Served, email: str) -> dict[str, str]:
    """A subject session for ``email`` through the API of a real `garde serve`, as a bearer header."""
    with httpx.Client(base_url=f"{served.url}/api/v1", timeout=60) as anyone:
        before = len(mails_to(served.outbox, email))
        started = anyone.post("/me/session", json={"email": email})
        assert started.status_code == 202, started.text
        confirmed = anyone.post("/me/session/confirm", json={
            "session": started.json()["session"], "code": mailed_code_to(served.outbox, email, before)})
        assert confirmed.status_code == 200, confirmed.text
    return bearer(confirmed.json()["token"])


def _privacy_center(served: Served, mallory: str, beas: str) -> None:
    """Mallory in the privacy center: told more may be held under other identities, none of Bea's
    request, and Bea's consent not hers to withdraw (403, the page says why)."""
    with privacy_center(served, mallory) as browser:
        page = browser.get("/privacy/me")
        assert "more may be held under the others" in page.text and beas not in page.text
        refused = browser.post("/privacy/me/consents", data={
            "csrf": csrf_of(page.text), "activity": "segmentation", "action": "withdraw"})
        assert refused.status_code == 403 and "was not recorded with the address" in refused.text


def test_an_attackers_restriction_and_erasure_leave_the_victims_subject_alone(served_shared: Served) -> None:
    """Against a real `garde serve` over the reference shop (SQLite, PostgreSQL): Mallory's own
    restriction and erasure, run by staff, leave Bea's subject active, her answer files and session."""
    served, mallory = served_shared, f"mallory-{_tag()}@attacker.example"
    bea = served.customers[5]
    shop = sa.create_engine(served.env["GARDE_SHOP_URL"])
    with shop.connect() as conn:
        number = conn.execute(sa.text("SELECT phone FROM customers WHERE email = :e"), {"e": bea}).scalar()
    shop.dispose()
    assert number
    with served.client("service") as service, served.client("agent") as staff, \
            httpx.Client(base_url=f"{served.url}/api/v1", timeout=60) as anyone:
        for activity, identities in (("segmentation", {"email": bea, "phone": number}),  # Bea's checkout
                                     ("newsletter", {"email": mallory, "phone": number})):  # Mallory's form
            given = service.post("/consents/give", json={"activity": activity, "subject": identities,
                                                         "channel": "email", "method": "web_form"})
            assert given.status_code == 201, given.text
        beas = answered(served, staff, "access", bea)
        beas_token = _token(served, bea)
        _privacy_center(served, mallory, beas)
        hers = _token(served, mallory)
        beas_mails = mails_to(served.outbox, bea)  # her codes and her answer's mail
        for type in ("restriction", "erasure"):
            made = anyone.post("/me/requests", headers=hers, json={"type": type})
            assert made.status_code == 201, made.text
            ran = served.run(staff, made.json()["id"])
            assert ran.json()["status"] == "completed", ran.text
        assert answer_files(staff, beas) == {"access.html", "access.json"}
        assert (served.results / beas / "access.json").is_file()
        assert mails_to(served.outbox, bea) == beas_mails  # the mails about her request stay
        mine = anyone.get("/me/requests", headers=beas_token)  # her session was not ended
        assert mine.status_code == 200 and beas in [r["id"] for r in mine.json()], mine.text
        decided = service.post("/decisions", json={"activity": "segmentation", "subject": {"email": bea}})
        # Bea's subject neither restricted nor erased
        assert decided.status_code == 200 and decided.json()["allowed"], decided.text
