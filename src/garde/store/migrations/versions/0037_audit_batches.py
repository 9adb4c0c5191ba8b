"""Decision batches as one row of the audit log (:mod:`garde.audit.batches`, issue 14).

``audit_batches`` holds the audit writer's decision entries, at most 128 a row, in the same
sequence and the same hash chain as ``audit_log`` (a link's ``prev_hash`` is the hash of the link
before it, a row's or a batch's). ``audit_batch_subjects`` indexes their subjects on PostgreSQL
(SQLite indexes them in its subject runs, and leaves it empty). Nothing is rewritten: the rows
written before stay rows, and verify the same.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_batches",
        sa.Column("first_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("seal", sa.String(128)),
    )
    op.create_table(
        "audit_batch_subjects",
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    # the batches' entries would be lost: a log holding any cannot go back to rows only
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_batches LIMIT 1")).first() is not None:
        raise RuntimeError("the audit log holds decision batches: downgrading would lose their entries")
    op.drop_table("audit_batch_subjects")
    op.drop_table("audit_batches")
