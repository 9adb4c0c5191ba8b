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

import uuid

import pytest

from tests.api_support import bearer, subject_token
from tests.subjects_support import ME, World


@pytest.mark.xfail(strict=True, reason="red25: links the shop's systems claim open subjects to sessions")
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
