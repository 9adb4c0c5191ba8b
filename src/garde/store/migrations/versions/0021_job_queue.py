"""The job queue's schema (procrastinate's), on PostgreSQL only: on SQLite jobs run inline; and
``job_staging``, the encrypted files handed to a worker (garde.jobs.staging).

Revision ID: 0021
Revises: 0019

A procrastinate upgrade adds its own migration the same way: see ``garde.jobs.schema``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_staging",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("staged", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("chunk", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_job_staging_staged", "job_staging", ["staged"])
    if op.get_bind().dialect.name == "postgresql":
        from garde.jobs.schema import apply_queue_schema

        apply_queue_schema(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from garde.jobs.schema import drop_queue_schema

        drop_queue_schema(op.get_bind())
    op.drop_index("ix_job_staging_staged", "job_staging")
    op.drop_table("job_staging")
