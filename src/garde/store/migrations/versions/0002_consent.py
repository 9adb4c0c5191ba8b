"""Consent ledger (issue: consent, decisions and audit).

Append-only consent events; the current state is derived from them. The
unique ``source_key`` makes a re-run import add nothing.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("activity", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("notice_version", sa.String(64)),
        sa.Column("ip_hash", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("source_key", sa.String(64), unique=True),
    )
    op.create_index("ix_consent_events_subject_id_activity", "consent_events", ["subject_id", "activity"])
    op.create_index("ix_consent_events_activity_channel", "consent_events", ["activity", "channel"])


def downgrade() -> None:
    op.drop_table("consent_events")
