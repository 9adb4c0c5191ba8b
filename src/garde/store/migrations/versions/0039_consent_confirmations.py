"""Consents asked for identities the shop did not check wait for their holder's confirmation.

``consent_confirmations``: a consent the consent API received for an identity the shop did not
check (its kind and keyed digest, the activity and channel, the key that asked, until when it is
open, and the consent event its holder gave in the privacy center, once given). garde records
nothing for that identity until then (docs/security.md, *A consent is the person's own*).

Revision ID: 0039
Revises: 0038
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_confirmations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("activity", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("event_id", sa.String(32)),
    )
    op.create_index("ix_consent_confirmations_hash", "consent_confirmations", ["hash"])
    op.create_index("ix_consent_confirmations_expires_at", "consent_confirmations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_consent_confirmations_expires_at", "consent_confirmations")
    op.drop_index("ix_consent_confirmations_hash", "consent_confirmations")
    op.drop_table("consent_confirmations")
