"""The driver-level bulk insert and look-up write and read what SQLAlchemy's own would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from garde.consent.state import as_utc
from garde.store import bulk, connect, migrate
from garde.subjects import subject_identifiers, subjects

COLUMNS = ("id", "kind", "state", "language", "created_at")


def rows(prefix: str, count: int) -> list[tuple[object, ...]]:
    paris = timezone(timedelta(hours=1))
    start = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    return [(f"{prefix}{i:05d}", None if i % 3 else "customer", "active", "fr" if i % 2 else None,
             # one instant written in two zones, and one moment shared by many rows
             start.astimezone(paris) if i % 7 == 0 else start + timedelta(seconds=i % 5))
            for i in range(count)]


def test_insert_rows_stores_what_sqlalchemy_stores(database_url: str) -> None:
    engine = connect(database_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        bulk.insert_rows(conn, subjects, COLUMNS, rows("a", 300))
        conn.execute(subjects.insert(), [dict(zip(COLUMNS, row, strict=True)) for row in rows("b", 300)])
        bulk.insert_rows(conn, subjects, COLUMNS, [])  # nothing to do
    with engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(sa.select(subjects))}
    written = rows("a", 300)
    for i, row in enumerate(written):
        ours, theirs = stored[f"a{i:05d}"], stored[f"b{i:05d}"]
        assert (ours.kind, ours.state, ours.language, ours.created_at) == (
            theirs.kind, theirs.state, theirs.language, theirs.created_at)
        moment = row[4]
        assert isinstance(moment, datetime)
        if moment.tzinfo is UTC:  # what garde writes; SQLite keeps other zones' wall-clock time
            assert as_utc(ours.created_at) == moment
    engine.dispose()


def test_rows_where_in_finds_every_key_across_chunks(database_url: str) -> None:
    engine = connect(database_url, create=True)
    migrate(engine)
    count = bulk._IN_CHUNK + 5  # two statements
    with engine.begin() as conn:
        bulk.insert_rows(conn, subjects, COLUMNS, [(f"s{i}", None, "active", None, datetime.now(UTC))
                                                   for i in range(3)])
        bulk.insert_rows(conn, subject_identifiers, ("subject_id", "kind", "hash"),
                         [(f"s{i % 3}", "email" if i % 2 else "phone", f"h{i}") for i in range(count)])
    wanted = [f"h{i}" for i in range(count)] + ["absent"]
    with engine.connect() as conn:
        found = bulk.rows_where_in(conn, subject_identifiers, ["hash", "subject_id"], "hash", wanted,
                                   kind="email")
    assert sorted(found) == sorted((f"h{i}", f"s{i % 3}") for i in range(count) if i % 2)
    engine.dispose()
