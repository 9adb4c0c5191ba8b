"""Register versions: the last recorded hash of each enforced register.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_versions",
        sa.Column("source", sa.String(500), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("activities", sa.Text, nullable=False),
        sa.Column("audit_seq", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("register_versions")
