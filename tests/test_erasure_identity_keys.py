"""A table keyed by an identity (a newsletter list whose primary key is the address): the erasure
records the keys of the rows it changes, in its stored steps (to apply them, and resume) and in its
report (``erasure.json``, kept as the proof). Before, both kept the erased subject's address in
clear for ever; now the report holds a keyed digest of such a key, and a step once applied too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.store import connect
from tests.conftest import REGISTERS, scratch_databases
from tests.leftovers import in_files, in_store, spellings

ANA, BOB = "ana.keyed@example.org", "bob.keyed@example.org"
LETTERS = """
database: letters
url: {url}
register: {register}
tables:
  subscribers:
    subject: prospect
    primary_key: email
    authoritative: true
    identities: {{email: email}}
    timestamps: {{collection: subscribed_at}}
    columns:
      email: {{category: contact.email, activities: [newsletter], erase: delete}}
      topics: {{category: marketing.preferences, activities: [newsletter], erase: delete}}
"""


@contextmanager
def letters_list(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest, names: tuple[str, str], *,
                 timestamps: str = "collection: subscribed_at", subscribed: str = "2025-01-01"
                 ) -> Iterator[Deployment]:
    """A deployment whose data map is a newsletter list keyed by the address, holding ``names``
    subscribed on ``subscribed`` (``timestamps``: the table's, in the data map's words)."""
    admin = request.getfixturevalue("postgres_admin_url") if engine.dialect.name == "postgresql" else None
    with scratch_databases(["letters"], tmp_path, admin) as urls:
        business = connect(urls["letters"], create=True)
        with business.begin() as conn:
            conn.execute(sa.text("CREATE TABLE subscribers (email VARCHAR(120) PRIMARY KEY, topics TEXT, "
                                 "subscribed_at TIMESTAMP)"))
            conn.execute(sa.text("INSERT INTO subscribers VALUES (:a, 'shoes', :at), (:b, 'bags', :at)"),
                         {"a": names[0], "b": names[1], "at": subscribed})
        business.dispose()
        (tmp_path / "datasets").mkdir()
        register = REGISTERS / "reference-shop.yaml"
        mapped = LETTERS.format(url=urls["letters"], register=register).replace(
            "collection: subscribed_at", timestamps)
        (tmp_path / "datasets" / "letters.yaml").write_text(mapped)
        deployment = Deployment.open(tmp_path / "datasets", results=tmp_path / "results")
        yield deployment
        deployment.dispose()


@pytest.fixture
def letters(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    with letters_list(engine, tmp_path, request, (ANA, BOB)) as deployment:
        yield deployment


def test_an_erasure_keeps_no_identity_key_in_clear(engine: sa.Engine, letters: Deployment) -> None:
    with engine.begin() as conn:
        erasure = submit(conn, "erasure", {"email": ANA})
        verify_out_of_band(conn, erasure.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    done = run(engine, erasure.id, letters)
    assert done.status == "completed", done.result
    with letters.engines["letters"].connect() as conn:
        assert list(conn.execute(sa.text("SELECT email FROM subscribers")).scalars()) == [BOB]
    values = spellings({"email": ANA})
    assert in_store(engine, values) == []
    assert in_files([letters.results], values) == []
    report = json.loads((letters.results / erasure.id / "erasure.json").read_text())
    (erased,) = report["erased"]
    assert erased["table"] == "letters.subscribers" and set(erased["key"]) == {"hmac_sha256"}


KEPT_CHILD = """
database: letters
url: {url}
register: {register}
tables:
  contacts:
    subject: prospect
    primary_key: id
    authoritative: true
    identities: {{email: email}}
    timestamps: {{collection: created_at}}
    columns:
      email: {{category: contact.email, activities: [newsletter], erase: delete}}
  subscribers:
    subject: prospect
    primary_key: email
    identities: {{email: email}}
    references: {{contact_id: contacts.id}}
    timestamps: {{collection: subscribed_at}}
    columns:
      email: {{category: contact.email, activities: [newsletter], erase: delete}}
      topics: {{category: marketing.preferences, activities: [newsletter], erase: delete}}
"""


def test_a_kept_row_keyed_by_an_identity_is_not_named_by_its_key_in_the_erasure_records(
        engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Red team of 2026-12-08 (red31, low). A row that stays (a legal hold on its table) keeps the row
    it points at, and the erasure plan said why: ``row kept: letters.subscribers row <its key> that
    stays points at it``. With the address as that key, the erased subject's address went in clear
    into the ``request.erasure_planned`` audit entry (append-only, read by an ``auditor`` key, there
    after the hold is released and the row swept) and into ``erasure.json``."""
    from garde.legal_holds import place_hold

    admin = request.getfixturevalue("postgres_admin_url") if engine.dialect.name == "postgresql" else None
    with scratch_databases(["letters"], tmp_path, admin) as urls:
        business = connect(urls["letters"], create=True)
        with business.begin() as conn:
            conn.execute(sa.text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email VARCHAR(120), "
                                 "created_at TIMESTAMP)"))
            conn.execute(sa.text("CREATE TABLE subscribers (email VARCHAR(120) PRIMARY KEY, topics TEXT, "
                                 "contact_id INTEGER REFERENCES contacts (id), subscribed_at TIMESTAMP)"))
            conn.execute(sa.text("INSERT INTO contacts VALUES (1, :a, '2025-01-01'), (2, :b, '2025-01-01')"),
                         {"a": ANA, "b": BOB})
            conn.execute(sa.text("INSERT INTO subscribers VALUES (:a, 'shoes', 1, '2025-01-01'), "
                                 "(:b, 'bags', 2, '2025-01-01')"), {"a": ANA, "b": BOB})
        business.dispose()
        (tmp_path / "datasets").mkdir()
        (tmp_path / "datasets" / "letters.yaml").write_text(KEPT_CHILD.format(
            url=urls["letters"], register=REGISTERS / "reference-shop.yaml"))
        deployment = Deployment.open(tmp_path / "datasets", results=tmp_path / "results")
        try:
            with engine.begin() as conn:
                place_hold(conn, "table", "letters.subscribers", "tax audit")
                erasure = submit(conn, "erasure", {"email": ANA})
                verify_out_of_band(conn, erasure.id, "identity card checked", actor="agent:test",
                                   identities=["email"])
            done = run(engine, erasure.id, deployment)
            assert done.status == "completed", done.result
            with engine.connect() as conn:
                planned = conn.execute(sa.text("SELECT payload FROM audit_log WHERE kind = "
                                               "'request.erasure_planned'")).scalars().all()
            report = (tmp_path / "results" / erasure.id / "erasure.json").read_text()
        finally:
            deployment.dispose()
    assert planned and "row kept" in planned[0]  # the contact stays for the subscriber row that stays
    assert ANA.lower() not in planned[0].lower()
    assert ANA.lower() not in report.lower()
