"""Data subjects in a shared API app, for the tests of a subject's own session (``/api/v1/me``):
:func:`subjects_app` starts the app once per test module and database kind (``conftest.subjects_app``);
:func:`two_subjects` makes two subjects of one test's own in it (``conftest.two_subjects``)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from garde import consent
from garde.rights import submit, verify_out_of_band
from garde.rights.intake import get_request, transition
from garde.store import connect
from garde.subjects import ensure_subject
from tests.api_support import Client, api_client
from tests.conftest import MigratedStores

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


def answered_request(conn: sa.Connection, email: str, results: Path, *, type: str = "access") -> str:
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
def subjects_app(folder: Path, migrated_stores: MigratedStores, admin: str | None) -> Iterator[App]:
    """:class:`App` in ``folder``, on a copy of the migrated store: SQLite, or PostgreSQL with
    ``admin`` (the server's admin URL)."""
    with ExitStack() as stack:
        if admin is None:
            migrated_stores.copy_sqlite(folder / "garde.db")
            url = f"sqlite:///{folder / 'garde.db'}"
        else:
            url = stack.enter_context(migrated_stores.postgres_copy(admin))
        outbox, results = folder / "outbox", folder / "results"
        client, keys = stack.enter_context(api_client(url, outbox=outbox, results=results))
        yield App(client, url, keys, outbox, results,
                  (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count()))


def two_subjects(app: App) -> World:
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
            owned[email].append(answered_request(conn, email, app.results))
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
