"""A claim made after a proof opens nothing more to that proof (red27).

Red team of 2026-12-07 (red27), high. Red25's fix confirms a link only when the proof opens the
whole subject, and never to a subject holding an identity it did not prove; but a link proven once
went on opening the whole subject, whatever the shop's systems linked to it since. Mallory records
a consent with her own number and proves it (a subject of that number alone: her link is proven);
then she types Bea's e-mail beside her number into the shop's form (Bea, unknown to garde yet, is
linked to Mallory's subject on the shop's word), and Bea's later checkout lands there. Mallory's
session was not narrowed: she read Bea's consents and withdrew or gave them in the privacy center,
and her access answer listed Bea's consents. A proof now opens the whole subject only while every
identity it holds is one the proof proved or one proven before, and one of the proof's own was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import consent
from garde.rights.held import garde_held
from garde.rights.my_consents import OutsideScope, change_my_consent
from garde.rights.self_service import submit_mine
from tests.api_support import bearer, subject_token
from tests.subjects_support import ME, World
from tests.test_claimed_links import MODEL, _claim, _phone, _session, _states, _tag


@pytest.mark.parametrize("subjects_app", ["sqlite"], indirect=True)
def test_through_the_api_the_attackers_session_lists_none_of_the_victims_later_consents(
        subjects: World) -> None:
    mallory, number = f"mallory-{_tag()}@attacker.example", _phone()
    shop = bearer(subjects.keys["service"])

    def give(activity: str, identities: dict[str, str]) -> None:
        given = subjects.client.post("/api/v1/consents/give", headers=shop, json={
            "activity": activity, "subject": identities, "channel": "email", "method": "web_form"})
        assert given.status_code == 201, given.text

    give("newsletter", {"email": mallory})  # her own address: a subject of it alone
    subject_token(subjects.client, mallory, subjects.outbox)  # proven
    give("newsletter", {"email": mallory, "phone": number})  # her form, Bea's number (unknown yet)
    give("segmentation", {"phone": number})  # Bea's later checkout
    token = bearer(subject_token(subjects.client, mallory, subjects.outbox))
    mine = subjects.client.get(f"{ME}/consents", headers=token).json()
    assert mine["partial"] is True
    assert {s["activity"] for s in mine["state"]} == {"newsletter"}
    assert {e["activity"] for e in mine["history"]} == {"newsletter"}


def test_a_claim_after_the_attackers_proof_opens_none_of_the_victims_later_records(
        engine: sa.Engine, tmp_path: Path) -> None:
    bea, number = f"bea-{_tag()}@example.com", _phone()
    mallorys = _claim(engine, "newsletter", {"phone": number})  # her own number: a subject of it alone
    first = _session(engine, "phone", number, tmp_path)
    assert not first.narrowed  # her link is proven from now on
    # her form, with Bea's address beside her number
    assert _claim(engine, "newsletter", {"phone": number, "email": bea}) == mallorys
    assert _claim(engine, "segmentation", {"email": bea}) == mallorys  # Bea's later checkout lands there
    session = _session(engine, "phone", number, tmp_path)
    assert session.narrowed
    assert _states(engine, session) == {"newsletter": "given"}  # not Bea's segmentation
    with pytest.raises(OutsideScope):
        change_my_consent(engine, MODEL, session, "segmentation", None, False, "en")
    with engine.connect() as conn:
        standing = consent.current(conn, mallorys)
    assert [s.status for s in standing if s.activity == "segmentation"] == ["given"]
    with engine.begin() as conn:
        hers = submit_mine(conn, session, "access")
        held = garde_held(conn, hers, {"phone": [number]})
    assert hers.subject_id != mallorys
    assert "segmentation" not in {c["activity"] for c in held["consents"]}
