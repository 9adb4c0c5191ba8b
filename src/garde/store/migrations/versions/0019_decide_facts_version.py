"""A counter of the writes decisions read, kept by triggers on SQLite (garde.decide.freshness).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# the tables decide() reads; written out here, not imported: a migration does not change with the code
FACT_TABLES = ("subjects", "subject_identifiers", "subject_objections", "suppression_list", "consent_events")
OPERATIONS = ("insert", "update", "delete")


def upgrade() -> None:
    table = op.create_table(
        "decide_facts_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])
    if op.get_bind().dialect.name == "sqlite":
        for name, fact_table, operation in _triggers():
            op.execute(f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {fact_table} "
                       "BEGIN UPDATE decide_facts_version SET version = version + 1 WHERE id = 1; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, _table, _operation in _triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("decide_facts_version")


def _triggers() -> list[tuple[str, str, str]]:
    return [(f"decide_facts_{table}_{operation}", table, operation)
            for table in FACT_TABLES for operation in OPERATIONS]
