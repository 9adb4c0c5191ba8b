"""A data subject's own session over HTTP: only their requests, consents and files, whatever ids
they guess; tokens that expire, end and are never issued for a locked session; asking for a
session tells nothing about who is known; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde.rights import FileMailer
from garde.rights.intake import get_request
from garde.store import connect
from tests.api_support import bearer, subject_token
from tests.conftest import mailed_code
from tests.subjects_support import ME, World

on_sqlite = pytest.mark.parametrize("subjects_app", ["sqlite"], indirect=True)


def test_a_subject_sees_their_own_requests_consents_and_files(subjects: World) -> None:
    bea = bearer(subject_token(subjects.client, subjects.bea, subjects.outbox))
    listed = subjects.client.get(f"{ME}/requests", headers=bea).json()
    # Bea's two requests; not the one that proved a customer number and only named her e-mail
    assert [r["id"] for r in listed] == subjects.requests[subjects.bea]
    assert listed[0]["identities"] == {"email": True} and listed[1]["identities"] == {"email": False}
    one = subjects.client.get(f"{ME}/requests/{subjects.requests[subjects.bea][0]}", headers=bea).json()
    assert [s["status"] for s in one["steps"]] == ["received", "verified", "in_progress", "completed"]
    assert "actor" not in one["steps"][0] and "agent:test" not in str(one)  # no staff names (Art. 15(4))
    consents = subjects.client.get(f"{ME}/consents", headers=bea).json()
    assert [(c["activity"], c["status"]) for c in consents["state"]] == [("newsletter", "withdrawn")]
    assert [e["action"] for e in consents["history"]] == ["given", "withdrawn"]
    files = subjects.client.get(f"{ME}/files", headers=bea).json()
    assert sorted((f["request_id"], f["name"]) for f in files) == subjects.files[subjects.bea]
    request_id, name = subjects.files[subjects.bea][1]
    download = subjects.client.get(f"{ME}/requests/{request_id}/files/{name}", headers=bea)
    assert download.status_code == 200 and download.json() == {"who": subjects.bea}
    _missing(subjects.client.get(f"{ME}/requests/{request_id}/files/copies.json", headers=bea))


def _missing(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_subject_never_reaches_another_subjects_data(subjects: World) -> None:
    ana = bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))
    client = subjects.client
    assert [r["id"] for r in client.get(f"{ME}/requests", headers=ana).json()] \
        == subjects.requests[subjects.ana]
    assert [(f["request_id"], f["name"]) for f in client.get(f"{ME}/files", headers=ana).json()] \
        == subjects.files[subjects.ana]
    consents = client.get(f"{ME}/consents", headers=ana).json()
    assert [c["status"] for c in consents["state"]] == ["given"] and len(consents["history"]) == 1
    theirs = [*subjects.requests[subjects.bea], *subjects.requests["other"]]
    bodies = set()
    for request_id in [*theirs, *(i[:8] for i in theirs), str(uuid.uuid4())]:
        answer = client.get(f"{ME}/requests/{request_id}", headers=ana)
        _missing(answer)
        bodies.add(answer.json()["detail"].replace(request_id[:64], "ID"))
    _missing(client.get(f"{ME}/requests/..%2F{theirs[0]}", headers=ana))
    for request_id, name in subjects.files[subjects.bea]:
        _missing(client.get(f"{ME}/requests/{request_id}/files/{name}", headers=ana))
        _missing(client.get(f"{ME}/requests/{subjects.requests[subjects.ana][0]}/files/..%2F{request_id}%2F{name}",
                            headers=ana))
    assert bodies == {"no request 'ID'"}  # a real id of someone else reads as a missing one


# Any text a caller can put in the path (a slash would make another route; "." and ".." are
# folded away by URL rules).
GUESSES = st.text(min_size=1, max_size=80).filter(lambda text: "/" not in text and text not in (".", ".."))


@pytest.fixture
def ana_token(subjects: World) -> dict[str, str]:
    """Ana's session, as a bearer header."""
    return bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))


@on_sqlite
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(guess=st.one_of(st.uuids().map(str), GUESSES),
       name=st.sampled_from(["access.json", "access.html", "portability.zip", "erasure.json", "x"]))
def test_guessed_ids_are_all_the_same_404(subjects: World, ana_token: dict[str, str], guess: str,
                                          name: str) -> None:
    from urllib.parse import quote

    path = quote(guess, safe="")
    first = subjects.client.get(f"{ME}/requests/{path}", headers=ana_token)
    _missing(first)
    assert first.json()["detail"] == f"no request {guess[:64]!r}"
    _missing(subjects.client.get(f"{ME}/requests/{path}/files/{name}", headers=ana_token))


def test_expired_and_logged_out_tokens_are_refused(subjects: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))
    assert subjects.client.get(f"{ME}/requests", headers=token).status_code == 200
    assert subjects.client.post(f"{ME}/logout", headers=token).status_code == 204
    assert subjects.client.get(f"{ME}/requests", headers=token).status_code == 401
    assert subjects.client.post(f"{ME}/logout", headers=token).status_code == 401
    token = bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))
    import garde.rights.sessions as sessions

    later = sessions.now() + timedelta(minutes=31)  # the default lifetime is 30 minutes
    monkeypatch.setattr(sessions, "now", lambda: later)
    refused = subjects.client.get(f"{ME}/consents", headers=token)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_locked_session_never_issues_a_token(subjects: World) -> None:
    started = subjects.client.post(f"{ME}/session", json={"email": subjects.ana}).json()
    code = mailed_code(subjects.outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        answer = subjects.client.post(f"{ME}/session/confirm",
                                   json={"session": started["session"], "code": wrong})
        assert answer.status_code == 401
    late = subjects.client.post(f"{ME}/session/confirm", json={"session": started["session"], "code": code})
    assert late.status_code == 401 and "token" not in late.json()


@on_sqlite
def test_staff_keys_and_subject_tokens_do_not_cross(subjects: World) -> None:
    token = bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))
    assert subjects.client.get(f"{ME}/requests", headers=bearer(subjects.keys["dpo"])).status_code == 401
    assert subjects.client.get("/api/v1/registers", headers=token).status_code == 401
    assert subjects.client.post("/api/v1/consents/state", headers=token,
                             json={"subject": {"email": subjects.ana}}).status_code == 401


def mailed_code_of(message: Any) -> str:
    """The six-digit code in one mail."""
    body = message.get_body()
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found
    return found.group(1)


@on_sqlite
def test_asking_for_a_session_does_not_tell_who_is_known(subjects: World) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    before = len(FileMailer(subjects.outbox).messages())
    known = subjects.client.post(f"{ME}/session", json={"email": subjects.ana})
    unknown = subjects.client.post(f"{ME}/session", json={"email": nobody})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert known.json()["message"] == unknown.json()["message"]
    # each identity is mailed its own code: only the mailbox's holder learns anything
    mailed = FileMailer(subjects.outbox).messages()[before:]
    assert sorted(m["To"] for m in mailed) == sorted([subjects.ana, nobody])
    ana_code = next(mailed_code_of(m) for m in mailed if m["To"] == subjects.ana)
    refused = subjects.client.post(f"{ME}/session/confirm", json={  # Ana's code opens no other session
        "session": unknown.json()["session"], "code": ana_code})
    assert refused.status_code == 401


def test_a_subject_submits_for_themselves_only(subjects: World) -> None:
    token = bearer(subject_token(subjects.client, subjects.ana, subjects.outbox))
    smuggled = subjects.client.post(f"{ME}/requests", headers=token,
                                 json={"type": "access", "identities": {"email": subjects.bea}})
    assert smuggled.status_code == 422  # identities come from the session, never the body
    made = subjects.client.post(f"{ME}/requests", headers=token, json={"type": "access", "language": "fr"})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "verified" and made.json()["identities"] == {"email": True}
    listed = subjects.client.get(f"{ME}/requests", headers=token).json()
    assert made.json()["id"] in [r["id"] for r in listed]
    engine = connect(subjects.url)
    with engine.connect() as conn:
        request = get_request(conn, made.json()["id"])
    engine.dispose()
    assert request.identities == {"email": subjects.ana} and request.proofs["email"]["method"] == "code"


@on_sqlite
def test_session_starts_are_rate_limited_with_retry_after(subjects: World) -> None:
    tag = uuid.uuid4().hex[:10]
    statuses = [subjects.client.post(f"{ME}/session", json={"email": f"s{i}-{tag}@example.com"}).status_code
                for i in range(11)]
    assert statuses == [202] * 10 + [429]  # 10 an hour from one address
    refused = subjects.client.post(f"{ME}/session", json={"email": f"t-{tag}@example.com"},
                                headers={"Accept-Language": "fr"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Trop de requêtes"


@pytest.mark.parametrize("body", [{"session": "\x00" * 32, "code": "123456"},
                                  {"session": "a" * 32, "code": "12\x003456"},
                                  {"session": "../" * 10 + "ab", "code": "123456"}])
def test_a_garbled_confirmation_is_a_422_never_a_server_error(subjects: World, body: dict[str, str]) -> None:
    """A NUL reached PostgreSQL as an error (Schemathesis): a session id is 32 hex digits, a code digits."""
    answer = subjects.client.post(f"{ME}/session/confirm", json=body)
    assert answer.status_code == 422, answer.text



def test_sub_addresses_share_their_mailbox_s_limits(subjects: World) -> None:
    """Sub-addresses (``name+tag@``) reach one inbox: the session starts an hour and the day's five codes
    are counted on the mailbox without its tag, so ``+1``, ``+2``… are no flood of code mails to
    someone's inbox. Before, each sub-address had its own (four starts, three requests: seven codes
    mailed). The identity itself stays as typed, and a dot is not folded (not safe in general)."""
    tag = uuid.uuid4().hex[:10]
    box = f"flood-{tag}"
    starts = [subjects.client.post(f"{ME}/session", json={"email": email}).status_code
              for email in (f"{box}@example.com", f"{box}+1@example.com", f"{box}+2@example.com",
                            f"{box}+3@example.com")]
    # three starts an hour to one mailbox; the fourth answers as any, mailing nothing (test_signin_oracles.py)
    assert starts == [202, 202, 202, 202], starts
    staff = bearer(subjects.keys["agent"])
    codes = [subjects.client.post("/api/v1/requests", headers=staff, json={
        "type": "access", "subject": {"email": f"{box}+{n}@example.com"}}).json()["codes_sent"]
        for n in (4, 5, 6)]
    assert codes == [["email"], ["email"], []], codes  # three sessions and two requests: the day's five
    # a mailbox whose name differs by a dot is someone else's (elsewhere than at Gmail): its own count
    other = subjects.client.post(f"{ME}/session", json={"email": f"flood.{tag}@example.com"})
    assert other.status_code == 202
    mailed = [path for path in subjects.outbox.glob("*") if box in path.read_text(errors="replace")]
    assert len(mailed) == 5, [path.name for path in mailed]
