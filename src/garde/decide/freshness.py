"""Counters of what decisions read, by bucket of subjects, so a decision point may keep facts.

``decide_facts_buckets`` holds one counter per bucket: ``s`` and the last three characters of a
subject's id (:func:`subject_bucket`), ``i`` and the last three of an identifier's digest
(:func:`identity_bucket`). On SQLite and PostgreSQL, triggers on every table a decision reads
(subjects, their identifiers and objections, the suppression list, the consent ledger) add one
to the buckets of each row written, in the same transaction as the write, whoever writes: this
process or another, garde or plain SQL (migration 0020). A suppression also counts in the
buckets of the subjects holding the identifier; a ``TRUNCATE`` (PostgreSQL) in every bucket.
On PostgreSQL the rows' buckets are noted as they are written and counted at commit, each
bucket once, in the buckets' order (migration 0024): a transaction writing many subjects holds
no bucket row while it works, and two of them writing the same subjects in other orders cannot
deadlock on the counters.

A :class:`garde.decide.DecisionPoint` keeps a subject's facts with the sum of its buckets'
counters, read in the same statement as the facts (one snapshot); before using them again it
reads that sum (:func:`stamp_sql`: one indexed read of one to a few rows). Counters only grow, so
an unchanged sum means no write to those buckets committed in between: a consent withdrawn by any
connection, in any process, is seen by the next decision that starts after its commit. A write
about one subject leaves what is kept of the others (in other buckets) in place, and on
PostgreSQL a writer locks its buckets' rows only, not one row every writer shares. The audit log
is not among those tables: its appends count nowhere.
"""

from __future__ import annotations

import sqlalchemy as sa

from garde.store import metadata

facts_buckets = sa.Table(
    "decide_facts_buckets",
    metadata,
    sa.Column("bucket", sa.String(8), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

#: The tables a decision reads (garde.decide.point's facts statement).
FACT_TABLES = ("subjects", "subject_identifiers", "subject_objections", "suppression_list", "consent_events")
_OPERATIONS = ("insert", "update", "delete")
#: The triggers that keep the counters (made by migration 0020), by dialect.
TRIGGERS = {
    "sqlite": tuple(f"decide_buckets_{table}_{operation}"
                    for table in FACT_TABLES for operation in _OPERATIONS),
    "postgresql": tuple(name for table in FACT_TABLES for name in (
        f"decide_buckets_{table}", f"decide_buckets_{table}_flush", f"decide_buckets_{table}_truncate")),
}
_LISTED = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'decide_buckets_%'",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'decide_buckets_%' AND tgenabled <> 'D'",
}
#: A bucket's tail: the last characters of a subject id or of an identifier's digest (4,096
#: buckets of each for hexadecimal ids and digests).
TAIL = 3


def subject_bucket(subject_id: str) -> str:
    return "s" + subject_id[-TAIL:]


def identity_bucket(digest: str) -> str:
    return "i" + digest[-TAIL:]


def subject_bucket_sql(dialect: str, column: str) -> str:
    """:func:`subject_bucket` of a SQL expression, in ``dialect``."""
    tail = f"substr({column}, -{TAIL})" if dialect == "sqlite" else f"right({column}, {TAIL})"
    return f"('s' || {tail})"


def sum_sql(buckets: str) -> str:
    """The sum of the counters of ``buckets`` (a SQL list), 0 when none was ever written."""
    return (f"(SELECT CAST(coalesce(sum(version), 0) AS BIGINT) FROM decide_facts_buckets "
            f"WHERE bucket IN ({buckets}))")


def kept_in_step(conn: sa.Connection) -> bool:
    """Whether this store keeps the counters in step with every write (migrated to 0020, every
    trigger present and enabled): only then may a decision point keep facts between calls."""
    dialect = conn.dialect.name
    if dialect not in TRIGGERS:
        return False
    names = {row[0] for row in conn.execute(sa.text(_LISTED[dialect]))}
    if not set(TRIGGERS[dialect]) <= names:
        return False
    return sa.inspect(conn).has_table("decide_facts_buckets")
