"""The audit log's subject index on SQLite, in sorted runs (migration 0031).

An index on ``audit_log.subject_id`` puts each decision's entry on a random leaf: every batch the
writer commits dirties about one page of it an entry, and SQLite writes each dirtied page whole
to its WAL (4 KB for one entry's ≈ 50 bytes), more as the log grows (18 – 20 µs of the writer's
CPU an entry on a small store, 34 µs at 1 M entries: docs/performance.md). So on SQLite the log's
rows carry no subject index; a subject's entries are found through **runs**:

- when :data:`RUN_SIZE` entries are unindexed, the append that reaches it (the head's lock held,
  in its own transaction) copies them as ``(run, subject_id, seq)`` rows into
  ``audit_subject_runs``, sorted: a new run's key is larger than every other, so its rows land on
  new pages at the end of the table, written once;
- :data:`FANOUT` runs of one level are merged into one run of the next level, a chunk of subjects
  at each run built (:data:`MERGED_A_RUN`), the merged runs then deleted a chunk at a time: no
  append waits for a whole level's copy. A log of N entries has about ``(FANOUT - 1)`` runs a level
  and ``log_FANOUT(N / RUN_SIZE)`` levels: 3 levels, at most ≈ 75 runs, at 10 M entries;
- a subject's entries are its rows in each run read (one seek a run, on the primary key) and the
  entries after the last run (fewer than :data:`RUN_SIZE` + an append), read by ``seq``.

Each entry is copied once a level and deleted from the level below, in sorted order by SQLite
itself: 1 – 3.5 µs of the writer's CPU an entry in all, where the random leaf cost 17 – 108 µs at
40 k – 10 M entries (docs/performance.md, "ninth pass"). PostgreSQL keeps its index on
``subject_id`` (its WAL logs a row's change, not the page): there ``audit_runs`` stays empty and
the tail is the whole log, read by that index.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from garde.audit.batches import WRITTEN, subjects_of
from garde.store import metadata

#: Entries a run of level 0 covers (at least: the append that reaches it indexes all it has). The
#: entries after the last run are read by a scan of their ``seq`` range: this bounds it (1,024: a
#: subject's read ≈ 0.1 – 0.3 ms at any length; 4,096 cost 0.7 ms at 1 M entries, load 9).
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


def _batch_table(cursor: Any) -> bool:
    """Whether the store has ``audit_batches`` (migration 0037; not in a store below it)."""
    return bool(cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_batches'")
                .fetchall())


def build_runs_sqlite(conn: Any, head: int, *, initial: bool = False, run_size: int = RUN_SIZE,
                      fanout: int = FANOUT, merged: int | None = None) -> int:
    """Index the entries up to ``head`` when a run's worth is unindexed, then merge full levels.

    ``conn``: a DB-API connection (or cursor) to a SQLite store, inside the transaction that moved
    the head to ``head`` (its write lock held). ``initial``: index whatever is unindexed, as one run
    of the highest level its size reaches (the migration, over an existing log). ``run_size`` and
    ``fanout``: :data:`RUN_SIZE` and :data:`FANOUT`, ``merged`` the merges' rows a run
    (``MERGED_A_RUN * run_size``): other values for the tests' small logs; any values find the same
    entries. Returns the rows of ``audit_subject_runs`` written or deleted."""
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
    batched = [] if initial or not _batch_table(cursor) else cursor.execute(  # none yet at 0031 (initial)
        "SELECT first_seq, hash FROM audit_batches WHERE first_seq > ? AND first_seq <= ?",
        (lo, head)).fetchall()
    if batched:  # the batches' subjects (as written, or decoded), with the rows', sorted here
        pairs = cursor.execute("SELECT subject_id, seq FROM audit_log WHERE seq > ? AND seq <= ? "
                               "AND subject_id IS NOT NULL", (lo, head)).fetchall()
        for first, digest in batched:
            known = WRITTEN.get(first)
            if known is not None and known[0] == digest:
                pairs.extend(known[1])
            else:
                ((body,),) = cursor.execute("SELECT body FROM audit_batches WHERE first_seq = ?",
                                            (first,)).fetchall()
                pairs.extend(subjects_of(body, int(first)))
        pairs.sort()
        cursor.executemany("INSERT INTO audit_subject_runs (run, subject_id, seq) VALUES (?, ?, ?)",
                           [(run, subject, seq) for subject, seq in pairs])
        written = len(pairs)
    else:
        cursor.execute("INSERT INTO audit_subject_runs (run, subject_id, seq) SELECT ?, subject_id, seq "
                       "FROM audit_log WHERE seq > ? AND seq <= ? AND subject_id IS NOT NULL "
                       "ORDER BY subject_id, seq", (run, lo, head))
        written = int(cursor.rowcount)
    if not initial:
        written += _merge(cursor, fanout, MERGED_A_RUN * run_size if merged is None else merged)
    return written


#: Rows a run's building may copy or delete (in runs of :data:`RUN_SIZE`): a merge is done a chunk
#: at a time, so that no append waits for a whole level's copy (1 M rows: ≈ 1.4 s of CPU, 2026-12-07).
#: The merges' work is ≈ 2 rows an entry a level (a copy, a delete): 16 keeps ahead of 3 levels.
MERGED_A_RUN = 16
_DEAD = -1  # a merged run's level once the merge is done: its rows deleted a chunk at a time


def _merge(cursor: Any, fanout: int, budget: int) -> int:
    """Up to about ``budget`` rows of the merges' work: the rows of runs already merged deleted, the
    run being built continued, or a new one begun from the first level that holds ``fanout`` runs.

    A run being built has level ``-1 - level`` (its level once done) and is not read; the runs it
    merges (every run of the level below older than it) are read until the chunk that ends it,
    which gives it its level and their level :data:`_DEAD`, in the same transaction: each entry is
    always in exactly one run that is read."""
    done = 0
    while done < budget:
        runs = cursor.execute("SELECT id, level FROM audit_runs WHERE level < 0 ORDER BY id").fetchall()
        dead = [run for run in runs if run[1] == _DEAD]
        building = [run for run in runs if run[1] < _DEAD]
        if dead:
            done += _delete_chunk(cursor, dead[0][0], budget - done)
        elif building:
            done += _copy_chunk(cursor, building[0][0], _DEAD - building[0][1], budget - done)
        else:
            full = cursor.execute("SELECT level, min(lo), max(hi) FROM audit_runs WHERE level >= 0 "
                                  "GROUP BY level HAVING count(*) >= ? ORDER BY level LIMIT 1",
                                  (fanout,)).fetchall()
            if not full:
                break
            ((level, lo, hi),) = full
            cursor.execute("INSERT INTO audit_runs (level, lo, hi) VALUES (?, ?, ?)",
                           (_DEAD - level - 1, lo, hi))
    return done


def _chunk_end(cursor: Any, run: int, after: str | None, rows: int) -> str | None:
    """The subject ``rows`` rows of ``run`` past ``after`` (None: its first), None past its end."""
    past = ">" if after is not None else ">="
    found = cursor.execute(f"SELECT subject_id FROM audit_subject_runs WHERE run = ? AND subject_id {past} ? "
                           "ORDER BY subject_id LIMIT 1 OFFSET ?", (run, after or "", rows)).fetchall()
    return str(found[0][0]) if found else None


def _copy_chunk(cursor: Any, building: int, level: int, budget: int) -> int:
    """The next subjects' rows of the runs ``building`` merges (those of ``level - 1`` older than it),
    copied in order; at the end, ``building`` takes ``level`` and its sources die."""
    sources = cursor.execute("SELECT id, hi - lo FROM audit_runs WHERE level = ? AND id < ? ORDER BY id",
                             (level - 1, building)).fetchall()
    ((after,),) = cursor.execute("SELECT max(subject_id) FROM audit_subject_runs WHERE run = ?",
                                 (building,)).fetchall()
    biggest, size = max(sources, key=lambda source: int(source[1]))
    total = sum(int(source[1]) for source in sources) or 1
    end = _chunk_end(cursor, biggest, after, max(1, budget * max(1, int(size)) // total))
    marks = ", ".join("?" * len(sources))
    past = ">" if after is not None else ">="
    bounds = (after or "",) if end is None else (after or "", end)
    cursor.execute("INSERT INTO audit_subject_runs (run, subject_id, seq) SELECT ?, subject_id, seq "
                   f"FROM audit_subject_runs WHERE run IN ({marks}) AND subject_id {past} ? "
                   f"{'' if end is None else 'AND subject_id <= ? '}ORDER BY subject_id, seq",
                   (building, *(source[0] for source in sources), *bounds))
    copied = max(1, int(cursor.rowcount))
    if end is None:
        cursor.execute("UPDATE audit_runs SET level = ? WHERE id = ?", (level, building))
        cursor.executemany("UPDATE audit_runs SET level = ? WHERE id = ?",
                           [(_DEAD, source[0]) for source in sources])
    return copied


def _delete_chunk(cursor: Any, dead: int, budget: int) -> int:
    """The first ``budget`` rows (or so: whole subjects) of the merged run ``dead`` deleted; the run
    itself when none is left."""
    end = _chunk_end(cursor, dead, None, budget)
    if end is None:
        cursor.execute("DELETE FROM audit_subject_runs WHERE run = ?", (dead,))
        deleted = int(cursor.rowcount)
        cursor.execute("DELETE FROM audit_runs WHERE id = ?", (dead,))
        return max(1, deleted)
    cursor.execute("DELETE FROM audit_subject_runs WHERE run = ? AND subject_id < ?", (dead, end))
    return max(1, int(cursor.rowcount))


def subject_seqs_sql(subject: str) -> str:
    """SQL of the ``seq`` of a subject's entries (``subject``: the SQL expression, a parameter or
    a subquery's column): its rows in every run, then the unindexed tail's."""
    return (f"SELECT seq FROM audit_subject_runs WHERE run IN (SELECT id FROM audit_runs WHERE level >= 0) "
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
    seqs = sa.union_all(sa.select(rows.seq).where(rows.run.in_(sa.select(runs.id).where(runs.level >= 0)),
                                                  naming(rows.subject_id)),
                        sa.select(tail.seq).where(tail.seq > frontier, naming(tail.subject_id)))
    condition: sa.ColumnElement[bool] = log.c.seq.in_(seqs)
    return condition
