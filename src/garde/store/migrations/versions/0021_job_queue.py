"""The job queue's schema (procrastinate's), on PostgreSQL only: on SQLite jobs run inline.

Revision ID: 0021
Revises: 0019

A procrastinate upgrade adds its own migration the same way: see ``garde.jobs.schema``.
"""

from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from garde.jobs.schema import apply_queue_schema

        apply_queue_schema(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from garde.jobs.schema import drop_queue_schema

        drop_queue_schema(op.get_bind())
