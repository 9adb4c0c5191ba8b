"""The audit log's index on ``at`` dropped on SQLite.

Every entry the audit writer appends was also a row of ``ix_audit_log_at``: 0.6 – 0.9 µs of the
writer's CPU an entry on SQLite (docs/performance.md, 2026-12-07), for one reader only, ``garde
audit export --since``, which now reads the log in order and keeps the entries from that time
(the same entries; an export, not a hot path). Exports resume by sequence number (``after``), read
by the primary key. PostgreSQL keeps the index (its cost is the server's, not the writer's). No
entry changes: the chain is untouched.

Revision ID: 0033
Revises: 0032
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_audit_log_at", table_name="audit_log")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_audit_log_at", "audit_log", ["at"])
