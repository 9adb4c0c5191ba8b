"""A stranger spending an address's sign-in codes leaves its holder's browser a way in (sec27).

The limits on sign-in codes are the mailbox's (three starts an hour, five codes a day), so a
stranger asking three codes for someone's address left its holder none for the hour, and five none
for the day. A browser that signed in with an address keeps a proof of its mailbox (an HMAC under
the identifier data key, in the ``garde_privacy_proof`` cookie): its next sign-ins count on budgets
of the proof's own. The stranger still cannot flood the mailbox past its limits, a proof opens
nothing by itself (a code still goes to the mailbox), and a proof of one mailbox or a forged one
changes nothing for another (tests/test_signin_oracles.py holds as it was)."""

from __future__ import annotations

import uuid

from garde.rights.sessions import STARTS_PER_IDENTITY, STARTS_PER_PROOF
from tests.api_support import Client
from tests.subjects_support import ME, World
from tests.test_signin_oracles import _somewhere
from tests.web_support import csrf_of, mailed_code_to, mails_to

PROOF = "garde_privacy_proof"


def _sign_in(browser: Client, outbox_owner: World, email: str) -> int:
    """Ask a code with the privacy center's form; the status of the code form's answer, once the code
    mailed (if any) is typed: 303 signed in, 401 no code came."""
    before = len(mails_to(outbox_owner.outbox, email))
    home = browser.get("/privacy/")
    assert browser.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email}).status_code == 303
    form = browser.get("/privacy/code")
    if len(mails_to(outbox_owner.outbox, email)) == before:
        code = "000000"
    else:
        code = mailed_code_to(outbox_owner.outbox, email, before)
    return browser.post("/privacy/code", data={"csrf": csrf_of(form.text), "code": code}).status_code


def test_a_browser_that_proved_the_mailbox_still_signs_in_after_a_stranger_spent_its_codes(
        subjects: World) -> None:
    holder_email = f"holder-{uuid.uuid4().hex[:10]}@example.com"
    holder = subjects.client.from_address(_somewhere())
    assert _sign_in(holder, subjects, holder_email) == 303
    stranger = subjects.client.from_address(_somewhere())
    for _ in range(STARTS_PER_IDENTITY.limit):  # the mailbox's hour spent by someone else
        assert stranger.post(f"{ME}/session", json={"email": holder_email}).status_code == 202
    spent = len(mails_to(subjects.outbox, holder_email))
    assert spent == STARTS_PER_IDENTITY.limit  # the holder's first and two of the stranger's
    # another browser, without the proof: nothing more is mailed (no flood), no way in
    assert _sign_in(subjects.client.from_address(_somewhere()), subjects, holder_email) == 401
    assert len(mails_to(subjects.outbox, holder_email)) == spent
    # the holder's browser: a code comes, on the proof's own budget, and opens her session
    assert _sign_in(holder, subjects, holder_email) == 303
    assert len(mails_to(subjects.outbox, holder_email)) == spent + 1
    assert holder.http.cookies.get(PROOF)


def test_a_proof_holds_for_its_own_mailbox_only_and_cannot_be_forged(subjects: World) -> None:
    tag = uuid.uuid4().hex[:10]
    mine, theirs = f"mine-{tag}@example.com", f"theirs-{tag}@example.com"
    browser = subjects.client.from_address(_somewhere())
    assert _sign_in(browser, subjects, mine) == 303
    proof = browser.http.cookies.get(PROOF)
    assert proof
    for _ in range(STARTS_PER_IDENTITY.limit):
        assert subjects.client.from_address(_somewhere()).post(
            f"{ME}/session", json={"email": theirs}).status_code == 202
    # the proof of one mailbox is no proof of another: its hour stays spent
    assert _sign_in(browser, subjects, theirs) == 401
    until, nonce, mac = proof.split(".")
    for forged in (f"{until}.{nonce}.{'0' * 64}", f"{int(until) + 1}.{nonce}.{mac}", "x", ""):
        other = subjects.client.from_address(_somewhere())
        other.http.cookies.set(PROOF, forged)
        assert _sign_in(other, subjects, theirs) == 401
    assert len(mails_to(subjects.outbox, theirs)) == STARTS_PER_IDENTITY.limit


def test_proofs_of_one_mailbox_share_one_budget(subjects: World) -> None:
    """Red team of 2026-12-07 (red29, medium): each sign-in sets a new proof, and each proof had
    budgets of its own (three starts an hour, five codes a day, keyed by the proof). Whoever once
    signed in with an address could keep proofs by the dozen (each sign-in on one proof's budget
    mints the next) and, once the mailbox changed hands (a recycled address, a rectification), mail
    its new holder five codes a day per proof and guess five times at each: the day's 25 guesses at
    a mailbox's codes (docs/requests.md) became 25 per proof. Now the proofs of one mailbox share
    one budget (which strangers, holding none, still cannot spend): three browsers' proofs get three
    codes in the hour between them, and nothing more is mailed."""
    email = f"kept-{uuid.uuid4().hex[:10]}@example.com"
    holder = subjects.client.from_address(_somewhere())
    proofs = []
    for _ in range(3):  # the first on the mailbox's budget, the next two on a proof's
        assert _sign_in(holder, subjects, email) == 303
        proofs.append(holder.http.cookies.get(PROOF))
    assert len(set(proofs)) == 3 and all(proofs)
    assert len(mails_to(subjects.outbox, email)) == 3
    for proof in proofs:  # each kept proof, in a browser of its own, asks three more codes
        browser = subjects.client.from_address(_somewhere())
        browser.http.cookies.set(PROOF, proof)
        for _ in range(STARTS_PER_PROOF.limit):
            home = browser.get("/privacy/")
            started = browser.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
            assert started.status_code == 303
    # one start on the mailbox's budget, and the proofs' hour between them: three
    assert len(mails_to(subjects.outbox, email)) == 1 + STARTS_PER_PROOF.limit
