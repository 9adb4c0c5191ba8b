"""What a request found of data held as a processor, per client controller (GDPR Art. 28(3)(e)).

A request that reaches data the organisation processes on behalf of another controller does not
answer or erase it as its own: it records here, per controller named in ``on_behalf_of``, the
rows found, then when the DPO forwarded the request and the controller's instruction to erase.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_forwardings",
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("controller", sa.String(256), primary_key=True),
        sa.Column("found", sa.Text, nullable=False),
        sa.Column("keys", sa.Text, nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True)),
        sa.Column("forwarded_by", sa.String(128)),
        sa.Column("forward_note", sa.Text),
        sa.Column("instruction", sa.Text),
        sa.Column("instructed_by", sa.Text),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.Column("erasure", sa.Text),
    )
    op.create_index("ix_request_forwardings_noted_at", "request_forwardings", ["noted_at"])


def downgrade() -> None:
    op.drop_index("ix_request_forwardings_noted_at", "request_forwardings")
    op.drop_table("request_forwardings")
