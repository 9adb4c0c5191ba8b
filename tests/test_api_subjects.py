"""A data subject's own session over HTTP: only their requests, consents and files, whatever ids
they guess; tokens that expire, end and are never issued for a locked session; asking for a
session tells nothing about who is known; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import consent
from garde.rights import FileMailer, submit, verify_out_of_band
from garde.rights.intake import get_request, transition
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from tests.api_support import Client, api_client, bearer, subject_token
from tests.conftest import mailed_code

ANA, BEA = "ana@example.com", "bea@example.com"
ME = "/api/v1/me"


@dataclass
class World:
    client: Client
    keys: dict[str, str]
    outbox: Path
    results: Path
    requests: dict[str, list[str]]  # whose → request ids
    files: dict[str, list[tuple[str, str]]]  # whose → (request id, file name)


def _answered(conn: sa.Connection, email: str, results: Path, *, type: str = "access") -> str:
    request = submit(conn, type, {"email": email}, actor="test")
    verify_out_of_band(conn, request.id, "id card at the counter", actor="agent:test", identities=["email"])
    running = transition(conn, get_request(conn, request.id), "in_progress")
    transition(conn, running, "completed", values={"result": "{}"})
    folder = results / request.id
    folder.mkdir(parents=True)
    (folder / "access.json").write_text(f'{{"who": "{email}"}}')
    (folder / "access.html").write_text(f"<p>{email}</p>")
    (folder / "copies.json").write_text("[]")  # not an answer file: never listed or served
    return request.id


@contextmanager
def two_subjects(url: str, tmp_path: Path) -> Iterator[World]:
    """Ana and Bea, each with an answered access request (with files), Bea with an unverified one and
    consents; and a request that proved someone's customer number while naming Bea's e-mail unproven."""
    outbox, results = tmp_path / "outbox", tmp_path / "results"
    engine = connect(url, create=True)
    migrate(engine)
    owned: dict[str, list[str]] = {ANA: [], BEA: []}
    with engine.begin() as conn:
        subjects = {email: ensure_subject(conn, {"email": email}) for email in (ANA, BEA)}
        for email in (ANA, BEA):
            owned[email].append(_answered(conn, email, results))
        owned[BEA].append(submit(conn, "erasure", {"email": BEA}, actor="test").id)
        other = submit(conn, "access", {"email": BEA, "customer_id": "C-77"}, actor="test")
        verify_out_of_band(conn, other.id, "card", actor="agent:test", identities=["customer_id"])
        owned["other"] = [other.id]
        consent.give(conn, subjects[BEA], "newsletter", channel="email")
        consent.withdraw(conn, subjects[BEA], "newsletter", channel="email")
        consent.give(conn, subjects[ANA], "newsletter", channel="email")
    engine.dispose()
    with api_client(url, outbox=outbox, results=results) as (client, keys):
        files = {email: [(owned[email][0], name) for name in ("access.html", "access.json")]
                 for email in (ANA, BEA)}
        yield World(client, keys, outbox, results, owned, files)


def test_a_subject_sees_their_own_requests_consents_and_files(database_url: str, tmp_path: Path) -> None:
    with two_subjects(database_url, tmp_path) as world:
        bea = bearer(subject_token(world.client, BEA, world.outbox))
        listed = world.client.get(f"{ME}/requests", headers=bea).json()
        # Bea's two requests; not the one that proved a customer number and only named her e-mail
        assert [r["id"] for r in listed] == world.requests[BEA]
        assert listed[0]["identities"] == {"email": True} and listed[1]["identities"] == {"email": False}
        one = world.client.get(f"{ME}/requests/{world.requests[BEA][0]}", headers=bea).json()
        assert [s["status"] for s in one["steps"]] == ["received", "verified", "in_progress", "completed"]
        assert "actor" not in one["steps"][0] and "agent:test" not in str(one)  # no staff names (Art. 15(4))
        consents = world.client.get(f"{ME}/consents", headers=bea).json()
        assert [(c["activity"], c["status"]) for c in consents["state"]] == [("newsletter", "withdrawn")]
        assert [e["action"] for e in consents["history"]] == ["given", "withdrawn"]
        files = world.client.get(f"{ME}/files", headers=bea).json()
        assert sorted((f["request_id"], f["name"]) for f in files) == world.files[BEA]
        request_id, name = world.files[BEA][1]
        download = world.client.get(f"{ME}/requests/{request_id}/files/{name}", headers=bea)
        assert download.status_code == 200 and download.json() == {"who": BEA}
        _missing(world.client.get(f"{ME}/requests/{request_id}/files/copies.json", headers=bea))


def _missing(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_subject_never_reaches_another_subjects_data(database_url: str, tmp_path: Path) -> None:
    with two_subjects(database_url, tmp_path) as world:
        ana = bearer(subject_token(world.client, ANA, world.outbox))
        client = world.client
        assert [r["id"] for r in client.get(f"{ME}/requests", headers=ana).json()] == world.requests[ANA]
        assert [(f["request_id"], f["name"]) for f in client.get(f"{ME}/files", headers=ana).json()] \
            == world.files[ANA]
        consents = client.get(f"{ME}/consents", headers=ana).json()
        assert [c["status"] for c in consents["state"]] == ["given"] and len(consents["history"]) == 1
        theirs = [*world.requests[BEA], *world.requests["other"]]
        bodies = set()
        for request_id in [*theirs, *(i[:8] for i in theirs), str(uuid.uuid4())]:
            answer = client.get(f"{ME}/requests/{request_id}", headers=ana)
            _missing(answer)
            bodies.add(answer.json()["detail"].replace(request_id[:64], "ID"))
        _missing(client.get(f"{ME}/requests/..%2F{theirs[0]}", headers=ana))
        for request_id, name in world.files[BEA]:
            _missing(client.get(f"{ME}/requests/{request_id}/files/{name}", headers=ana))
            _missing(client.get(f"{ME}/requests/{world.requests[ANA][0]}/files/..%2F{request_id}%2F{name}",
                                headers=ana))
        assert bodies == {"no request 'ID'"}  # a real id of someone else reads as a missing one


# Any text a caller can put in the path (a slash would make another route; "." and ".." are
# folded away by URL rules).
GUESSES = st.text(min_size=1, max_size=80).filter(lambda text: "/" not in text and text not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(guess=st.one_of(st.uuids().map(str), GUESSES),
       name=st.sampled_from(["access.json", "access.html", "portability.zip", "erasure.json", "x"]))
def test_guessed_ids_are_all_the_same_404(sqlite_url: str, tmp_path_factory: pytest.TempPathFactory,
                                          guess: str, name: str) -> None:
    world, ana = _shared(sqlite_url, tmp_path_factory)
    from urllib.parse import quote

    path = quote(guess, safe="")
    first = world.client.get(f"{ME}/requests/{path}", headers=ana)
    _missing(first)
    assert first.json()["detail"] == f"no request {guess[:64]!r}"
    _missing(world.client.get(f"{ME}/requests/{path}/files/{name}", headers=ana))


_WORLDS: dict[str, tuple[World, dict[str, str]]] = {}


def _shared(url: str, factory: pytest.TempPathFactory) -> tuple[World, dict[str, str]]:
    """One world per test database for the hypothesis examples (built once, kept open)."""
    if url not in _WORLDS:
        context = two_subjects(url, factory.mktemp("world"))
        world = context.__enter__()
        _WORLDS[url] = (world, bearer(subject_token(world.client, ANA, world.outbox)))
        _CONTEXTS.append(context)
    return _WORLDS[url]


_CONTEXTS: list[object] = []


@pytest.fixture(autouse=True, scope="module")
def _close_worlds() -> Iterator[None]:
    yield
    for context in _CONTEXTS:
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def test_expired_and_logged_out_tokens_are_refused(database_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with two_subjects(database_url, tmp_path) as world:
        token = bearer(subject_token(world.client, ANA, world.outbox))
        assert world.client.get(f"{ME}/requests", headers=token).status_code == 200
        assert world.client.post(f"{ME}/logout", headers=token).status_code == 204
        assert world.client.get(f"{ME}/requests", headers=token).status_code == 401
        assert world.client.post(f"{ME}/logout", headers=token).status_code == 401
        token = bearer(subject_token(world.client, ANA, world.outbox))
        import garde.rights.sessions as sessions

        later = sessions.now() + timedelta(minutes=31)  # the default lifetime is 30 minutes
        monkeypatch.setattr(sessions, "now", lambda: later)
        refused = world.client.get(f"{ME}/consents", headers=token)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_locked_session_never_issues_a_token(database_url: str, tmp_path: Path) -> None:
    with two_subjects(database_url, tmp_path) as world:
        started = world.client.post(f"{ME}/session", json={"email": ANA}).json()
        code = mailed_code(world.outbox)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            answer = world.client.post(f"{ME}/session/confirm",
                                       json={"session": started["session"], "code": wrong})
            assert answer.status_code == 401
        late = world.client.post(f"{ME}/session/confirm", json={"session": started["session"], "code": code})
        assert late.status_code == 401 and "token" not in late.json()


def test_staff_keys_and_subject_tokens_do_not_cross(sqlite_url: str, tmp_path: Path) -> None:
    with two_subjects(sqlite_url, tmp_path) as world:
        token = bearer(subject_token(world.client, ANA, world.outbox))
        assert world.client.get(f"{ME}/requests", headers=bearer(world.keys["dpo"])).status_code == 401
        assert world.client.get("/api/v1/registers", headers=token).status_code == 401
        assert world.client.post("/api/v1/consents/state", headers=token,
                                 json={"subject": {"email": ANA}}).status_code == 401



def mailed_code_of(message: Any) -> str:
    """The six-digit code in one mail."""
    body = message.get_body()
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found
    return found.group(1)


def test_asking_for_a_session_does_not_tell_who_is_known(sqlite_url: str, tmp_path: Path) -> None:
    with two_subjects(sqlite_url, tmp_path) as world:
        known = world.client.post(f"{ME}/session", json={"email": ANA})
        unknown = world.client.post(f"{ME}/session", json={"email": "nobody@example.com"})
        assert known.status_code == unknown.status_code == 202
        assert set(known.json()) == set(unknown.json())
        assert known.json()["message"] == unknown.json()["message"]
        # each identity is mailed its own code: only the mailbox's holder learns anything
        mailed_to = sorted(m["To"] for m in FileMailer(world.outbox).messages())
        assert mailed_to == sorted([ANA, "nobody@example.com"])
        ana_code = next(mailed_code_of(m) for m in FileMailer(world.outbox).messages() if m["To"] == ANA)
        refused = world.client.post(f"{ME}/session/confirm", json={  # Ana's code opens no other session
            "session": unknown.json()["session"], "code": ana_code})
        assert refused.status_code == 401


def test_a_subject_submits_for_themselves_only(database_url: str, tmp_path: Path) -> None:
    with two_subjects(database_url, tmp_path) as world:
        token = bearer(subject_token(world.client, ANA, world.outbox))
        smuggled = world.client.post(f"{ME}/requests", headers=token,
                                     json={"type": "access", "identities": {"email": BEA}})
        assert smuggled.status_code == 422  # identities come from the session, never the body
        made = world.client.post(f"{ME}/requests", headers=token, json={"type": "access", "language": "fr"})
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "verified" and made.json()["identities"] == {"email": True}
        listed = world.client.get(f"{ME}/requests", headers=token).json()
        assert made.json()["id"] in [r["id"] for r in listed]
        engine = connect(database_url)
        with engine.connect() as conn:
            request = get_request(conn, made.json()["id"])
        engine.dispose()
        assert request.identities == {"email": ANA} and request.proofs["email"]["method"] == "code"


def test_session_starts_are_rate_limited_with_retry_after(sqlite_url: str, tmp_path: Path) -> None:
    with two_subjects(sqlite_url, tmp_path) as world:
        statuses = [world.client.post(f"{ME}/session", json={"email": f"s{i}@example.com"}).status_code
                    for i in range(11)]
        assert statuses == [202] * 10 + [429]  # 10 an hour from one address
        refused = world.client.post(f"{ME}/session", json={"email": "t@example.com"},
                                    headers={"Accept-Language": "fr"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["title"] == "Trop de requêtes"


@pytest.mark.parametrize("body", [{"session": "\x00" * 32, "code": "123456"},
                                  {"session": "a" * 32, "code": "12\x003456"},
                                  {"session": "../" * 10 + "ab", "code": "123456"}])
def test_a_garbled_confirmation_is_a_422_never_a_server_error(database_url: str, tmp_path: Path,
                                                               body: dict[str, str]) -> None:
    """A NUL reached PostgreSQL as an error (Schemathesis): a session id is 32 hex digits, a code digits."""
    with two_subjects(database_url, tmp_path) as world:
        answer = world.client.post(f"{ME}/session/confirm", json=body)
        assert answer.status_code == 422, answer.text
