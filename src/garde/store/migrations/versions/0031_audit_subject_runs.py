"""The audit log's subject index on SQLite in sorted runs (:mod:`garde.audit.runs`).

On SQLite the index on ``audit_log.subject_id`` cost the audit writer a random page an entry
(18 – 34 µs of CPU an entry, growing with the log): it is dropped, and the existing log indexed as
one run, sorted; from then on the appends build and merge the runs. PostgreSQL keeps its index
(the tables are created there too, and stay empty). The chain is untouched: no entry changes.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("lo", sa.BigInteger, nullable=False),
        sa.Column("hi", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit_subject_runs",
        sa.Column("run", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    from garde.audit.runs import build_runs_sqlite

    head = bind.execute(sa.text("SELECT coalesce(max(seq), 0) FROM audit_log")).scalar_one()
    build_runs_sqlite(bind.connection.dbapi_connection, int(head), initial=True)
    op.drop_index("ix_audit_log_subject_id", table_name="audit_log")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_audit_log_subject_id", "audit_log", ["subject_id"])
    op.drop_table("audit_subject_runs")
    op.drop_table("audit_runs")
