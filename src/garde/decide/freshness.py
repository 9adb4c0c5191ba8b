"""The version of what decisions read, so a decision point may keep facts in memory.

``decide_facts_version`` holds one counter. On SQLite, triggers on every
table a decision reads (subjects, their identifiers and objections, the
suppression list, the consent ledger) add one to it in the same
transaction as the write, whoever writes: this process or another, garde
or plain SQL. A :class:`garde.decide.DecisionPoint` reads the counter
before each decision (one indexed read of one row, ≈ 3 µs) and drops what
it keeps as soon as the counter moves: a consent withdrawn by any
connection is seen by the next decision that starts after its commit.
The audit log is not among those tables: its appends do not empty the
cache.

On PostgreSQL the counter is not kept: reading it would cost the same round
trip as reading the facts themselves, so a decision point there reads the
facts for each decision, as before.
"""

from __future__ import annotations

import sqlalchemy as sa

from garde.store import metadata

facts_version = sa.Table(
    "decide_facts_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

#: The tables a decision reads (garde.decide.point's facts statement).
FACT_TABLES = ("subjects", "subject_identifiers", "subject_objections", "suppression_list", "consent_events")
_OPERATIONS = ("insert", "update", "delete")
#: The triggers that keep the counter (made by migration 0019 on SQLite; ≈ 1 µs per row written).
TRIGGERS = tuple(f"decide_facts_{table}_{operation}" for table in FACT_TABLES for operation in _OPERATIONS)

VERSION_SQL = "SELECT version FROM decide_facts_version WHERE id = 1"


def kept_in_step(conn: sa.Connection) -> bool:
    """Whether this store keeps the counter in step with every write (SQLite, migrated, the counter
    row and all its triggers present): only then may a decision point keep facts between calls."""
    if conn.dialect.name != "sqlite":
        return False
    names = {row[0] for row in conn.execute(sa.text(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'decide_facts_%'"))}
    if not set(TRIGGERS) <= names:
        return False
    return conn.execute(sa.text(VERSION_SQL)).first() is not None
