"""Audit seals: the HMAC of the audit key on the last entry of each append.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: the log is not copied, whatever its size.
    op.add_column("audit_log", sa.Column("seal", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as table:
        table.drop_column("seal")
