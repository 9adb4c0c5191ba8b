"""The day's codes counted on the mailbox: an e-mail's sub-addresses (``name+tag@``) share one count.

Codes to one identity were counted by its keyed digest, and each sub-address of an inbox is its own
identity: ``ada+1@``, ``ada+2@``… each had five codes a day, a flood of code mails to one inbox. Each
code sent (``verification_sends``) and each session started (``subject_sessions``) now also keeps
``mailbox_hash``, the keyed digest of its address without the ``+tag`` (a phone's own digest), and the
limit counts those. Rows already stored take their identity's digest (the tag cannot be read back from
a digest): sends of the last 24 hours to other sub-addresses are counted apart until they age out.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

TABLES = ("verification_sends", "subject_sessions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("mailbox_hash", sa.String(64)))
        op.execute(f"UPDATE {table} SET mailbox_hash = identity_hash")
        op.create_index(f"ix_{table}_mailbox_hash", table, ["mailbox_hash"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_mailbox_hash", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("mailbox_hash")
