"""The audit log's subject index on SQLite, in sorted runs (migration 0029).

An index on ``audit_log.subject_id`` puts each decision's entry on a random leaf: every batch the
writer commits dirties about one page of it an entry, and SQLite writes each dirtied page whole
to its WAL (4 KB for one entry's ≈ 50 bytes), more as the log grows (18 – 20 µs of the writer's
CPU an entry on a small store, 34 µs at 1 M entries: docs/performance.md). So on SQLite the log's
rows carry no subject index; a subject's entries are found through **runs**:

- every :data:`RUN_SIZE` entries, the append that fills a run (the head's lock held, in its own
  transaction) copies the entries since the last run as ``(run, subject_id, seq)`` rows into
  ``audit_subject_runs``, sorted: a new run's key is larger than every other, so its rows land on
  new pages at the end of the table, a few dozen of them, written once;
- :data:`FANOUT` runs of one level are merged into one run of the next level (the same sorted
  copy, then the old runs deleted), so a log of N entries has at most ``(FANOUT - 1)`` runs a
  level and ``log_FANOUT(N / RUN_SIZE)`` levels: 3 levels, ≤ 45 runs, at 10 M entries;
- a subject's entries are its rows in each run (one seek a run, on the primary key) and the
  entries after the last run (fewer than :data:`RUN_SIZE` + a batch), read by ``seq``.

Each entry is copied once a level (≈ 4 times at 10 M entries), in sorted order by SQLite itself:
≈ 1 µs of the writer's CPU an entry in all, against ≈ 12 – 28 µs for the random leaf.
PostgreSQL keeps its index on ``subject_id`` (its WAL logs a row's change, not the page): there
``audit_runs`` stays empty and the tail is the whole log, read through that index.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from garde.store import metadata

#: Entries a run of level 0 covers (at least: the append that reaches it indexes all it has). The
#: entries after the last run are read by a scan of their ``seq`` range: this bounds it.
RUN_SIZE = 1024
#: Runs of one level merged into one run of the next.
FANOUT = 32


#: The runs: a run of ``level`` holds the subject entries of ``seq`` in (``lo``, ``hi``].
audit_runs = sa.Table(
    "audit_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("lo", sa.BigInteger, nullable=False),
    sa.Column("hi", sa.BigInteger, nullable=False),
)

#: A run's rows, one an entry naming a subject, in the order of its primary key (SQLite: WITHOUT
#: ROWID, the key is the table's B-tree: a run's rows are contiguous on its pages).
audit_subject_runs = sa.Table(
    "audit_subject_runs",
    metadata,
    sa.Column("run", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("subject_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)


def _frontier(cursor: Any) -> int:
    ((frontier,),) = cursor.execute("SELECT coalesce(max(hi), 0) FROM audit_runs").fetchall()
    return int(frontier)


def build_runs_sqlite(conn: Any, head: int, *, initial: bool = False, run_size: int = RUN_SIZE,
                      fanout: int = FANOUT) -> int:
    """Index the entries up to ``head`` when a run's worth is unindexed, then merge full levels.

    ``conn``: a DB-API connection (or cursor) to a SQLite store, inside the transaction that moved
    the head to ``head`` (its write lock held). ``initial``: index whatever is unindexed, as one run
    of the highest level its size reaches (the migration, over an existing log). ``run_size`` and
    ``fanout``: :data:`RUN_SIZE` and :data:`FANOUT` (other values for the tests' small logs; any
    values find the same entries). Returns the rows written to ``audit_subject_runs``."""
    cursor = conn.cursor() if hasattr(conn, "cursor") else conn
    lo = _frontier(cursor)
    if head - lo < (1 if initial else run_size):
        return 0
    level = 0
    if initial:
        while run_size * fanout ** (level + 1) <= head - lo:
            level += 1
    cursor.execute("INSERT INTO audit_runs (level, lo, hi) VALUES (?, ?, ?)", (level, lo, head))
    run = cursor.lastrowid
    cursor.execute("INSERT INTO audit_subject_runs (run, subject_id, seq) SELECT ?, subject_id, seq "
                   "FROM audit_log WHERE seq > ? AND seq <= ? AND subject_id IS NOT NULL "
                   "ORDER BY subject_id, seq", (run, lo, head))
    written = int(cursor.rowcount)
    while True:
        runs = cursor.execute("SELECT id, lo, hi FROM audit_runs WHERE level = ? ORDER BY id",
                              (level,)).fetchall()
        if len(runs) < fanout:
            return written
        written += _merge(cursor, level, runs)
        level += 1


def _merge(cursor: Any, level: int, runs: list[tuple[int, int, int]]) -> int:
    """One run of ``level + 1`` holding the rows of ``runs`` (consecutive: a level's runs are the
    entries between the older levels' runs and the younger ones'), then ``runs`` deleted."""
    cursor.execute("INSERT INTO audit_runs (level, lo, hi) VALUES (?, ?, ?)",
                   (level + 1, min(r[1] for r in runs), max(r[2] for r in runs)))
    merged = cursor.lastrowid
    marks = ", ".join("?" * len(runs))
    cursor.execute("INSERT INTO audit_subject_runs (run, subject_id, seq) SELECT ?, subject_id, seq "
                   f"FROM audit_subject_runs WHERE run IN ({marks}) ORDER BY subject_id, seq",
                   (merged, *(r[0] for r in runs)))
    written = int(cursor.rowcount)
    ids = [(r[0],) for r in runs]
    cursor.executemany("DELETE FROM audit_subject_runs WHERE run = ?", ids)
    cursor.executemany("DELETE FROM audit_runs WHERE id = ?", ids)
    return written


def subject_seqs_sql(subject: str) -> str:
    """SQL of the ``seq`` of a subject's entries (``subject``: the SQL expression, a parameter or
    a subquery's column): its rows in every run, then the unindexed tail's."""
    return (f"SELECT seq FROM audit_subject_runs WHERE run IN (SELECT id FROM audit_runs) "
            f"AND subject_id = {subject} UNION ALL SELECT seq FROM audit_log "
            f"WHERE seq > (SELECT coalesce(max(hi), 0) FROM audit_runs) AND subject_id = {subject}")


def about_subjects(dialect: str, subjects: Any) -> sa.ColumnElement[bool]:
    """The condition on ``audit_log`` of the entries naming one of ``subjects`` (a SQL expression of
    one subject id, or a subquery of them), for a store of ``dialect``: on SQLite, their ``seq``
    found in the runs and the unindexed tail (:func:`subject_seqs_sql`); elsewhere, by the log's own
    index on ``subject_id``."""
    log = metadata.tables["audit_log"]

    def naming(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        if isinstance(subjects, sa.ScalarSelect | sa.Select | sa.CompoundSelect):
            return column.in_(subjects)
        named: sa.ColumnElement[bool] = column == subjects
        return named

    if dialect != "sqlite":
        return naming(log.c.subject_id)
    runs, rows, tail = audit_runs.c, audit_subject_runs.c, log.alias("tail").c
    frontier = sa.select(sa.func.coalesce(sa.func.max(runs.hi), 0)).scalar_subquery()
    seqs = sa.union_all(sa.select(rows.seq).where(rows.run.in_(sa.select(runs.id)), naming(rows.subject_id)),
                        sa.select(tail.seq).where(tail.seq > frontier, naming(tail.subject_id)))
    condition: sa.ColumnElement[bool] = log.c.seq.in_(seqs)
    return condition
