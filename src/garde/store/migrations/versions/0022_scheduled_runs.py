"""What scheduled work has done (garde.store.scheduled_runs): one row per (work, day, state).

Revision ID: 0022
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("work", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("work", "day", "state", name="pk_scheduled_runs"),
    )


def downgrade() -> None:
    op.drop_table("scheduled_runs")
