"""A subject's requests are found by their identity digests through an index (``request_identities``,
migration 0026), not by reading every request's JSON: an access answer and the privacy center's list
of requests stay fast on a store that has answered years of requests."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.rights.held import _by_kind, _held_of, garde_held, identity_hashes
from garde.rights.intake import submit
from garde.rights.self_service import my_requests
from garde.rights.sessions import SubjectSession
from garde.rights.tables import request_identities
from garde.store import connect, migrate
from garde.store.driver import _arguments, _shape
from garde.subjects import identifier_hash
from tests.test_decide_buckets import downgrade


def _session(conn: sa.Connection, kind: str, value: str) -> SubjectSession:
    digest = identifier_hash(kind, value, identifier_data_key(conn))
    return SubjectSession(id="s" * 32, kind=kind, identity_hash=digest, identity=value, subject_id=None,
                          language="en", expires_at=datetime.now(UTC) + timedelta(hours=1))


def _plans(conn: sa.Connection, statements: list[tuple[str, Any]]) -> list[str]:
    lines = []
    cursor = conn.connection.cursor()  # the driver's own: the parameters as the driver got them
    for statement, parameters in statements:
        lines += [row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, tuple(parameters))]
    return lines


def test_a_subjects_requests_are_found_by_index_not_by_reading_every_request(sqlite_url: str) -> None:
    """Seen failing before 0026: both plans said ``SCAN requests`` (a LIKE over the JSON)."""
    store = connect(sqlite_url, create=True)
    migrate(store)
    with store.begin() as conn:
        mine = submit(conn, "access", {"email": "ana@example.org", "phone": "+33612345678"})
        zoes = submit(conn, "erasure", {"email": "zoe@example.org"})
        submitted = submit(conn, "access", {"phone": "+33612345678"})
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if re.search(r"\brequests\b", statement) and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(store, "before_cursor_execute", keep)
    with store.connect() as conn:
        found = my_requests(conn, _session(conn, "phone", "+33612345678"))
        assert [r.id for r in found] == [mine.id, submitted.id]
        assert [r.id for r in my_requests(conn, _session(conn, "email", "zoe@example.org"))] == [zoes.id]
        hashes = identity_hashes(conn, {"email": ["ana@example.org"], "phone": ["+33612345678"]})
        digests = [d for values in hashes.values() for d in values]
        parameters = {"subject": "none", **_by_kind(hashes),
                      **{f"digest{n}": d for n, d in enumerate(digests)}}
        # as garde_held runs it, on the driver's cursor
        shape = _shape(conn.dialect, _held_of(tuple(hashes), len(digests), conn.dialect.name), parameters)
        seen.append((shape.sql, _arguments(shape, parameters)))
        plans = _plans(conn, seen)
        held_rows = garde_held(conn, mine, {"email": ["ana@example.org"], "phone": ["+33612345678"]})
    sa.event.remove(store, "before_cursor_execute", keep)
    assert plans and not [line for line in plans if re.fullmatch(r"SCAN (TABLE )?requests\b.*", line)], plans
    assert sorted(r["id"] for r in held_rows["requests"]) == sorted([mine.id, submitted.id])
    store.dispose()


def test_the_migration_gives_the_requests_stored_before_it_their_digests_and_goes_back(
        database_url: str) -> None:
    store = connect(database_url, create=True)
    try:
        migrate(store, "0025")
        requests = sa.table("requests", *(sa.column(name) for name in (
            "id", "type", "status", "identity_hashes", "language", "details", "received_at", "deadline")))
        stored = {str(uuid.uuid4()): {"email": "e" * 64, "phone": "p" * 64} for _ in range(3)}
        stored[str(uuid.uuid4())] = {}
        with store.begin() as conn:
            for request_id, hashes in stored.items():
                conn.execute(requests.insert().values(
                    id=request_id, type="access", status="completed", identity_hashes=json.dumps(hashes),
                    language="en", details="{}", received_at=datetime(2026, 1, 2, tzinfo=UTC),
                    deadline=date(2026, 2, 2)))
        migrate(store)
        with store.connect() as conn:
            rows = set(conn.execute(sa.select(request_identities.c.digest, request_identities.c.request_id)))
        assert rows == {(digest, request_id)
                        for request_id, hashes in stored.items() for digest in hashes.values()}
        downgrade(store, "0025")
        assert "request_identities" not in sa.inspect(store).get_table_names()
        migrate(store)
    finally:
        store.dispose()
