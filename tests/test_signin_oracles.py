"""Asking for a sign-in code tells a stranger nothing about what others asked for that address.

Red team of 2026-12-07 (red25). A session start is refused past the identity's own limits (three
starts an hour to a mailbox, five codes a day to it across requests and sessions). That refusal
was a 429 the caller saw, so anyone could learn, for any address, that somebody else had asked for
a code to it lately: the holder signing in to the privacy center, or staff opening a rights request
for it (a request's code counts in the day's five), with ``Retry-After`` giving to the second when
that other code was sent. Now a start past an identity's limit answers as any start does (202 and a
session id; the privacy center's redirect to the code form), mails nothing, and its session never
opens; the DPO sees it in the audit log (``subject_session.refused``). Limits per client address
still answer 429: they tell the caller about their own requests only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from garde.rights.sessions import STARTS_PER_IDENTITY
from garde.store import connect
from tests.api_support import bearer
from tests.subjects_support import ME, World
from tests.web_support import csrf_of, mails_to


def _shape(answer: httpx.Response) -> tuple[Any, ...]:
    """What a caller can read of a session start's answer, but the session id and the code's expiry."""
    body = answer.json()
    return (answer.status_code, sorted(body), body.get("message"), len(answer.content),
            answer.headers.get("retry-after"), answer.headers.get("content-type"))


def _somewhere() -> str:
    """A client address of its own (the limits per address count apart)."""
    return f"10.250.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _audited(url: str, kind: str) -> list[dict[str, Any]]:
    engine = connect(url)
    with engine.connect() as conn:
        payloads = conn.execute(sa.text("SELECT payload FROM audit_log WHERE kind = :k ORDER BY seq"),
                                {"k": kind}).scalars().all()
    engine.dispose()
    return [json.loads(payload) for payload in payloads]


def test_a_start_past_the_identity_s_hourly_limit_answers_as_any_other(subjects: World) -> None:
    """Someone signed in with one address this hour; a stranger asking three codes for it and three
    for an untouched address gets the same answers (before: 202, 202, then 429 for the first)."""
    tag = uuid.uuid4().hex[:10]
    used, untouched = f"used-{tag}@example.com", f"untouched-{tag}@example.com"
    holder = subjects.client.from_address(_somewhere())
    assert holder.post(f"{ME}/session", json={"email": used}).status_code == 202
    stranger = subjects.client
    answers = {email: [stranger.post(f"{ME}/session", json={"email": email})
                       for _ in range(STARTS_PER_IDENTITY.limit)] for email in (used, untouched)}
    assert [_shape(a) for a in answers[used]] == [_shape(a) for a in answers[untouched]]
    assert {a.status_code for a in answers[used]} == {202}
    # the holder's code and two of the stranger's went out; the third start was past the limit
    assert len(mails_to(subjects.outbox, used)) == STARTS_PER_IDENTITY.limit
    refused = answers[used][-1].json()["session"]
    opened = stranger.post(f"{ME}/session/confirm", json={"session": refused, "code": "000000"})
    assert opened.status_code == 401
    assert {"session": refused, "identity": "email", "limit": "session.start.identity"} in [
        {k: p.get(k) for k in ("session", "identity", "limit")} for p in _audited(subjects.url,
                                                                                 "subject_session.refused")]


def test_a_start_past_the_day_s_codes_answers_as_any_other_and_dates_nothing(subjects: World) -> None:
    """Staff opened rights requests for an address today (their codes are five, the day's limit): a
    stranger's start for it answers as for an untouched address, without a ``Retry-After`` dating
    the first of those codes, and mails nothing."""
    tag = uuid.uuid4().hex[:10]
    asked, untouched = f"asked-{tag}@example.com", f"fresh-{tag}@example.com"
    staff = bearer(subjects.keys["agent"])
    sent = [subjects.client.post("/api/v1/requests", headers=staff, json={
        "type": "access", "subject": {"email": asked}}).json()["codes_sent"] for _ in range(5)]
    assert sent == [["email"]] * 5
    stranger = subjects.client.from_address(_somewhere())
    past, fresh = (stranger.post(f"{ME}/session", json={"email": email}) for email in (asked, untouched))
    assert _shape(past) == _shape(fresh) and past.status_code == 202
    assert len(mails_to(subjects.outbox, asked)) == 5
    assert any(p.get("session") == past.json()["session"] and p.get("limit") == "codes.identity"
               for p in _audited(subjects.url, "subject_session.refused"))


def test_the_privacy_center_s_sign_in_past_an_identity_s_limit_looks_like_any_other(subjects: World) -> None:
    """The sign-in form answered a page saying "too many attempts" (429) for an address others had
    asked codes for this hour; now the same redirect to the code form as for an untouched address,
    whose page says how many codes are sent at most."""
    tag = uuid.uuid4().hex[:10]
    used, untouched = f"form-{tag}@example.com", f"form-fresh-{tag}@example.com"
    for _ in range(STARTS_PER_IDENTITY.limit):  # the holder, from wherever: the hour's starts spent
        other = subjects.client.from_address(_somewhere())
        assert other.post(f"{ME}/session", json={"email": used}).status_code == 202
    seen = []
    for email in (used, untouched):
        stranger = subjects.client.from_address(_somewhere())
        home = stranger.get("/privacy/")
        asked = stranger.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
        seen.append((asked.status_code, asked.headers.get("location"), asked.content))
        page = stranger.get("/privacy/code")
        assert page.status_code == 200 and "at most three codes an hour" in page.text, page.text
    assert seen[0] == seen[1] == (303, "/privacy/code", b"")
    assert len(mails_to(subjects.outbox, used)) == STARTS_PER_IDENTITY.limit
