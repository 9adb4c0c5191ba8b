"""A sign-in asked for an address does not tell the audit log's readers whose address it is.

Red team of 2026-12-08 (red31, medium). ``POST /api/v1/me/session`` (and the privacy center's
sign-in form) is public, and its answer is the same for any address (red25). But its audit entry,
``subject_session.started``, was written under the engine subject the address is linked to, with
``known: true``; ``subject_session.refused`` (a start past the identity's limits) and
``subject_session.locked`` (five wrong codes) were written under it too. An ``auditor`` key reads the
whole log (``GET /api/v1/audit/export``) and is trusted with no subject, and whoever starts a session
learns its id from the answer: so an auditor (or anyone given an audit export) asked a code for any
address they guessed and read which subject it is, then that subject's whole history in the log
(consents given and withdrawn, requests, erasure, a legal hold and its reason, whose scope the log
otherwise names by a keyed digest only). Now those three entries name no subject and say nothing of
whether garde knows the address: the caller has proven nothing yet. The entry of a proven code
(``subject_session.confirmed``) names the subject, as before.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from garde.rights.sessions import MAX_ATTEMPTS, STARTS_PER_IDENTITY
from tests.api_support import bearer
from tests.subjects_support import ME, World
from tests.web_support import mailed_code_to, mails_to


def _somewhere() -> str:
    return f"10.251.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _log_of(world: World) -> list[dict[str, Any]]:
    """The audit log as an auditor key reads it."""
    answer = world.client.get("/api/v1/audit/export", headers=bearer(world.keys["auditor"]))
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines() if line.strip()]


def _of_session(log: list[dict[str, Any]], session: str) -> list[tuple[str, Any, dict[str, Any]]]:
    return [(entry["kind"], entry["subject_id"], entry["payload"]) for entry in log
            if entry["kind"].startswith("subject_session.") and entry["payload"].get("session") == session]


def _shown(entries: list[tuple[str, Any, dict[str, Any]]]) -> list[tuple[str, Any, dict[str, Any]]]:
    """What an entry says but the session id, which differs by construction."""
    return [(kind, subject, {k: v for k, v in payload.items() if k != "session"})
            for kind, subject, payload in entries]


def test_an_auditor_cannot_tell_whose_address_a_sign_in_was_asked_for(subjects: World) -> None:
    """A stranger asks codes for Ana's address (garde knows her) and for an address no one holds, past
    the hour's limit, and spends five wrong codes on each: the auditor reads the same entries for both."""
    stranger = subjects.client.from_address(_somewhere())
    unknown = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    sessions: dict[str, list[str]] = {}
    for email in (subjects.ana, unknown):
        sessions[email] = [stranger.post(f"{ME}/session", json={"email": email}).json()["session"]
                           for _ in range(STARTS_PER_IDENTITY.limit + 1)]  # the last one past the limit
        for _ in range(MAX_ATTEMPTS):
            stranger.post(f"{ME}/session/confirm", json={"session": sessions[email][0], "code": "000000"})
    log = _log_of(subjects)
    seen = {email: [_shown(_of_session(log, session)) for session in started]
            for email, started in sessions.items()}
    kinds = [[kind for kind, _, _ in entries] for entries in seen[subjects.ana]]
    assert kinds[0] == ["subject_session.started", "subject_session.locked"], kinds
    assert kinds[-1] == ["subject_session.refused"], kinds
    assert seen[subjects.ana] == seen[unknown]
    assert all(subject is None for entries in seen[subjects.ana] for _, subject, _ in entries)


def test_the_proven_sign_in_still_names_its_subject(subjects: World) -> None:
    """Ana types her code: that entry is hers (her access answer lists it), as before."""
    holder = subjects.client.from_address(_somewhere())
    before = len(mails_to(subjects.outbox, subjects.ana))
    session = holder.post(f"{ME}/session", json={"email": subjects.ana}).json()["session"]
    code = mailed_code_to(subjects.outbox, subjects.ana, before)
    assert holder.post(f"{ME}/session/confirm", json={"session": session, "code": code}).status_code == 200
    entries = _of_session(_log_of(subjects), session)
    confirmed = [subject for kind, subject, _ in entries if kind == "subject_session.confirmed"]
    assert len(confirmed) == 1 and confirmed[0] is not None
