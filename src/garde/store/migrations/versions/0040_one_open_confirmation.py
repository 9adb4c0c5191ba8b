"""One open consent confirmation per identity, activity and channel, said by the store.

``uq_consent_confirmations_open``: a unique index on (kind, hash, activity, channel or ``''``) of
the confirmations not answered yet. :func:`garde.consent.confirmations.ask` inserts or does nothing
by it, where it read then inserted: two consent calls at once for one unchecked identity both read
"none open" and both inserted, so its holder got two invitations (red team of 2026-12-07, red29).
Open confirmations that such a race doubled before are reduced to one (the one with the smallest id)
before the index is made.

Revision ID: 0040
Revises: 0039
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

_OPEN = "answered_at IS NULL"


def upgrade() -> None:
    op.execute(
        "DELETE FROM consent_confirmations WHERE answered_at IS NULL AND id NOT IN ("
        " SELECT MIN(id) FROM consent_confirmations WHERE answered_at IS NULL"
        " GROUP BY kind, hash, activity, COALESCE(channel, ''))")
    op.create_index("uq_consent_confirmations_open", "consent_confirmations",
                    ["kind", "hash", "activity", sa.text("coalesce(channel, '')")], unique=True,
                    sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))


def downgrade() -> None:
    op.drop_index("uq_consent_confirmations_open", "consent_confirmations")
