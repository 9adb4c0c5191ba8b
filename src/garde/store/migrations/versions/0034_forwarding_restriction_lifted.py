"""A client controller's instructed restriction may be lifted (GDPR Art. 18(3), 28(3)(a)): when
and on whose instruction, on the request's forwarding (``request_forwardings``).

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("request_forwardings", sa.Column("lifted_at", sa.DateTime(timezone=True)))
    op.add_column("request_forwardings", sa.Column("lift_instruction", sa.Text))
    op.add_column("request_forwardings", sa.Column("lifted_by", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("request_forwardings") as table:
        table.drop_column("lifted_by")
        table.drop_column("lift_instruction")
        table.drop_column("lifted_at")
