"""Data-subject requests (issue: data map and requests).

Requests and their timestamped steps, one-time verification codes (only a
hash is kept) and erasure plans (what will be erased, written before it is).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(36)),
        sa.Column("identities", sa.Text),
        sa.Column("identity_hashes", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("extended_deadline", sa.Date),
        sa.Column("extension_reason", sa.Text),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("verification", sa.String(16)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("rejected_at", sa.DateTime(timezone=True)),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("result", sa.Text),
    )
    op.create_index("ix_requests_status", "requests", ["status"])
    op.create_index("ix_requests_subject_id", "requests", ["subject_id"])
    op.create_table(
        "request_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_request_steps_request_id", "request_steps", ["request_id"])
    op.create_table(
        "verification_codes",
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "erasure_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("keys", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_erasure_steps_request_id", "erasure_steps", ["request_id"])


def downgrade() -> None:
    for table in ("erasure_steps", "verification_codes", "request_steps", "requests"):
        op.drop_table(table)
