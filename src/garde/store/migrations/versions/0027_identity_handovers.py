"""When an e-mail or phone last changed hands in garde's store, so that a request nobody proved is
listed only to whoever held the value when it was made.

A rectification unlinks the subject's old value and links the new one (0026's session). A request
never verified is listed by the identity it named: without a date to compare with, the next holder of
a recycled address saw the former holder's unproven requests (type, status, dates), and the subject
given a recycled address saw its former holder's. ``identity_handovers`` holds, per keyed digest, the
last moment a rectification moved it to or away from a subject.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_handovers",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_handovers")
