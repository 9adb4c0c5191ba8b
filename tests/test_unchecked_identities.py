"""A consent is the person's own: identities the shop did not check are not linked, their holder confirms.

Residual of the red team of 2026-12-07 (red25), built by sec28: a consent the shop recorded through the
consent API for a form naming someone else's identity beside the visitor's landed on that person's
engine subject, so a visitor could opt another person in through the shop's own API. Each identity of
a call is now checked by the shop or not (``checked``, else ``consent_unchecked_identities``); an
unchecked one is never linked to the others, and a consent for it waits for its holder's confirmation
in the privacy center (docs/security.md, *A consent is the person's own*).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit, consent
from garde.consent.confirmations import LIFETIME, PER_HOUR, forget, open_for
from garde.consent.recording import ConsentChoice, record_choice, record_gpc_signal
from garde.consent.unchecked import record_call, unchecked_kinds
from garde.decide.model import DecisionModel
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.rights import FileMailer
from garde.subjects import find_subject, identifier_hash, now, objections
from tests.api_support import Served, served_shop
from tests.web_support import csrf_of, mails_to, privacy_center

MODEL = DecisionModel.load(Path(__file__).resolve().parents[1] / "registers" / "reference-shop.yaml")


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _phone() -> str:
    return f"+3361{uuid.uuid4().int % 10**7:07d}"


def _allowed(client: httpx.Client, subject: dict[str, str]) -> bool:
    decided = client.post("/decisions", json={"activity": "newsletter", "subject": subject,
                                              "channel": "email"})
    assert decided.status_code == 200, decided.text
    return bool(decided.json()["allowed"])


def _give(client: httpx.Client, subject: dict[str, str], checked: dict[str, bool] | None = None,
          action: str = "give") -> httpx.Response:
    body = {"activity": "newsletter", "subject": subject, "channel": "email"}
    flags = {"checked": checked} if checked is not None else {}
    return client.post(f"/consents/{action}", json=body | flags)


def _mails(outbox: Path, to: str, at_least: int) -> list[str]:
    """The mails to ``to``, once there are ``at_least`` (a real server mails after its answer)."""
    deadline = time.monotonic() + 60
    while len(found := mails_to(outbox, to)) < at_least:
        assert time.monotonic() < deadline, f"no mail to {to}"
        time.sleep(0.05)
    return found


def test_a_visitor_cannot_opt_someone_else_in_through_the_shops_api(served_shared: Served) -> None:
    """Against a real `garde serve` (SQLite, PostgreSQL): Mallory, signed in to her account (her
    address checked), types Bea's number into the form's SMS field; the shop says the number is not
    checked. The consent lands on Mallory's subject only; Bea's number is asked to confirm."""
    served, mallory, number = served_shared, f"mallory-{_tag()}@attacker.example", _phone()
    bea = served.customers[7]
    with served.client("service") as shop:
        # Bea's own account: her address and number, checked, the newsletter refused
        assert _give(shop, {"email": bea, "phone": number}, {"email": True, "phone": True},
                     "withdraw").status_code == 201
        given = _give(shop, {"email": mallory, "phone": number}, {"email": True, "phone": False})
        assert given.status_code == 201, given.text
        assert given.json()["pending"] == ["phone"]
        assert _allowed(shop, {"email": mallory})
        assert not _allowed(shop, {"email": bea}) and not _allowed(shop, {"phone": number})
        # Bea gives it herself; Mallory's withdrawal naming Bea's number unchecked: a withdrawal is
        # honoured for the number (Art. 7(3)), on Bea's subject, linking Mallory to nothing of hers
        assert _give(shop, {"email": bea}, {"email": True}).status_code == 201
        withdrawn = _give(shop, {"email": mallory, "phone": number}, {"email": True, "phone": False},
                          "withdraw")
        assert withdrawn.status_code == 201, withdrawn.text
        assert not _allowed(shop, {"email": mallory}) and not _allowed(shop, {"email": bea})
        assert _give(shop, {"email": bea}, {"email": True}).status_code == 201
        assert _allowed(shop, {"email": bea}) and not _allowed(shop, {"email": mallory})
        problem = _give(shop, {"email": mallory}, {"phone": False})
        assert problem.status_code == 400 and "phone" in problem.json()["detail"]


@pytest.fixture
def served_confirming(migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A real `garde serve` whose setting asks every identity a call does not mark checked to confirm."""
    monkeypatch.setenv("GARDE_CONSENT_UNCHECKED_IDENTITIES", "confirm")
    admin = None if migrated_url.startswith("sqlite") else request.getfixturevalue("postgres_admin_url")
    with served_shop(migrated_url, tmp_path, admin) as running:
        yield running


def test_unflagged_identities_wait_for_their_holders_confirmation(served_confirming: Served) -> None:
    """``consent_unchecked_identities = confirm`` (SQLite, PostgreSQL): an integration sending no flag
    (as every one before the setting) records nothing for the identities of a public form; their holder
    confirms in the privacy center, and the consent is then theirs alone. Before: 201, and Bea opted in."""
    served, number = served_confirming, _phone()
    bea, ana = served.customers[3], f"ana-{_tag()}@example.com"
    with served.client("service") as shop:
        assert _give(shop, {"email": bea, "phone": number}, {"email": True, "phone": True},
                     "withdraw").status_code == 201
        pending = _give(shop, {"email": ana, "phone": number})  # Ana's form: her address, Bea's number
        assert pending.status_code == 202, pending.text
        assert pending.json() == {"pending": ["email", "phone"], "unconfirmable": []}
        assert not _allowed(shop, {"phone": number}) and not _allowed(shop, {"email": bea})
        assert not _allowed(shop, {"email": ana})
        # no oracle: an address garde knows (Bea's) and an unknown one get the same answer, byte for byte
        known = _give(shop, {"email": bea})
        unknown = _give(shop, {"email": f"x-{_tag()}@example.org"})
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
        invitation = _mails(served.outbox, ana, 1)[-1]
        assert "https://www.maison-exemple.example/privacy" in invitation and "Newsletter" in invitation
        assert not any(ch.isdigit() for ch in invitation.split("within")[0][-40:])  # no code in it
        with privacy_center(served, ana) as browser:
            page = browser.get("/privacy/me")
            assert "awaiting your confirmation" in page.text
            confirmed = browser.post("/privacy/me/consents", data={
                "csrf": csrf_of(page.text), "activity": "newsletter", "channel": "email", "action": "give"})
            assert confirmed.status_code == 303, confirmed.text
            assert "awaiting your confirmation" not in browser.get("/privacy/me").text
        assert _allowed(shop, {"email": ana})
        assert not _allowed(shop, {"phone": number}) and not _allowed(shop, {"email": bea})
        # the shop's checked word still links, as before the setting
        assert _give(shop, {"email": bea}, {"email": True}).status_code == 201
        assert _allowed(shop, {"phone": number})
    engine = sa.create_engine(served.store, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            kinds = [e["kind"] for e in audit.entries(conn) if e["kind"].startswith("consent.confirmation")]
    finally:
        engine.dispose()
    assert "consent.confirmation_asked" in kinds and "consent.confirmation_answered" in kinds


def test_invitations_to_one_mailbox_are_bounded_as_codes_are(engine: sa.Engine, tmp_path: Path) -> None:
    """Sub-addresses of one mailbox share its budget (3 an hour); asking again for the same consent
    mails nothing; past the limit the confirmation is still kept for its holder."""
    box, outbox = f"ada-{_tag()}", tmp_path / "outbox"
    mailer = FileMailer(outbox)
    answers = []
    for tag in ("a", "b", "a", "c", "d"):
        address = f"{box}+{tag}@example.org"
        recorded = record_call(engine, MODEL, ConsentChoice("given", "newsletter", {"email": address},
                                                            channel="email"), frozenset({"email"}), mailer)
        recorded.deliver()
        answers.append((recorded.event, recorded.pending, recorded.unconfirmable))
    assert answers == [(None, ("email",), ())] * 5  # the same answer, mailed or not
    assert len(mailer.messages()) == PER_HOUR.limit
    with engine.connect() as conn:
        key = identifier_data_key(conn)
        digest = identifier_hash("email", f"{box}+d@example.org", key)
        assert open_for(conn, "email", digest) == {("newsletter", "email")}
        assert open_for(conn, "email", digest, at=now() + LIFETIME + timedelta(minutes=1)) == set()  # expired
    with engine.begin() as conn:  # an erasure proven with that identity (garde.rights.erasure)
        assert forget(conn, [("email", digest)]) == 1
        assert open_for(conn, "email", digest) == set()


def test_the_flags_edges() -> None:
    both = {"email": "a@example.org", "phone": "+33611111111", "customer_id": "C1"}
    assert unchecked_kinds(both, None, None) == frozenset()
    assert unchecked_kinds(both, None, "link") == frozenset()
    assert unchecked_kinds(both, None, "confirm") == {"email", "phone"}
    assert unchecked_kinds(both, {"email": True}, "confirm") == {"phone"}
    assert unchecked_kinds(both, {"phone": False}, "link") == {"phone"}
    with pytest.raises(GardeError, match="customer id"):
        unchecked_kinds(both, {"customer_id": False}, "link")
    with pytest.raises(GardeError, match="phone"):
        unchecked_kinds({"email": "a@example.org"}, {"phone": True}, None)


KINDS = ("email", "phone", "customer_id")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(named=st.sets(st.sampled_from(KINDS), min_size=1),
       flags=st.dictionaries(st.sampled_from(("email", "phone")), st.booleans()),
       victims=st.sets(st.sampled_from(KINDS)), action=st.sampled_from(("given", "withdrawn")),
       policy=st.sampled_from((None, "link", "confirm")))
def test_an_unchecked_identity_is_never_linked_nor_opted_in(
        engine: sa.Engine, tmp_path: Path, named: set[str], flags: dict[str, bool], victims: set[str],
        action: str, policy: str | None) -> None:
    """Over mixed checked and unchecked identity sets, some of them already a victim's (her own, checked,
    consent withdrawn): no unchecked identity is linked to the call's subject, the victim's standing
    changes only by a withdrawal, and the checked identities share the event's subject."""
    tag = _tag()
    values = {"email": f"p-{tag}@example.org", "phone": _phone(), "customer_id": f"C-{tag}"}
    identities = {kind: values[kind] for kind in sorted(named)}
    flags = {kind: flag for kind, flag in flags.items() if kind in identities}
    victim = None
    if victims:
        victim = record_choice(engine, MODEL, ConsentChoice(
            "given", "newsletter", {kind: values[kind] for kind in victims}, channel="email")).subject_id
    unchecked = unchecked_kinds(identities, flags, policy)  # type: ignore[arg-type]
    recorded = record_call(engine, MODEL, ConsentChoice(
        "given" if action == "given" else "withdrawn", "newsletter", identities, channel="email"),
        unchecked, FileMailer(tmp_path / f"outbox-{tag}"))
    checked = [kind for kind in identities if kind not in unchecked]
    with engine.connect() as conn:
        holders = {kind: find_subject(conn, {kind: values[kind]}) for kind in identities}
        standing = None if victim is None else {
            s.activity: s.status for s in consent.current(conn, victim)}["newsletter"]
    event = recorded.event
    assert (event is None) == (action == "given" and not checked)
    for kind in checked:  # the shop's word: linked to the event's subject, as before
        assert event is not None and holders[kind] == event.subject_id
    for kind in unchecked:
        if kind in victims:  # hers, and still only hers
            assert holders[kind] == victim
        elif action == "given":  # linked to no one until its holder confirms
            assert holders[kind] is None
        else:  # a withdrawal on a subject of its own
            assert holders[kind] is not None and holders[kind] != victim
            assert event is None or not checked or holders[kind] != event.subject_id
    if victim is not None:
        assert standing == ("withdrawn" if action == "withdrawn" and victims & set(identities) else "given")
    assert recorded.pending == (tuple(kind for kind in identities if kind in unchecked)
                                if action == "given" else ())


def test_a_gpc_signal_links_no_unchecked_identity(served_shared: Served) -> None:
    """``/consents/gpc`` takes ``checked`` as the consent calls do (SQLite, PostgreSQL): Mallory's
    browser signals GPC on a form where she typed Bea's number beside her checked address. The
    objection lands on Mallory's subject and on Bea's own (a withdrawal's rule: it only stops
    processing), and the number stays Bea's, linked to nothing of Mallory's. Before: 422 for
    ``checked``; without it, the number was linked to Mallory's subject."""
    served, mallory, number = served_shared, f"mallory-{_tag()}@attacker.example", _phone()
    bea = served.customers[11]
    with served.client("service") as shop:
        assert _give(shop, {"email": bea, "phone": number}, {"email": True, "phone": True}).status_code == 201
        signalled = shop.post("/consents/gpc", headers={"Sec-GPC": "1"}, json={
            "subject": {"email": mallory, "phone": number}, "checked": {"email": True, "phone": False}})
        assert signalled.status_code == 200, signalled.text
        assert signalled.json()["recorded"] is True
        again = shop.post("/consents/gpc", headers={"Sec-GPC": "1"}, json={
            "subject": {"email": mallory, "phone": number}, "checked": {"email": True, "phone": False}})
        assert again.status_code == 200 and again.json()["recorded"] is False
        stray = shop.post("/consents/gpc", headers={"Sec-GPC": "1"}, json={
            "subject": {"email": mallory}, "checked": {"phone": False}})
        assert stray.status_code == 400 and "phone" in stray.json()["detail"]
    engine = sa.create_engine(served.store, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            hers, mallorys = find_subject(conn, {"email": bea}), find_subject(conn, {"email": mallory})
            assert hers is not None and mallorys is not None and hers != mallorys
            assert find_subject(conn, {"phone": number}) == hers
            assert "targeted_advertising" in objections(conn, hers)
            assert "targeted_advertising" in objections(conn, mallorys)
    finally:
        engine.dispose()


def test_a_gpc_signal_for_an_unknown_unchecked_identity_objects_on_its_own_subject(engine: sa.Engine) -> None:
    """An unchecked identity garde never met gets a subject of its own that objects; the checked
    ones share theirs; with every identity unchecked, each objects apart."""
    tag = _tag()
    identities = {"email": f"g-{tag}@example.org", "phone": _phone(), "customer_id": f"C-{tag}"}
    found = record_gpc_signal(engine, MODEL, identities, {"sec-gpc": "1"}, unchecked=frozenset({"phone"}))
    lone = {"email": f"h-{tag}@example.org", "phone": _phone()}
    record_gpc_signal(engine, MODEL, lone, {"sec-gpc": "1"}, unchecked=frozenset(lone))
    with engine.connect() as conn:
        assert find_subject(conn, {"email": identities["email"]}) == found.subject_id
        assert find_subject(conn, {"customer_id": identities["customer_id"]}) == found.subject_id
        apart = find_subject(conn, {"phone": identities["phone"]})
        assert apart is not None and apart != found.subject_id
        each = [find_subject(conn, {kind: value}) for kind, value in lone.items()]
        assert None not in each and len(set(each)) == 2
        for subject_id in (found.subject_id, apart, *each):
            assert subject_id is not None and "targeted_advertising" in objections(conn, subject_id)
