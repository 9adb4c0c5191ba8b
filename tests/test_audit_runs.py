"""The audit log's subject index in sorted runs (SQLite, migration 0031): a subject's entries are
found, all of them and only them, whatever the runs built and merged so far; a store written before
0031 keeps its chain and finds its subjects' entries after the upgrade; PostgreSQL keeps its index."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from garde import audit
from garde.audit import _chain, _insert_entries, _lock_head, about_subjects, audit_log
from garde.audit.runs import FANOUT, RUN_SIZE, audit_runs, build_runs_sqlite, subject_seqs_sql
from garde.store import connect, migrate
from tests.test_decide_buckets import downgrade

_LOG = """
CREATE TABLE audit_log (seq BIGINT NOT NULL PRIMARY KEY, subject_id VARCHAR(36));
CREATE TABLE audit_runs (id INTEGER NOT NULL PRIMARY KEY, level INTEGER NOT NULL, lo BIGINT NOT NULL,
  hi BIGINT NOT NULL);
CREATE TABLE audit_subject_runs (run INTEGER NOT NULL, subject_id VARCHAR(36) NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY (run, subject_id, seq)) WITHOUT ROWID;
"""


@settings(max_examples=60, deadline=None)
@given(appends=st.lists(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=9),
                        max_size=40),
       existing=st.integers(0, 30), run_size=st.integers(1, 6), fanout=st.integers(2, 4),
       merged=st.integers(1, 12))
def test_the_runs_find_each_subjects_entries_whatever_was_built_and_merged(
        appends: list[list[str | None]], existing: int, run_size: int, fanout: int, merged: int) -> None:
    """Any run size, fanout and merge chunk (``merged`` rows of merging work a run: merges left
    half done, runs merged and not yet deleted)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(_LOG)
    rng = random.Random(existing)
    subjects = [rng.choice(["a", "b", "c", None]) for _ in range(existing)]
    conn.executemany("INSERT INTO audit_log VALUES (?, ?)", list(enumerate(subjects, 1)))
    build_runs_sqlite(conn, len(subjects), initial=True, run_size=run_size, fanout=fanout)  # the migration
    for append in appends:
        start = len(subjects)
        subjects += append
        conn.executemany("INSERT INTO audit_log VALUES (?, ?)", list(enumerate(append, start + 1)))
        build_runs_sqlite(conn, len(subjects), run_size=run_size, fanout=fanout, merged=merged)
        runs = conn.execute("SELECT level, lo, hi FROM audit_runs WHERE level >= 0 ORDER BY lo").fetchall()
        # the runs read cover the log from its start, one after the other, and leave a tail under a run
        assert [lo for _, lo, _ in runs] == [0, *(hi for _, _, hi in runs[:-1])][:len(runs)]
        ((frontier,),) = conn.execute("SELECT coalesce(max(hi), 0) FROM audit_runs").fetchall()
        assert (runs[-1][2] if runs else 0) == frontier and len(subjects) - frontier < run_size
    for subject in ("a", "b", "c"):
        found = [seq for (seq,) in conn.execute(f"SELECT seq FROM ({subject_seqs_sql('?1')}) ORDER BY seq",
                                                (subject,))]
        assert found == [seq for seq, named in enumerate(subjects, 1) if named == subject]


def _entries_of(conn: sa.Connection, subject: str) -> list[int]:
    return [entry["seq"] for entry in audit.entries(conn, subject_id=subject)]


def test_a_subjects_entries_are_found_across_runs_merges_and_the_tail(database_url: str) -> None:
    """Through the real appends: more than a merge's worth of entries (FANOUT runs of RUN_SIZE), a
    subject's entries from :func:`garde.audit.entries` and from the access answer's condition are
    exactly those naming it; on PostgreSQL no run is built (its index on ``subject_id`` serves)."""
    store = connect(database_url, create=True)
    migrate(store)
    rng = random.Random(7)
    subjects = ["s-a", "s-b", "s-c", "s-d", None]
    named: list[str | None] = []
    total = 2 * RUN_SIZE * FANOUT + 77
    with store.begin() as conn:
        while len(named) < total:
            items = [rng.choice(subjects) for _ in range(min(rng.choice([1, 500, 1000]), total - len(named)))]
            audit.record_many(conn, [audit.Event("decision", {"n": len(named) + i}, subject)
                                     for i, subject in enumerate(items)])
            named += items
    with store.connect() as conn:
        levels = [level for (level,) in conn.execute(sa.select(audit_runs.c.level))]
        if store.dialect.name == "sqlite":
            assert 1 in levels and 0 in levels
            indexes = {index["name"] for index in sa.inspect(conn).get_indexes("audit_log")}
            assert "ix_audit_log_subject_id" not in indexes
        else:
            assert levels == []
        for subject in ("s-a", "s-d"):
            expected = [seq for seq, who in enumerate(named, 1) if who == subject]
            assert _entries_of(conn, subject) == expected
            ids = sa.select(sa.literal(subject, sa.String(36))).scalar_subquery()
            query = (sa.select(audit_log.c.seq).where(about_subjects(conn.dialect.name, ids))
                     .order_by(audit_log.c.seq))
            assert list(conn.execute(query).scalars()) == expected
        assert audit.verify(conn).ok
    store.dispose()


def test_a_store_written_before_0031_verifies_and_finds_its_subjects_after_the_upgrade(
        database_url: str, tmp_path: Path) -> None:
    store = connect(database_url, create=True)
    try:
        migrate(store, "0030")
        rng = random.Random(3)
        named = [rng.choice(["old-1", "old-2", None]) for _ in range(RUN_SIZE * 2 + 5)]
        with store.begin() as conn:  # the entries as the code before 0031 appended them
            seq, prev = _lock_head(conn)
            rows = _chain([("decision", {"n": n}, who, "garde") for n, who in enumerate(named)], seq, prev,
                          "2026-12-01T00:00:00.000000Z")
            _insert_entries(conn, rows, {"new_seq": rows[-1][0], "new_hash": rows[-1][7]})
        migrate(store)
        with store.begin() as conn:
            assert audit.verify(conn).ok
            assert _entries_of(conn, "old-1") == [seq for seq, who in enumerate(named, 1) if who == "old-1"]
            audit.record(conn, "decision", {"after": True}, subject_id="old-2")
        with store.connect() as conn:
            assert audit.verify(conn).ok
            expected = [seq for seq, who in enumerate(named, 1) if who == "old-2"] + [len(named) + 1]
            assert _entries_of(conn, "old-2") == expected
        downgrade(store, "0030")
        assert "audit_runs" not in sa.inspect(store).get_table_names()
        with store.connect() as conn:
            assert [e["seq"] for e in audit.entries(conn)][-1] == len(named) + 1
        migrate(store)
    finally:
        store.dispose()


def test_verify_finds_a_run_row_deleted_or_altered(tmp_path: Path) -> None:
    """A subject's entries hidden from its access answer by deleting or changing their rows in the
    runs, or a run's range (the chain untouched), make ``verify`` fail; the runs as the appends built
    them pass. (Dropping the last runs hides nothing: their entries are read as the tail.)"""
    store = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(store)
    for batch in range(6):  # runs built at the appends that cross RUN_SIZE unindexed entries
        with store.begin() as conn:
            audit.record_many(conn, [audit.Event("decision", {"n": n}, f"s-{n % 7}")
                                     for n in range(batch * 500, (batch + 1) * 500)])
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_runs WHERE level >= 0")).scalar_one() >= 2
        assert audit.verify(conn).ok
    tampered = {
        "deleted": "DELETE FROM audit_subject_runs WHERE subject_id = 's-3'",
        "renamed": "UPDATE audit_subject_runs SET subject_id = 's-9' WHERE subject_id = 's-3'",
        "moved": "UPDATE audit_runs SET lo = lo + 5 WHERE id = (SELECT max(id) FROM audit_runs)",
        "run dropped": "DELETE FROM audit_runs WHERE id = (SELECT min(id) FROM audit_runs)",
    }
    for what, statement in tampered.items():
        with store.begin() as conn:
            saved = conn.execute(sa.text("SELECT id, level, lo, hi FROM audit_runs")).all()
            rows = conn.execute(sa.text("SELECT run, subject_id, seq FROM audit_subject_runs")).all()
            conn.execute(sa.text(statement))
        with store.connect() as conn:
            verdict = audit.verify(conn)
        assert not verdict.ok and "subject runs" in (verdict.reason or ""), what
        with store.begin() as conn:  # put back what was there
            conn.execute(sa.text("DELETE FROM audit_subject_runs"))
            conn.execute(sa.text("DELETE FROM audit_runs"))
            conn.execute(sa.text("INSERT INTO audit_runs VALUES (:id, :level, :lo, :hi)"),
                         [r._asdict() for r in saved])
            conn.execute(sa.text("INSERT INTO audit_subject_runs VALUES (:run, :subject_id, :seq)"),
                         [r._asdict() for r in rows])
        with store.connect() as conn:
            assert audit.verify(conn).ok, what
    store.dispose()


def test_entries_since_a_time_are_the_same_without_the_index_on_at(database_url: str) -> None:
    """Migration 0033 drops ``ix_audit_log_at`` on SQLite (the writer's row an entry less); the
    entries an export ``--since`` a time gives are the same before and after it, and back after the
    downgrade. PostgreSQL keeps the index."""
    store = connect(database_url, create=True)
    try:
        migrate(store, "0032")
        with store.begin() as conn:  # three appends, an hour apart, out of order in time on purpose
            for at in ("2026-12-01T10:00:00.000000Z", "2026-12-01T12:00:00.000000Z",
                       "2026-12-01T11:00:00.000000Z"):
                seq, prev = _lock_head(conn)
                rows = _chain([("decision", {"n": n}, f"s-{n}", "garde") for n in range(3)], seq, prev, at)
                _insert_entries(conn, rows, {"new_seq": rows[-1][0], "new_hash": rows[-1][7]})

        def since(moment: str) -> list[int]:
            with store.connect() as conn:
                return [entry["seq"] for entry in audit.entries(conn, since=moment)]

        def indexed() -> bool:
            return "ix_audit_log_at" in {i["name"] for i in sa.inspect(store).get_indexes("audit_log")}

        moments = ("2026-12-01T10:30:00Z", "2026-12-01T11:00:00.000000Z", "2026-12-02")
        before = [since(moment) for moment in moments]
        assert before == [[4, 5, 6, 7, 8, 9], [4, 5, 6, 7, 8, 9], []]
        migrate(store)
        assert indexed() is (store.dialect.name != "sqlite")
        assert [since(moment) for moment in moments] == before
        with store.connect() as conn:
            assert audit.verify(conn).ok
        downgrade(store, "0032")
        assert indexed()
        assert [since(moment) for moment in moments] == before
        migrate(store)
    finally:
        store.dispose()
