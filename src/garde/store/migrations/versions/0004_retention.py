"""Retention runs (issue: retention enforcement).

A run evaluates the retention predicates against one fixed day, so a resumed
run sees exactly the due set it started with. Its batches are the journal:
each batch of primary keys is written (with its audit entry) and committed
in the store *before* it is applied to the business database, then marked
done, so an interrupted run resumes without loss or double work.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("today", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("batch_size", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("resumed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.Text),
    )
    op.create_index("ix_retention_runs_status", "retention_runs", ["status"])
    op.create_table(
        "retention_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("retention_runs.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("database", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("keys", sa.Text, nullable=False),
        sa.Column("last_key", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("affected", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("run_id", "database", "table_name", "operation", "seq",
                            name="uq_retention_batches_step"),
    )
    op.create_index("ix_retention_batches_run_id", "retention_batches", ["run_id", "status"])


def downgrade() -> None:
    op.drop_table("retention_batches")
    op.drop_table("retention_runs")
