"""A data subject's own session over HTTP: only their requests, consents and files, whatever ids
they guess; tokens that expire, end and are never issued for a locked session; asking for a
session tells nothing about who is known; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
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
from garde.store import connect
from garde.subjects import ensure_subject
from tests.api_support import Client, api_client, bearer, subject_token
from tests.conftest import MigratedStores, mailed_code

ME = "/api/v1/me"


@dataclass
class App:
    """The API app on a migrated store, started once per module and database kind: each test makes
    subjects of its own in it (:func:`world`) and calls it from a client address of its own, so that
    no test reads another's requests, mails or rate-limit counters."""

    client: Client
    url: str
    keys: dict[str, str]
    outbox: Path
    results: Path
    addresses: Iterator[str]


@dataclass
class World:
    client: Client  # the app, from this test's own client address
    url: str
    keys: dict[str, str]
    outbox: Path
    results: Path
    ana: str
    bea: str
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


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        migrated_stores: MigratedStores) -> Iterator[App]:
    """:class:`App` on SQLite, then on PostgreSQL (a copy of the migrated store, as ``engine`` gets)."""
    folder = tmp_path_factory.mktemp("subjects")
    with ExitStack() as stack:
        if request.param == "sqlite":
            migrated_stores.copy_sqlite(folder / "garde.db")
            url = f"sqlite:///{folder / 'garde.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(migrated_stores.postgres_copy(admin))
        outbox, results = folder / "outbox", folder / "results"
        client, keys = stack.enter_context(api_client(url, outbox=outbox, results=results))
        yield App(client, url, keys, outbox, results,
                  (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count()))


@pytest.fixture
def world(app: App) -> World:
    """Ana and Bea (addresses of this test alone), each with an answered access request (with files),
    Bea with an unverified one and consents; and a request that proved someone's customer number while
    naming Bea's e-mail unproven. The app is called from a client address of this test alone."""
    tag = uuid.uuid4().hex[:10]
    ana, bea = f"ana-{tag}@example.com", f"bea-{tag}@example.com"
    engine = connect(app.url)
    owned: dict[str, list[str]] = {ana: [], bea: []}
    with engine.begin() as conn:
        subjects = {email: ensure_subject(conn, {"email": email}) for email in (ana, bea)}
        for email in (ana, bea):
            owned[email].append(_answered(conn, email, app.results))
        owned[bea].append(submit(conn, "erasure", {"email": bea}, actor="test").id)
        other = submit(conn, "access", {"email": bea, "customer_id": f"C-{tag}"}, actor="test")
        verify_out_of_band(conn, other.id, "card", actor="agent:test", identities=["customer_id"])
        owned["other"] = [other.id]
        consent.give(conn, subjects[bea], "newsletter", channel="email")
        consent.withdraw(conn, subjects[bea], "newsletter", channel="email")
        consent.give(conn, subjects[ana], "newsletter", channel="email")
    engine.dispose()
    files = {email: [(owned[email][0], name) for name in ("access.html", "access.json")]
             for email in (ana, bea)}
    return World(app.client.from_address(next(app.addresses)), app.url, app.keys, app.outbox, app.results,
                 ana, bea, owned, files)


on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


def test_a_subject_sees_their_own_requests_consents_and_files(world: World) -> None:
    bea = bearer(subject_token(world.client, world.bea, world.outbox))
    listed = world.client.get(f"{ME}/requests", headers=bea).json()
    # Bea's two requests; not the one that proved a customer number and only named her e-mail
    assert [r["id"] for r in listed] == world.requests[world.bea]
    assert listed[0]["identities"] == {"email": True} and listed[1]["identities"] == {"email": False}
    one = world.client.get(f"{ME}/requests/{world.requests[world.bea][0]}", headers=bea).json()
    assert [s["status"] for s in one["steps"]] == ["received", "verified", "in_progress", "completed"]
    assert "actor" not in one["steps"][0] and "agent:test" not in str(one)  # no staff names (Art. 15(4))
    consents = world.client.get(f"{ME}/consents", headers=bea).json()
    assert [(c["activity"], c["status"]) for c in consents["state"]] == [("newsletter", "withdrawn")]
    assert [e["action"] for e in consents["history"]] == ["given", "withdrawn"]
    files = world.client.get(f"{ME}/files", headers=bea).json()
    assert sorted((f["request_id"], f["name"]) for f in files) == world.files[world.bea]
    request_id, name = world.files[world.bea][1]
    download = world.client.get(f"{ME}/requests/{request_id}/files/{name}", headers=bea)
    assert download.status_code == 200 and download.json() == {"who": world.bea}
    _missing(world.client.get(f"{ME}/requests/{request_id}/files/copies.json", headers=bea))


def _missing(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_subject_never_reaches_another_subjects_data(world: World) -> None:
    ana = bearer(subject_token(world.client, world.ana, world.outbox))
    client = world.client
    assert [r["id"] for r in client.get(f"{ME}/requests", headers=ana).json()] == world.requests[world.ana]
    assert [(f["request_id"], f["name"]) for f in client.get(f"{ME}/files", headers=ana).json()] \
        == world.files[world.ana]
    consents = client.get(f"{ME}/consents", headers=ana).json()
    assert [c["status"] for c in consents["state"]] == ["given"] and len(consents["history"]) == 1
    theirs = [*world.requests[world.bea], *world.requests["other"]]
    bodies = set()
    for request_id in [*theirs, *(i[:8] for i in theirs), str(uuid.uuid4())]:
        answer = client.get(f"{ME}/requests/{request_id}", headers=ana)
        _missing(answer)
        bodies.add(answer.json()["detail"].replace(request_id[:64], "ID"))
    _missing(client.get(f"{ME}/requests/..%2F{theirs[0]}", headers=ana))
    for request_id, name in world.files[world.bea]:
        _missing(client.get(f"{ME}/requests/{request_id}/files/{name}", headers=ana))
        _missing(client.get(f"{ME}/requests/{world.requests[world.ana][0]}/files/..%2F{request_id}%2F{name}",
                            headers=ana))
    assert bodies == {"no request 'ID'"}  # a real id of someone else reads as a missing one


# Any text a caller can put in the path (a slash would make another route; "." and ".." are
# folded away by URL rules).
GUESSES = st.text(min_size=1, max_size=80).filter(lambda text: "/" not in text and text not in (".", ".."))


@pytest.fixture
def ana_token(world: World) -> dict[str, str]:
    """Ana's session, as a bearer header."""
    return bearer(subject_token(world.client, world.ana, world.outbox))


@on_sqlite
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(guess=st.one_of(st.uuids().map(str), GUESSES),
       name=st.sampled_from(["access.json", "access.html", "portability.zip", "erasure.json", "x"]))
def test_guessed_ids_are_all_the_same_404(world: World, ana_token: dict[str, str], guess: str,
                                          name: str) -> None:
    from urllib.parse import quote

    path = quote(guess, safe="")
    first = world.client.get(f"{ME}/requests/{path}", headers=ana_token)
    _missing(first)
    assert first.json()["detail"] == f"no request {guess[:64]!r}"
    _missing(world.client.get(f"{ME}/requests/{path}/files/{name}", headers=ana_token))


def test_expired_and_logged_out_tokens_are_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = bearer(subject_token(world.client, world.ana, world.outbox))
    assert world.client.get(f"{ME}/requests", headers=token).status_code == 200
    assert world.client.post(f"{ME}/logout", headers=token).status_code == 204
    assert world.client.get(f"{ME}/requests", headers=token).status_code == 401
    assert world.client.post(f"{ME}/logout", headers=token).status_code == 401
    token = bearer(subject_token(world.client, world.ana, world.outbox))
    import garde.rights.sessions as sessions

    later = sessions.now() + timedelta(minutes=31)  # the default lifetime is 30 minutes
    monkeypatch.setattr(sessions, "now", lambda: later)
    refused = world.client.get(f"{ME}/consents", headers=token)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_locked_session_never_issues_a_token(world: World) -> None:
    started = world.client.post(f"{ME}/session", json={"email": world.ana}).json()
    code = mailed_code(world.outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        answer = world.client.post(f"{ME}/session/confirm",
                                   json={"session": started["session"], "code": wrong})
        assert answer.status_code == 401
    late = world.client.post(f"{ME}/session/confirm", json={"session": started["session"], "code": code})
    assert late.status_code == 401 and "token" not in late.json()


@on_sqlite
def test_staff_keys_and_subject_tokens_do_not_cross(world: World) -> None:
    token = bearer(subject_token(world.client, world.ana, world.outbox))
    assert world.client.get(f"{ME}/requests", headers=bearer(world.keys["dpo"])).status_code == 401
    assert world.client.get("/api/v1/registers", headers=token).status_code == 401
    assert world.client.post("/api/v1/consents/state", headers=token,
                             json={"subject": {"email": world.ana}}).status_code == 401


def mailed_code_of(message: Any) -> str:
    """The six-digit code in one mail."""
    body = message.get_body()
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found
    return found.group(1)


@on_sqlite
def test_asking_for_a_session_does_not_tell_who_is_known(world: World) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    before = len(FileMailer(world.outbox).messages())
    known = world.client.post(f"{ME}/session", json={"email": world.ana})
    unknown = world.client.post(f"{ME}/session", json={"email": nobody})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert known.json()["message"] == unknown.json()["message"]
    # each identity is mailed its own code: only the mailbox's holder learns anything
    mailed = FileMailer(world.outbox).messages()[before:]
    assert sorted(m["To"] for m in mailed) == sorted([world.ana, nobody])
    ana_code = next(mailed_code_of(m) for m in mailed if m["To"] == world.ana)
    refused = world.client.post(f"{ME}/session/confirm", json={  # Ana's code opens no other session
        "session": unknown.json()["session"], "code": ana_code})
    assert refused.status_code == 401


def test_a_subject_submits_for_themselves_only(world: World) -> None:
    token = bearer(subject_token(world.client, world.ana, world.outbox))
    smuggled = world.client.post(f"{ME}/requests", headers=token,
                                 json={"type": "access", "identities": {"email": world.bea}})
    assert smuggled.status_code == 422  # identities come from the session, never the body
    made = world.client.post(f"{ME}/requests", headers=token, json={"type": "access", "language": "fr"})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "verified" and made.json()["identities"] == {"email": True}
    listed = world.client.get(f"{ME}/requests", headers=token).json()
    assert made.json()["id"] in [r["id"] for r in listed]
    engine = connect(world.url)
    with engine.connect() as conn:
        request = get_request(conn, made.json()["id"])
    engine.dispose()
    assert request.identities == {"email": world.ana} and request.proofs["email"]["method"] == "code"


@on_sqlite
def test_session_starts_are_rate_limited_with_retry_after(world: World) -> None:
    tag = uuid.uuid4().hex[:10]
    statuses = [world.client.post(f"{ME}/session", json={"email": f"s{i}-{tag}@example.com"}).status_code
                for i in range(11)]
    assert statuses == [202] * 10 + [429]  # 10 an hour from one address
    refused = world.client.post(f"{ME}/session", json={"email": f"t-{tag}@example.com"},
                                headers={"Accept-Language": "fr"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Trop de requêtes"


@pytest.mark.parametrize("body", [{"session": "\x00" * 32, "code": "123456"},
                                  {"session": "a" * 32, "code": "12\x003456"},
                                  {"session": "../" * 10 + "ab", "code": "123456"}])
def test_a_garbled_confirmation_is_a_422_never_a_server_error(world: World, body: dict[str, str]) -> None:
    """A NUL reached PostgreSQL as an error (Schemathesis): a session id is 32 hex digits, a code digits."""
    answer = world.client.post(f"{ME}/session/confirm", json=body)
    assert answer.status_code == 422, answer.text
