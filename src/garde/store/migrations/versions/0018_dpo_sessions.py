"""Sessions of the DPO dashboard: the SHA-256 of each session id, its key and its end.

Revision ID: 0018
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dpo_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(16),
                  sa.ForeignKey("api_keys.id", name="fk_dpo_sessions_key_id_api_keys"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dpo_sessions")
